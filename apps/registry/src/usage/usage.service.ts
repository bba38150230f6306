import { Injectable, Logger } from '@nestjs/common';
import type { StorageUsageReport } from '@berth/platform-contracts';
import { DataSource } from 'typeorm';

/** What a tier's disk quota counts: deduplicated blob bytes plus open uploads. */
export type StorageUsage = StorageUsageReport;

interface UsageCounters {
  blobBytes: number;
  blobs: number;
  uploadBytes: number;
  uploads: number;
}

/** Called with every recount, after the cache took it (the write gate decides on these). */
export type RecountListener = (usage: StorageUsage) => void;

/**
 * The registry's storage usage, as quotas read it (the control plane polls it).
 *
 * Counting means `sum()` over every blob, too slow for the push path. So this service keeps a
 * cached figure: the last recount plus the changes this process made since (a blob stored,
 * upload bytes received, an upload finished or cancelled), applied as they happen, so the
 * figure follows this process's pushes exactly without a query. Changes made elsewhere (another
 * replica, a garbage collection in the worker process) show up at the next recount, which the
 * write gate runs every few seconds and which the admin API and garbage collection run on
 * demand.
 */
@Injectable()
export class UsageService {
  private readonly logger = new Logger(UsageService.name);
  private counters: UsageCounters = zero();
  /** Changes applied while a recount is running: they are added to its result. */
  private during?: UsageCounters;
  private running?: Promise<StorageUsage>;
  private queued?: Promise<StorageUsage>;
  private readonly listeners = new Set<RecountListener>();

  constructor(private readonly db: DataSource) {}

  /** Recounts from the database (see `recount`). */
  current(): Promise<StorageUsage> {
    return this.recount();
  }

  /** The last recount plus this process's changes since: no database round trip. */
  cached(): StorageUsage {
    return report(this.counters);
  }

  /**
   * Counts from the database. The result reflects every change committed before the call: a
   * call while a recount runs queues one more after it (callers arriving meanwhile share that
   * one), so at most one counting query runs at a time.
   */
  recount(): Promise<StorageUsage> {
    if (this.queued) return this.queued;
    const previous = this.running ?? Promise.resolve();
    const run: Promise<StorageUsage> = previous
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        this.running = run;
        return this.count();
      })
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.queued = run;
    return run;
  }

  onRecount(listener: RecountListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** A verified blob whose row did not exist before (a blob stored again changes nothing). */
  blobStored(size: number): void {
    this.apply({ blobBytes: size, blobs: 1, uploadBytes: 0, uploads: 0 });
  }

  uploadStarted(): void {
    this.apply({ blobBytes: 0, blobs: 0, uploadBytes: 0, uploads: 1 });
  }

  uploadGrew(bytes: number): void {
    this.apply({ blobBytes: 0, blobs: 0, uploadBytes: bytes, uploads: 0 });
  }

  /** An upload session ended (completed, cancelled or discarded) with `size` bytes received. */
  uploadEnded(size: number): void {
    this.apply({ blobBytes: 0, blobs: 0, uploadBytes: -size, uploads: -1 });
  }

  private apply(delta: UsageCounters): void {
    this.counters = add(this.counters, delta);
    if (this.during) this.during = add(this.during, delta);
  }

  private async count(): Promise<StorageUsage> {
    this.during = zero();
    try {
      const rows: { blob_bytes: string; blobs: string; upload_bytes: string; uploads: string }[] =
        await this.db.query(
          `SELECT (SELECT coalesce(sum(size), 0) FROM blobs) AS blob_bytes,
                  (SELECT count(*) FROM blobs) AS blobs,
                  (SELECT coalesce(sum(size), 0) FROM uploads) AS upload_bytes,
                  (SELECT count(*) FROM uploads) AS uploads`,
        );
      const row = rows[0];
      const counted: UsageCounters = {
        blobBytes: Number(row?.blob_bytes ?? 0),
        blobs: Number(row?.blobs ?? 0),
        uploadBytes: Number(row?.upload_bytes ?? 0),
        uploads: Number(row?.uploads ?? 0),
      };
      // A change that committed while the query ran may be in its result and in `during`
      // both; the next recount corrects that, a few seconds later at most.
      this.counters = add(counted, this.during);
    } finally {
      this.during = undefined;
    }
    const usage = report(this.counters);
    for (const listener of this.listeners) {
      try {
        listener(usage);
      } catch (err) {
        this.logger.error(`usage listener failed: ${String(err)}`);
      }
    }
    return usage;
  }
}

function zero(): UsageCounters {
  return { blobBytes: 0, blobs: 0, uploadBytes: 0, uploads: 0 };
}

function add(a: UsageCounters, b: UsageCounters): UsageCounters {
  return {
    blobBytes: a.blobBytes + b.blobBytes,
    blobs: a.blobs + b.blobs,
    uploadBytes: a.uploadBytes + b.uploadBytes,
    uploads: a.uploads + b.uploads,
  };
}

function report(c: UsageCounters): StorageUsage {
  const blobBytes = Math.max(0, c.blobBytes);
  const uploadBytes = Math.max(0, c.uploadBytes);
  return {
    blobBytes,
    uploadBytes,
    totalBytes: blobBytes + uploadBytes,
    blobs: Math.max(0, c.blobs),
    uploads: Math.max(0, c.uploads),
  };
}
