import { Global, Module, type DynamicModule } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { REGISTRY_CONFIG } from './config/config.tokens';
import type { RegistryConfig } from './config/registry-config';
import { AuditModule } from './audit/audit.module';
import { DatabaseModule } from './database/database.module';
import { DistributionModule } from './distribution/distribution.module';
import { GcModule } from './gc/gc.module';
import { HealthModule } from './health/health.module';
import { JobsModule } from './jobs/jobs.module';
import { RetentionModule } from './retention/retention.module';
import { UsageModule } from './usage/usage.module';
import { WriteGateModule } from './write-gate/write-gate.module';
import { EgressModule } from './egress/egress.module';
import { ImmutabilityModule } from './immutability/immutability.module';
import { ObservabilityModule } from './observability/observability.module';
import { OpenApiModule } from './openapi/openapi.module';
import { StorageModule, type StorageDecorator } from './storage/storage.module';

@Global()
@Module({})
class ConfigModule {
  static forRoot(config: RegistryConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: REGISTRY_CONFIG, useValue: config }],
      exports: [REGISTRY_CONFIG],
    };
  }
}

export interface RegistryModuleOptions {
  decorateStorage?: StorageDecorator;
}

/** The data plane of one registry (tenant). */
@Module({})
export class RegistryModule {
  static forRoot(config: RegistryConfig, options: RegistryModuleOptions = {}): DynamicModule {
    return {
      module: RegistryModule,
      imports: [
        ConfigModule.forRoot(config),
        ObservabilityModule,
        DatabaseModule,
        StorageModule.forRoot(options.decorateStorage),
        AuthModule,
        DistributionModule,
        HealthModule,
        OpenApiModule,
        AuditModule,
        ImmutabilityModule,
        RetentionModule,
        GcModule,
        UsageModule,
        WriteGateModule,
        EgressModule,
        JobsModule,
      ],
    };
  }
}
