import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { JobHandler, QueueService, type JobContext } from '@berth/queue';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { EgressService } from '../egress/egress.service';
import { GarbageCollector, type GcReport } from '../gc/garbage-collector';
import { RetentionService } from '../retention/retention.service';
import { gcJob, retentionJob } from './registry-jobs';

/** Egress cells are kept this long (the control plane reads them hourly; billing is monthly). */
export const EGRESS_RETENTION_DAYS = 100;

/** Handlers of the maintenance queue, and their schedules. */
@Injectable()
export class MaintenanceJobs implements OnApplicationBootstrap {
  constructor(
    private readonly gc: GarbageCollector,
    private readonly retention: RetentionService,
    private readonly queue: QueueService,
    private readonly egress: EgressService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Schedules are upserted by whoever enqueues; a worker-only process leaves them alone.
    if (this.queue.role === 'worker') return;
    if (this.config.gcSchedule) {
      await this.queue.schedule(gcJob, this.config.gcSchedule, { dryRun: false });
    } else {
      await this.queue.unschedule(gcJob);
    }
    if (this.config.retentionSchedule) {
      await this.queue.schedule(retentionJob, this.config.retentionSchedule, { dryRun: false });
    } else {
      await this.queue.unschedule(retentionJob);
    }
  }

  @JobHandler(retentionJob)
  async applyRetention(
    payload: { dryRun: boolean },
    job: JobContext,
  ): Promise<{ dryRun: boolean; planned: number; deleted: number; manifestsDeleted: number }> {
    const caller = {
      name: 'retention-job',
      kind: 'system' as const,
      ip: '127.0.0.1',
      requestId: job.id,
    };
    const result = await this.retention.run(caller, payload.dryRun);
    const summary = {
      dryRun: result.dryRun,
      planned: result.plan.length,
      deleted: result.dryRun ? 0 : result.deleted.length,
      manifestsDeleted: result.dryRun ? 0 : result.manifestsDeleted,
    };
    job.log(JSON.stringify(summary));
    return summary;
  }

  @JobHandler(gcJob)
  async collectGarbage(
    payload: { dryRun: boolean; graceSeconds?: number },
    job: JobContext,
  ): Promise<GcReport> {
    const report = await this.gc.run(
      { dryRun: payload.dryRun, graceSeconds: payload.graceSeconds ?? this.config.gcGraceSeconds },
      (_phase, done, total) => job.progress(total === 0 ? 1 : done / total),
    );
    job.log(
      `${phase(report)}: ${report.blobs.count} blobs (${report.blobs.bytes} bytes), ${report.manifests} manifests, ${report.uploads} uploads`,
    );
    if (!payload.dryRun) {
      // The nightly maintenance also drops egress hours past their retention.
      const pruned = await this.egress.prune(EGRESS_RETENTION_DAYS);
      job.log(`egress: ${pruned} hourly cells older than ${EGRESS_RETENTION_DAYS} days deleted`);
    }
    return report;
  }
}

function phase(report: GcReport): string {
  return report.dryRun ? 'would free' : 'freed';
}
