import { Module } from '@nestjs/common';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';

/**
 * Retention policies and runs. `RetentionService` is exported for the job queue (manual and
 * scheduled runs: `RetentionService.run(caller, dryRun)`); it needs the global
 * `ImmutabilityService` and `AuditService`.
 */
@Module({
  controllers: [RetentionController],
  providers: [RetentionService],
  exports: [RetentionService],
})
export class RetentionModule {}
