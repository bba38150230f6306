import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import {
  WRITE_BLOCKED_REASON_HEADER,
  type WriteGateSettings,
  type WriteGateStatus,
} from '@berth/platform-contracts';
import { DataSource } from 'typeorm';
import { OciError, OciErrorCode } from '@berth/oci';
import { UsageService, type StorageUsage } from '../usage/usage.service';
import {
  MAINTENANCE_RETRY_AFTER_SECONDS,
  QUOTA_RETRY_AFTER_SECONDS,
  nextBlocked,
  parseWriteGateSettings,
  quotaReason,
} from './write-gate-policy';

/** How often settings are re-read and, with a quota, usage recounted (other replicas, GC). */
const SYNC_INTERVAL_MS = 5000;

interface GateRow {
  quota: unknown;
  maintenance: unknown;
  blocked: boolean;
}

/**
 * The write gate: refuses pushes (new uploads, upload bytes, manifest pushes) while the
 * maintenance switch is on or the disk quota is reached, and lets everything else through.
 *
 * The quota has hysteresis: pushes stop once usage reaches `blockAtBytes` and start again
 * only when it is down to `resumeAtBytes`. The check on the push path reads the cached usage
 * (`UsageService.cached`, no query); when that figure says the gate should change, the change
 * is decided on a recount. Every recount (every few seconds here, on demand from the admin
 * API, after garbage collection) re-evaluates the gate, and a change is persisted, so the
 * state survives a restart.
 */
@Injectable()
export class WriteGateService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('WriteGate');
  private settings: WriteGateSettings = { quota: null, maintenance: null };
  private blocked = false;
  /** Bumped by every change made here, so a concurrent re-read does not undo it. */
  private changes = 0;
  private persisting: Promise<void> = Promise.resolve();
  private syncing?: Promise<unknown>;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;

  constructor(
    private readonly db: DataSource,
    private readonly usage: UsageService,
  ) {}

  async onModuleInit(): Promise<void> {
    this.unsubscribe = this.usage.onRecount((usage) => this.evaluate(usage));
    await this.sync(true);
    this.timer = setInterval(() => this.syncInBackground(), SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    this.unsubscribe?.();
    await this.syncing?.catch(() => undefined);
    await this.persisting;
  }

  /**
   * Throws the 503 a refused push gets (OCI `UNAVAILABLE`, the reason in the message and the
   * `Berth-Reason` header, `Retry-After`). Cheap: no query unless the gate is about to change.
   */
  async assertWritable(): Promise<void> {
    const { maintenance, quota } = this.settings;
    if (maintenance) throw refusal(maintenance.message, MAINTENANCE_RETRY_AFTER_SECONDS);
    if (!quota) return;
    let usage = this.usage.cached();
    if (nextBlocked(this.blocked, usage.totalBytes, quota) !== this.blocked) {
      // The cached figure says the gate would change: decide on a recount (which evaluates).
      usage = await this.usage.recount();
    }
    const reason = this.reason(usage);
    if (reason !== null) throw refusal(reason, retryAfter(this.settings));
  }

  /** Settings, state and usage, all read fresh (re-read settings, recount). */
  async status(): Promise<WriteGateStatus> {
    const usage = await this.sync(true);
    return this.describe(usage);
  }

  /** Replaces both settings; the quota's state carries over (hysteresis, see `nextBlocked`). */
  async replace(settings: WriteGateSettings): Promise<WriteGateStatus> {
    this.changes++;
    const usage = await this.usage.recount();
    const blocked = nextBlocked(this.blocked, usage.totalBytes, settings.quota);
    await this.db.query(
      `UPDATE write_gate
          SET quota = $1::jsonb, maintenance = $2::jsonb, blocked = $3,
              blocked_changed_at = CASE WHEN blocked = $3 THEN blocked_changed_at ELSE now() END,
              updated_at = now()
        WHERE id`,
      [
        settings.quota === null ? null : JSON.stringify(settings.quota),
        settings.maintenance === null ? null : JSON.stringify(settings.maintenance),
        blocked,
      ],
    );
    this.changes++;
    this.settings = settings;
    if (blocked !== this.blocked) this.logTransition(blocked, usage);
    this.blocked = blocked;
    return this.describe(usage);
  }

  private describe(usage: StorageUsage): WriteGateStatus {
    const reason = this.reason(usage);
    return {
      quota: this.settings.quota,
      maintenance: this.settings.maintenance,
      writable: reason === null,
      reason,
      usage,
    };
  }

  private reason(usage: StorageUsage): string | null {
    const { maintenance, quota } = this.settings;
    if (maintenance) return maintenance.message;
    if (quota && this.blocked) return quotaReason(quota, usage);
    return null;
  }

  /** Applies a recount to the quota's state; a change is persisted (in order, in the background). */
  private evaluate(usage: StorageUsage): void {
    const blocked = nextBlocked(this.blocked, usage.totalBytes, this.settings.quota);
    if (blocked === this.blocked) return;
    this.changes++;
    this.blocked = blocked;
    this.logTransition(blocked, usage);
    this.persisting = this.persisting
      .then(async () => {
        await this.db.query(
          `UPDATE write_gate SET blocked = $1, blocked_changed_at = now()
            WHERE id AND blocked <> $1`,
          [this.blocked],
        );
      })
      .catch((err: unknown) => {
        this.logger.error(`write gate state not saved: ${String(err)}`);
      });
  }

  private logTransition(blocked: boolean, usage: StorageUsage): void {
    const quota = this.settings.quota;
    if (blocked && quota) {
      this.logger.warn(`pushes refused: ${quotaReason(quota, usage)}`);
    } else {
      this.logger.log(`pushes accepted again: ${usage.totalBytes} bytes used`);
    }
  }

  /**
   * Re-reads the settings and the persisted state (another replica may have changed them),
   * then recounts usage when a quota needs it (or always, with `recount`).
   */
  private async sync(recount: boolean): Promise<StorageUsage> {
    // A state change of ours still being saved would read back as the old state.
    await this.persisting;
    const before = this.changes;
    const rows: GateRow[] = await this.db.query(
      'SELECT quota, maintenance, blocked FROM write_gate WHERE id',
    );
    const row = rows[0];
    if (row && this.changes === before) {
      try {
        this.settings = parseWriteGateSettings({
          quota: row.quota,
          maintenance: row.maintenance,
        });
        this.blocked = row.blocked;
      } catch (err) {
        this.logger.error(
          `stored write gate settings are invalid, kept the previous: ${String(err)}`,
        );
      }
    }
    if (!recount && !this.settings.quota) {
      const usage = this.usage.cached();
      this.evaluate(usage);
      return usage;
    }
    return this.usage.recount();
  }

  private syncInBackground(): void {
    if (this.syncing) return;
    this.syncing = this.sync(false)
      .catch((err: unknown) => {
        this.logger.error(`write gate sync failed: ${String(err)}`);
      })
      .finally(() => {
        this.syncing = undefined;
      });
  }
}

function retryAfter(settings: WriteGateSettings): number {
  return settings.maintenance ? MAINTENANCE_RETRY_AFTER_SECONDS : QUOTA_RETRY_AFTER_SECONDS;
}

function refusal(reason: string, retryAfterSeconds: number): OciError {
  return new OciError(OciErrorCode.UNAVAILABLE, reason, {
    status: 503,
    headers: {
      [WRITE_BLOCKED_REASON_HEADER]: reason,
      'Retry-After': String(retryAfterSeconds),
    },
  });
}
