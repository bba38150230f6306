import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueModule, createQueueDriver } from '@berth/queue';
import { BillingModule } from './billing/billing.module';
import { IdempotencyInterceptor } from './common/idempotency.interceptor';
import { ProblemFilter } from './common/problem';
import { SECRET_BOX, SecretBox } from './common/secret-box';
import { CONTROL_PLANE_CONFIG } from './config/config.tokens';
import type { ControlPlaneConfig } from './config/control-plane-config';
import { controlPlaneDataSourceOptions } from './database/control-plane-data-source';
import { HealthController } from './health.controller';
import { IdentityModule } from './identity/identity.module';
import { NotificationsModule } from './notifications/notifications.module';
import { OrgsModule } from './orgs/orgs.module';
import { RegistriesModule } from './registries/registries.module';
import { CONTROL_PLANE_JOBS } from './registries/registry-jobs';
import { RuntimeModule } from './runtime/runtime.module';
import { TiersModule } from './tiers/tiers.module';

/** The resolved configuration and the key of the secret box, made global. */
@Global()
@Module({})
class CoreModule {
  static forRoot(config: ControlPlaneConfig, secretKey: Buffer): DynamicModule {
    return {
      module: CoreModule,
      providers: [
        { provide: CONTROL_PLANE_CONFIG, useValue: config },
        { provide: SECRET_BOX, useValue: new SecretBox(secretKey) },
      ],
      exports: [CONTROL_PLANE_CONFIG, SECRET_BOX],
    };
  }
}

/** The control plane: one NestJS module per bounded context. */
@Module({})
export class ControlPlaneModule {
  static forRoot(config: ControlPlaneConfig, secretKey: Buffer): DynamicModule {
    const databaseUrl = config.databaseUrl;
    if (!databaseUrl) throw new Error('database URL not resolved');
    return {
      module: ControlPlaneModule,
      imports: [
        CoreModule.forRoot(config, secretKey),
        TypeOrmModule.forRoot({
          ...controlPlaneDataSourceOptions(databaseUrl),
          retryAttempts: 3,
          retryDelay: 1000,
        }),
        QueueModule.forRootAsync({
          useFactory: async () => {
            return {
              driver: await createQueueDriver({
                redisUrl: config.redisUrl,
                prefix: config.queuePrefix,
              }),
              jobs: CONTROL_PLANE_JOBS,
              role: 'all',
            };
          },
        }),
        RuntimeModule,
        TiersModule,
        NotificationsModule,
        OrgsModule,
        IdentityModule,
        RegistriesModule,
        BillingModule,
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
      ],
    };
  }
}
