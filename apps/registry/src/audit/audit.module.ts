import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { AUDIT_RETENTION_DAYS } from './audit.tokens';

/**
 * The audit log. Global: authentication, the distribution API and the admin API record
 * events through `AuditService`.
 */
@Global()
@Module({
  controllers: [AuditController],
  providers: [
    AuditService,
    {
      provide: AUDIT_RETENTION_DAYS,
      inject: [REGISTRY_CONFIG],
      useFactory: (config: RegistryConfig) => config.auth.auditRetentionDays,
    },
  ],
  exports: [AuditService],
})
export class AuditModule {}
