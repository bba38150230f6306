import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import { StorageLayout, type StorageDriver } from '@berth/storage';
import { ManifestService } from '../manifests/manifest.service';
import { MetricsService } from '../observability/metrics.service';
import { retryOnDeadlock } from '../database/retry-on-deadlock';
import { STORAGE_DRIVER } from '../storage/storage.module';
import { UsageService } from '../usage/usage.service';

export interface GcOptions {
  dryRun: boolean;
  /** Blobs younger than this, or linked into a repository more recently, are kept. */
  graceSeconds: number;
  /** Also collect manifests no tag, index or referrer reaches. */
  untaggedManifests: boolean;
  untaggedGraceSeconds: number;
  /** Uploads idle for longer are purged with their bytes. */
  uploadMaxAgeSeconds: number;
  /** Storage deletions in flight at once. */
  concurrency: number;
  /** Blobs decided per database transaction. */
  batchSize: number;
}

export interface GcReport {
  runId: string;
  dryRun: boolean;
  blobs: { count: number; bytes: number };
  manifests: number;
  uploads: number;
  durationMs: number;
}

export type GcProgress = (
  phase: 'manifests' | 'blobs' | 'uploads',
  done: number,
  total: number,
) => void;

export const DEFAULT_GC_OPTIONS: GcOptions = {
  dryRun: false,
  graceSeconds: 3600,
  untaggedManifests: true,
  untaggedGraceSeconds: 86_400,
  uploadMaxAgeSeconds: 86_400,
  concurrency: 16,
  batchSize: 200,
};

/**
 * The condition on a `blobs b` row: nobody references it, it is older than the grace period
 * (bound to the query parameter `grace`, e.g. `$1`) and no repository linked it recently.
 */
function garbage(grace: string): string {
  return `
  b.created_at < now() - make_interval(secs => ${grace})
  AND NOT EXISTS (SELECT 1 FROM manifest_references mr WHERE mr.digest = b.digest)
  AND NOT EXISTS (
    SELECT 1 FROM repository_blobs rb
     WHERE rb.digest = b.digest AND rb.created_at >= now() - make_interval(secs => ${grace}))`;
}

/**
 * Online mark-and-sweep over the metadata database, safe while pushes are in flight.
 *
 * Ordering argument (the same row lock orders every writer that could resurrect a blob):
 * 1. Mark: under `FOR UPDATE SKIP LOCKED` on the blob rows (a manifest push holding
 *    `FOR SHARE` on a blob it references is skipped), garbage blobs get a `gc_pending` row.
 *    The mark is advisory: marked blobs are still served, but no longer mountable, and a
 *    manifest push that starts after the mark refuses them (MANIFEST_BLOB_UNKNOWN).
 * 2. Sweep, per batch in one transaction: lock the marked blob rows `FOR UPDATE` (waiting for
 *    any push or upload holding them), then, in a new statement and so a new snapshot,
 *    re-check that each is still marked and still garbage (a push that committed a reference
 *    meanwhile, or an upload that re-linked the bytes, makes it stay), delete the bytes from
 *    storage while still holding the locks, then the rows. The decision and the deletion
 *    happen under one lock that every writer of a reference or a link must also take. An upload of the same bytes takes the same
 *    row lock before deciding whether the bytes are stored, so it either finds them gone and
 *    writes its own, or revives the blob before the sweep sees it.
 * A crash between marking and sweeping leaves marks that the next run sweeps first
 * (resumable); a crash inside a sweep transaction rolls its rows back with the marks still
 * in place, so the blob stays unusable until the next run finishes the job.
 */
@Injectable()
export class GarbageCollector {
  private readonly logger = new Logger(GarbageCollector.name);
  private running?: Promise<GcReport>;

  constructor(
    private readonly db: DataSource,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly layout: StorageLayout,
    private readonly metrics: MetricsService,
    private readonly manifests: ManifestService,
    private readonly usage: UsageService,
  ) {}

  /** One collection at a time per process; a second request joins the running one. */
  run(options: Partial<GcOptions> = {}, progress?: GcProgress): Promise<GcReport> {
    this.running ??= this.collect({ ...DEFAULT_GC_OPTIONS, ...options }, progress).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async collect(options: GcOptions, progress?: GcProgress): Promise<GcReport> {
    const started = Date.now();
    const runId = randomUUID();
    await this.db.query('INSERT INTO gc_runs (id, dry_run) VALUES ($1, $2)', [
      runId,
      options.dryRun,
    ]);
    const report: GcReport = {
      runId,
      dryRun: options.dryRun,
      blobs: { count: 0, bytes: 0 },
      manifests: 0,
      uploads: 0,
      durationMs: 0,
    };
    try {
      if (options.untaggedManifests)
        report.manifests = await this.collectManifests(options, progress);
      const blobs = await this.collectBlobs(options, progress);
      report.blobs = blobs;
      report.uploads = await this.collectUploads(options, progress);
      report.durationMs = Date.now() - started;
      await this.db.query(
        `UPDATE gc_runs SET finished_at = now(), blobs_deleted = $2, bytes_freed = $3,
                manifests_deleted = $4, uploads_deleted = $5 WHERE id = $1`,
        [runId, blobs.count, blobs.bytes, report.manifests, report.uploads],
      );
      if (!options.dryRun) {
        this.metrics.gcReclaimed(blobs.bytes, blobs.count);
        // Storage usage fell: recount, which also lets the write gate re-open on a quota.
        await this.usage.recount();
      }
      this.logger.log(
        `gc ${options.dryRun ? 'dry run' : 'run'} ${runId}: ${JSON.stringify(report)}`,
      );
      return report;
    } catch (err) {
      await this.db
        .query('UPDATE gc_runs SET finished_at = now(), error = $2 WHERE id = $1', [
          runId,
          String(err),
        ])
        .catch(() => undefined);
      throw err;
    }
  }

  /** Manifests that no tag reaches, directly, as an index child or as a referrer of a reachable subject. */
  private async collectManifests(options: GcOptions, progress?: GcProgress): Promise<number> {
    const rows: { id: string; repository_id: string; digest: string }[] = await this.db.query(
      `WITH RECURSIVE reachable(id, repository_id, digest) AS (
         SELECT m.id, m.repository_id, m.digest FROM manifests m
          WHERE EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
         UNION
         SELECT c.id, c.repository_id, c.digest FROM reachable r
           JOIN manifests c ON c.repository_id = r.repository_id
            AND (c.subject_digest = r.digest
                 OR c.digest IN (SELECT mr.digest FROM manifest_references mr
                                  WHERE mr.manifest_id = r.id AND mr.kind = 'manifest'))
       )
       SELECT m.id, m.repository_id, m.digest FROM manifests m
        WHERE m.created_at < now() - make_interval(secs => $1)
          AND NOT EXISTS (SELECT 1 FROM reachable r WHERE r.id = m.id)`,
      [options.untaggedGraceSeconds],
    );
    if (options.dryRun) return rows.length;
    let deleted = 0;
    for (const row of rows) {
      deleted += await this.db.transaction(async (m) => {
        // Re-checked under the row lock: a push may have tagged it or named it since.
        const result: [unknown[], number] = await m.query(
          `DELETE FROM manifests x WHERE x.id = $1
             AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = x.id)
             AND NOT EXISTS (SELECT 1 FROM manifest_references mr JOIN manifests p ON p.id = mr.manifest_id
                              WHERE p.repository_id = x.repository_id AND mr.digest = x.digest AND mr.kind = 'manifest')
             AND (x.subject_digest IS NULL OR NOT EXISTS (
                   SELECT 1 FROM manifests s JOIN tags t ON t.manifest_id = s.id
                    WHERE s.repository_id = x.repository_id AND s.digest = x.subject_digest))`,
          [row.id],
        );
        return result[1];
      });
      progress?.('manifests', deleted, rows.length);
    }
    if (deleted > 0) this.manifests.invalidateCache();
    return deleted;
  }

  private async collectBlobs(
    options: GcOptions,
    progress?: GcProgress,
  ): Promise<{ count: number; bytes: number }> {
    if (options.dryRun) {
      const rows: { n: string; bytes: string | null }[] = await this.db.query(
        `SELECT count(*) AS n, sum(b.size) AS bytes FROM blobs b WHERE ${garbage('$1')}`,
        [options.graceSeconds],
      );
      return { count: Number(rows[0]?.n ?? 0), bytes: Number(rows[0]?.bytes ?? 0) };
    }
    // Marks left by an interrupted run first, then new ones, a batch at a time.
    const total = { count: 0, bytes: 0 };
    for (;;) {
      const marked = await this.mark(options);
      const pending: { digest: string }[] = await this.db.query(
        'SELECT digest FROM gc_pending ORDER BY digest LIMIT $1',
        [options.batchSize * 10],
      );
      if (pending.length === 0 && marked === 0) break;
      for (let i = 0; i < pending.length; i += options.batchSize) {
        const batch = pending.slice(i, i + options.batchSize).map((p) => p.digest);
        const swept = await retryOnDeadlock(() => this.sweep(batch, options));
        total.count += swept.count;
        total.bytes += swept.bytes;
        progress?.('blobs', total.count, total.count + pending.length - i - swept.count);
      }
      if (marked === 0) break;
    }
    return total;
  }

  private async mark(options: GcOptions): Promise<number> {
    const rows: unknown[] = await this.db.query(
      `WITH candidates AS (
         SELECT b.digest FROM blobs b
          WHERE ${garbage('$1')}
            AND NOT EXISTS (SELECT 1 FROM gc_pending g WHERE g.digest = b.digest)
          LIMIT $2
          FOR UPDATE OF b SKIP LOCKED
       )
       INSERT INTO gc_pending (digest) SELECT digest FROM candidates
       ON CONFLICT DO NOTHING RETURNING digest`,
      [options.graceSeconds, options.batchSize * 10],
    );
    return rows.length;
  }

  private async sweep(
    digests: string[],
    options: GcOptions,
  ): Promise<{ count: number; bytes: number }> {
    return this.db.transaction(async (m: EntityManager) => {
      // Lock first, then decide in a second statement: in READ COMMITTED that statement takes
      // a fresh snapshot, so it sees every push or upload that committed while we waited.
      await m.query(
        'SELECT digest FROM blobs WHERE digest = ANY($1::text[]) ORDER BY digest FOR UPDATE',
        [digests],
      );
      const locked: { digest: string; size: string; garbage: boolean }[] = await m.query(
        `SELECT b.digest, b.size, (${garbage('$2')}) AS garbage FROM blobs b
          WHERE b.digest = ANY($1::text[])
            AND EXISTS (SELECT 1 FROM gc_pending g WHERE g.digest = b.digest)`,
        [digests, options.graceSeconds],
      );
      const doomed = locked.filter((r) => r.garbage);
      const revived = locked.filter((r) => !r.garbage).map((r) => r.digest);
      await this.inParallel(doomed, options.concurrency, (r) =>
        this.storage.delete(this.layout.blob(r.digest)),
      );
      const gone = doomed.map((r) => r.digest);
      await m.query('DELETE FROM repository_blobs WHERE digest = ANY($1::text[])', [gone]);
      await m.query('DELETE FROM blobs WHERE digest = ANY($1::text[])', [gone]);
      // Marks of swept, revived and vanished blobs all end here.
      await m.query('DELETE FROM gc_pending WHERE digest = ANY($1::text[])', [digests]);
      if (revived.length > 0)
        this.logger.debug(`gc: ${revived.length} blobs gained references and stay`);
      return { count: doomed.length, bytes: doomed.reduce((sum, r) => sum + Number(r.size), 0) };
    });
  }

  private async collectUploads(options: GcOptions, progress?: GcProgress): Promise<number> {
    if (options.dryRun) {
      const rows: { n: string }[] = await this.db.query(
        `SELECT count(*) AS n FROM uploads WHERE updated_at < now() - make_interval(secs => $1)`,
        [options.uploadMaxAgeSeconds],
      );
      return Number(rows[0]?.n ?? 0);
    }
    const [rows]: [{ id: string }[], number] = await this.db.query(
      `DELETE FROM uploads WHERE updated_at < now() - make_interval(secs => $1) RETURNING id`,
      [options.uploadMaxAgeSeconds],
    );
    await this.inParallel(rows, options.concurrency, (r) => this.storage.deleteUpload(r.id));
    progress?.('uploads', rows.length, rows.length);
    return rows.length;
  }

  private async inParallel<T>(
    items: T[],
    concurrency: number,
    work: (item: T) => Promise<void>,
  ): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < items.length) {
        const item = items[next++];
        await work(item);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  }
}
