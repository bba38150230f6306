import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { AccessPolicy } from './access-policy.service';
import { AdminController } from './admin.controller';
import { AuthAudit } from './auth-audit';
import { AuthController } from './auth.controller';
import { CredentialsService } from './credentials.service';
import { KeyRingService } from './key-ring.service';
import { PermissionService } from './permission.service';
import { PrincipalService } from './principal.service';
import { RegistryAuthGuard } from './registry-auth.guard';
import { RegistryJwtStrategy } from './registry-jwt.strategy';
import { TokenService } from './token.service';

/** First start with authentication on: create the first administrator, show a generated password once. */
@Injectable()
class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly principals: PrincipalService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.auth.mode !== 'token') return;
    const created = await this.principals.bootstrapAdmin();
    if (!created) return;
    if (created.generatedPassword) {
      // Shown once, on the terminal only: never written to the structured log.
      process.stdout.write(
        `\nBerth registry: created administrator "${created.name}" with password ${created.generatedPassword}\n` +
          `(shown once; set REGISTRY_ADMIN_PASSWORD to choose it)\n\n`,
      );
    }
    this.logger.log(`created the first administrator "${created.name}"`);
  }
}

@Global()
@Module({
  imports: [PassportModule],
  controllers: [AuthController, AdminController],
  providers: [
    KeyRingService,
    PrincipalService,
    PermissionService,
    TokenService,
    CredentialsService,
    AuthAudit,
    AccessPolicy,
    RegistryJwtStrategy,
    AdminBootstrap,
    { provide: APP_GUARD, useClass: RegistryAuthGuard },
  ],
  exports: [AccessPolicy, PermissionService, PrincipalService, AuthAudit],
})
export class AuthModule {}
