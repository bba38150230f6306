import { Module } from '@nestjs/common';
import { ManifestsModule } from '../manifests/manifests.module';
import { RetentionController } from './retention.controller';
import { RetentionService } from './retention.service';

/**
 * Retention policies and runs. `RetentionService` is exported for the job queue (manual and
 * scheduled runs: `RetentionService.run(caller, dryRun)`); it needs the global
 * `ImmutabilityService` and `AuditService`.
 */
@Module({
  imports: [ManifestsModule],
  controllers: [RetentionController],
  providers: [RetentionService],
  exports: [RetentionService],
})
export class RetentionModule {}
