import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { EgressRecord, EgressReport } from '@berth/platform-contracts';
import { DataSource } from 'typeorm';
import { hourOf } from './egress-hour';

/** Pending counters are written this often, and at shutdown. */
const FLUSH_INTERVAL_MS = 5000;
/** More distinct cells than this pending flushes at once (bounds memory under many repos). */
const MAX_PENDING_CELLS = 10_000;
/** Cells per INSERT statement. */
const FLUSH_BATCH = 5000;

interface Cell {
  hour: number;
  repository: string;
  principal: string;
  bytes: number;
  requests: number;
}

/**
 * Egress metering: bytes of blobs and manifests served, per UTC hour, repository and
 * principal. Pulls only add to counters in memory; they are written in batches every few
 * seconds (and at shutdown) with one `INSERT ... ON CONFLICT DO UPDATE` adding to the stored
 * totals, so a pull never waits for the database. The report reads the stored totals, which
 * are absolute: fetching an hour twice gives the same numbers, never twice the bytes.
 */
@Injectable()
export class EgressService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Egress');
  private pending = new Map<string, Cell>();
  private flushing: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;

  constructor(private readonly db: DataSource) {}

  onModuleInit(): void {
    this.timer = setInterval(() => this.flushInBackground(), FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.flush().catch(() => undefined);
  }

  /** Counts one response: `bytes` served from `repository` to `principal`, now. */
  record(repository: string, principal: string, bytes: number, at = Date.now()): void {
    const hour = hourOf(at);
    const key = `${hour}\u0000${repository}\u0000${principal}`;
    const cell = this.pending.get(key);
    if (cell) {
      cell.bytes += bytes;
      cell.requests += 1;
      return;
    }
    this.pending.set(key, { hour, repository, principal, bytes, requests: 1 });
    if (this.pending.size >= MAX_PENDING_CELLS) this.flushInBackground();
  }

  /**
   * Writes the pending counters (after any flush already running). Counters a failed write
   * could not store are kept for the next flush; the error is rethrown.
   */
  flush(): Promise<void> {
    const run = this.flushing.then(() => this.write());
    this.flushing = run.catch(() => undefined);
    return run;
  }

  /** Every cell from the hour `since` on, with its stored total, after writing what is pending. */
  async report(since: Date): Promise<EgressReport> {
    await this.flush();
    const rows: {
      hour: Date;
      repository: string;
      principal: string;
      bytes: string;
      requests: string;
    }[] = await this.db.query(
      `SELECT hour, repository, principal, bytes, requests FROM egress_hourly
        WHERE hour >= $1 ORDER BY hour, repository, principal`,
      [since.toISOString()],
    );
    const records: EgressRecord[] = rows.map((r) => ({
      hour: r.hour.toISOString(),
      repository: r.repository,
      principal: r.principal,
      bytes: Number(r.bytes),
      requests: Number(r.requests),
    }));
    return { records };
  }

  /** Deletes hours older than `days` days; returns how many cells went. */
  async prune(days: number): Promise<number> {
    const result: [unknown[], number] = await this.db.query(
      'DELETE FROM egress_hourly WHERE hour < now() - make_interval(days => $1)',
      [days],
    );
    return result[1];
  }

  private flushInBackground(): void {
    this.flush().catch((err: unknown) => {
      this.logger.error(`egress counters not written yet: ${String(err)}`);
    });
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    // Key order: flushes of several replicas lock the same rows in the same order.
    const cells = [...this.pending.values()].sort(compareCells);
    this.pending = new Map();
    let failure: Error | undefined;
    for (let i = 0; i < cells.length; i += FLUSH_BATCH) {
      const batch = cells.slice(i, i + FLUSH_BATCH);
      try {
        await this.db.query(
          `INSERT INTO egress_hourly (hour, repository, principal, bytes, requests)
           SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
           ON CONFLICT (hour, repository, principal) DO UPDATE
             SET bytes = egress_hourly.bytes + EXCLUDED.bytes,
                 requests = egress_hourly.requests + EXCLUDED.requests`,
          [
            batch.map((c) => new Date(c.hour).toISOString()),
            batch.map((c) => c.repository),
            batch.map((c) => c.principal),
            batch.map((c) => c.bytes),
            batch.map((c) => c.requests),
          ],
        );
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
        for (const c of batch) this.restore(c);
      }
    }
    if (failure !== undefined) throw failure;
  }

  /** Puts a cell that was not written back among the pending ones. */
  private restore(c: Cell): void {
    const key = `${c.hour}\u0000${c.repository}\u0000${c.principal}`;
    const cell = this.pending.get(key);
    if (cell) {
      cell.bytes += c.bytes;
      cell.requests += c.requests;
    } else {
      this.pending.set(key, { ...c });
    }
  }
}

function compareCells(a: Cell, b: Cell): number {
  if (a.hour !== b.hour) return a.hour - b.hour;
  if (a.repository !== b.repository) return a.repository < b.repository ? -1 : 1;
  if (a.principal !== b.principal) return a.principal < b.principal ? -1 : 1;
  return 0;
}
