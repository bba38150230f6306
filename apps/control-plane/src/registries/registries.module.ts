import { Module } from '@nestjs/common';
import { CONTROL_PLANE_CONFIG } from '../config/config.tokens';
import type { ControlPlaneConfig } from '../config/control-plane-config';
import { OrgsModule } from '../orgs/orgs.module';
import { CredentialsService } from './credentials.service';
import { DataPlanes } from './data-planes';
import { DatabaseProvisioner } from './database-provisioner';
import { MemberSyncService } from './member-sync.service';
import { RegistriesController } from './registries.controller';
import { RegistriesService } from './registries.service';
import { RegistryLifecycle } from './registry-lifecycle';
import { RegistryStore } from './registry.store';
import { DATABASE_PROVISIONER } from './registry.tokens';
import { QuotaGates } from './quota-gates';
import { UsageMonitor } from './usage-monitor.service';

/** Registries (tenants): lifecycle, quotas and usage, members, credentials. */
@Module({
  imports: [OrgsModule],
  controllers: [RegistriesController],
  providers: [
    RegistryStore,
    RegistriesService,
    RegistryLifecycle,
    DataPlanes,
    MemberSyncService,
    CredentialsService,
    UsageMonitor,
    QuotaGates,
    {
      provide: DATABASE_PROVISIONER,
      inject: [CONTROL_PLANE_CONFIG],
      useFactory: (config: ControlPlaneConfig) => {
        const adminUrl = config.tenantDatabaseAdminUrl ?? config.databaseUrl;
        if (!adminUrl) throw new Error('no PostgreSQL server for tenant databases');
        return new DatabaseProvisioner(adminUrl, config.tenantDatabaseHost);
      },
    },
  ],
  exports: [RegistriesService, RegistryStore, UsageMonitor],
})
export class RegistriesModule {}
