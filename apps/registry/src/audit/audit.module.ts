import { Global, Module } from '@nestjs/common';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';
import { AUDIT_RETENTION_DAYS, DEFAULT_AUDIT_RETENTION_DAYS } from './audit.tokens';

/**
 * The audit log. Global: authentication, the distribution API and the admin API record
 * events through `AuditService`.
 */
@Global()
@Module({
  controllers: [AuditController],
  providers: [
    AuditService,
    { provide: AUDIT_RETENTION_DAYS, useValue: DEFAULT_AUDIT_RETENTION_DAYS },
  ],
  exports: [AuditService],
})
export class AuditModule {}
