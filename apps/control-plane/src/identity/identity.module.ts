import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { join } from 'node:path';
import { CONTROL_PLANE_CONFIG } from '../config/config.tokens';
import type { ControlPlaneConfig } from '../config/control-plane-config';
import { OrgsModule } from '../orgs/orgs.module';
import { AccessGuard } from './access.guard';
import { IdentityController } from './identity.controller';
import { IdentityService } from './identity.service';
import { SESSION_KEYS, loadOrCreateSecret, type SessionKeys } from './session-keys';
import { SessionStrategy } from './session.strategy';

/** Accounts, sessions, API keys, and the global access guard of the REST API. */
@Module({
  imports: [PassportModule, OrgsModule],
  controllers: [IdentityController],
  providers: [
    IdentityService,
    SessionStrategy,
    {
      provide: SESSION_KEYS,
      inject: [CONTROL_PLANE_CONFIG],
      useFactory: async (config: ControlPlaneConfig): Promise<SessionKeys> => ({
        secret: await loadOrCreateSecret(
          config.sessionSecret,
          join(config.dataDir, 'control-plane', 'session.secret'),
          48,
        ),
        accessTtlSeconds: config.accessTokenTtlSeconds,
        refreshTtlSeconds: config.refreshTokenTtlSeconds,
      }),
    },
    { provide: APP_GUARD, useClass: AccessGuard },
  ],
  exports: [IdentityService],
})
export class IdentityModule {}
