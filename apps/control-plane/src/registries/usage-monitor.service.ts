import { returnedRows } from '../common/sql';
import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { QueueService } from '@berth/queue';
import type { WriteGateStatus } from '@berth/platform-contracts';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG } from '../config/config.tokens';
import type { ControlPlaneConfig } from '../config/control-plane-config';
import { NotificationsService } from '../notifications/notifications.service';
import { TiersService } from '../tiers/tiers.service';
import { DataPlanes } from './data-planes';
import { QuotaGates } from './quota-gates';
import { upgradeDue } from './quota-policy';
import { reconcileRegistryJob } from './registry-jobs';
import { withRegistryLock } from './registry-lock';
import { RegistryStore } from './registry.store';
import { switchTierPeriod } from './tier-periods';
import type { RegistryRecord } from './registry.types';

const HOUR_MS = 3_600_000;

/**
 * Polls every ready registry's data plane (every BERTH_USAGE_INTERVAL_SECONDS, and on demand):
 * storage usage, the write gate, and the egress counters. Applies the quota policy: pushes
 * the gate settings and promotes `auto_upgrade` registries at 90%.
 */
@Injectable()
export class UsageMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('UsageMonitor');
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(
    private readonly db: DataSource,
    private readonly store: RegistryStore,
    private readonly planes: DataPlanes,
    private readonly tiers: TiersService,
    private readonly notifications: NotificationsService,
    private readonly gates: QuotaGates,
    private readonly queue: QueueService,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => {
      this.running ??= this.checkAll().finally(() => (this.running = undefined));
    }, this.config.usageIntervalSeconds * 1000);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  async checkAll(): Promise<void> {
    for (const registry of await this.store.systemInStates(['ready'])) {
      try {
        await this.check(registry);
      } catch (err) {
        this.logger.warn(
          `usage of ${registry.name}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  /**
   * Measures one registry now and applies its quota policy; returns the gate's status. Under
   * the registry's lock, on its row read afresh: a check that started from an older row (a
   * periodic pass reads all rows first) would otherwise push a gate without a maintenance
   * message set meanwhile, undoing what the lifecycle job had just applied.
   */
  async check(registry: RegistryRecord): Promise<WriteGateStatus> {
    return withRegistryLock(this.db, registry.id, async () =>
      this.checkLocked((await this.store.systemById(registry.id)) ?? registry),
    );
  }

  private async checkLocked(registry: RegistryRecord): Promise<WriteGateStatus> {
    const client = this.planes.client(registry);
    let status = await client.writeGate();
    const usage = status.usage;
    await this.db.query(
      `INSERT INTO registry_usage (registry_id, total_bytes, blob_bytes, upload_bytes, blobs, measured_at)
       VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (registry_id) DO UPDATE SET total_bytes = EXCLUDED.total_bytes,
         blob_bytes = EXCLUDED.blob_bytes, upload_bytes = EXCLUDED.upload_bytes,
         blobs = EXCLUDED.blobs, measured_at = EXCLUDED.measured_at`,
      [registry.id, usage.totalBytes, usage.blobBytes, usage.uploadBytes, usage.blobs],
    );
    await this.db.query(
      `INSERT INTO registry_usage_hourly (registry_id, hour, max_bytes)
       VALUES ($1, date_trunc('hour', now()), $2)
       ON CONFLICT (registry_id, hour) DO UPDATE
         SET max_bytes = GREATEST(registry_usage_hourly.max_bytes, EXCLUDED.max_bytes)`,
      [registry.id, usage.totalBytes],
    );
    const current =
      registry.quotaPolicy === 'auto_upgrade'
        ? await this.upgradeIfDue(registry, usage.totalBytes)
        : registry;
    const desired = await this.gates.desired(current);
    if (
      JSON.stringify({ quota: status.quota, maintenance: status.maintenance }) !==
      JSON.stringify(desired)
    ) {
      status = await client.setWriteGate(desired);
    }
    if (status.writable === current.writeBlocked) {
      await this.store.update(current.id, { writeBlocked: !status.writable });
      if (!status.writable && !current.maintenanceMessage) {
        await this.notifications.notify(
          current.orgId,
          'quota.blocked',
          `Registry ${current.name}: ${status.reason ?? 'pushes refused'}`,
          {
            registry: current.name,
          },
        );
      }
    }
    await this.collectEgress(current);
    return status;
  }

  /** An auto_upgrade registry at 90 % of its tier moves to the next one (returned). */
  private async upgradeIfDue(registry: RegistryRecord, usedBytes: number): Promise<RegistryRecord> {
    const next = await this.tiers.next(registry.tier);
    if (!next) return registry;
    const tier = await this.tiers.get(registry.tier);
    const due = upgradeDue({
      policy: registry.quotaPolicy,
      usedBytes,
      diskBytes: tier.diskBytes,
      hasLargerTier: true,
      thresholds: this.gates.thresholds,
    });
    if (!due) return registry;
    await this.promote(registry, tier.name, next.name, usedBytes, tier.diskBytes);
    return { ...registry, tier: next.name };
  }

  /** The next tier from this hour: tier period closed and opened in one transaction. */
  private async promote(
    registry: RegistryRecord,
    from: string,
    to: string,
    usedBytes: number,
    diskBytes: number,
  ): Promise<void> {
    const promoted = await this.db.transaction(async (tx) => {
      const rows: unknown[] = returnedRows(
        await tx.query(
          `UPDATE registries SET tier = $2 WHERE id = $1 AND tier = $3 AND state = 'ready' RETURNING id`,
          [registry.id, to, from],
        ),
      );
      if (rows.length === 0) return false;
      await switchTierPeriod(tx, registry.id, to, 'auto_upgrade');
      return true;
    });
    if (!promoted) return;
    const percent = ((usedBytes / diskBytes) * 100).toFixed(1);
    this.logger.log(`registry ${registry.name} upgraded from ${from} to ${to} at ${percent}%`);
    await this.notifications.notify(
      registry.orgId,
      'tier.auto_upgrade',
      `Registry ${registry.name} reached ${percent}% of ${from} and was upgraded to ${to}; billing uses ${to} from this hour.`,
      { registry: registry.name, from, to, usedBytes },
    );
    // Resize the runtime for the new tier.
    await this.queue.enqueue(reconcileRegistryJob, { registryId: registry.id });
  }

  /**
   * Egress counters since the last stored hour (that hour again: it may have grown). The data
   * plane reports absolute totals per cell, and each is stored by replacing, so overlapping
   * or retried reports never count twice.
   */
  private async collectEgress(registry: RegistryRecord): Promise<void> {
    const rows: { last: Date | null }[] = await this.db.query(
      'SELECT max(hour) AS last FROM egress_hourly WHERE registry_id = $1',
      [registry.id],
    );
    const since = new Date(
      Math.floor((rows[0]?.last ?? registry.createdAt).getTime() / HOUR_MS) * HOUR_MS,
    );
    const report = await this.planes.client(registry).egress(since);
    if (report.records.length === 0) return;
    await this.db.query(
      `INSERT INTO egress_hourly (registry_id, hour, repository, principal, bytes, requests)
       SELECT $1, r.hour, r.repository, r.principal, r.bytes, r.requests
         FROM jsonb_to_recordset($2::jsonb) AS r(hour timestamptz, repository text, principal text, bytes bigint, requests bigint)
       ON CONFLICT (registry_id, hour, repository, principal)
       DO UPDATE SET bytes = EXCLUDED.bytes, requests = EXCLUDED.requests`,
      [registry.id, JSON.stringify(report.records)],
    );
  }
}
