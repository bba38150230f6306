import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { decodeAuditCursor, encodeAuditCursor, type AuditCursor } from './audit-cursor';
import type {
  AuditAction,
  AuditEvent,
  AuditEventInput,
  AuditExportFormat,
  AuditFilter,
  AuditResult,
  AuditStreamFilter,
} from './audit-event';
import { CSV_HEADER, toCsvLine, toNdjsonLine, type ExportedEvent } from './audit-format';
import { AUDIT_RETENTION_DAYS } from './audit.tokens';

export interface AuditPage {
  /** Newest first. */
  events: AuditEvent[];
  /** Present when more events match: pass it as `cursor` (with the same filter). */
  nextCursor?: string;
}

/** Receives every event recorded by this process, as it is recorded (for live streams). */
export interface AuditSubscriber {
  event(event: AuditEvent): void;
  /** The service is shutting down: no more events will come. */
  close(): void;
}

export const MAX_AUDIT_PAGE = 1000;
/** Rows per query while exporting or replaying: bounds the memory an export holds. */
const SCAN_BATCH = 1000;
/**
 * Export chunks of about the stream's high-water mark: how much text waits for a slow client
 * is set by the stream, not by the batch size.
 */
const EXPORT_CHUNK_CHARS = 16 * 1024;
const PRUNE_BATCH = 10_000;
const PRUNE_FIRST_DELAY_MS = 60_000;
const PRUNE_INTERVAL_MS = 60 * 60_000;

interface CommonRow {
  event_id: string;
  event_at: string;
  principal: string;
  principal_id: string | null;
  client_ip: string;
  action: AuditAction;
  repository: string | null;
  reference: string | null;
  result: AuditResult;
  request_id: string | null;
}

interface AuditRow extends CommonRow {
  detail: Record<string, unknown> | null;
}

interface ExportRow extends CommonRow {
  detail_json: string | null;
}

/**
 * `at` is rendered by PostgreSQL with its full (microsecond) precision, so cursors are exact.
 * The aliases must not be column names: ORDER BY would sort by the rendered text instead.
 */
const COMMON_COLUMNS = `id::text AS event_id,
  to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS event_at,
  principal, principal_id, client_ip, action, repository, reference, result, request_id`;
const COLUMNS = `${COMMON_COLUMNS}, detail`;
/** Background (pull) events: flushed after this many, or this long after the first. */
const BACKGROUND_BATCH = 200;
const BACKGROUND_FLUSH_MS = 50;
/** For exports: `detail` as JSON text. */
const EXPORT_COLUMNS = `${COMMON_COLUMNS}, detail::text AS detail_json`;

/**
 * The audit log (append-only `audit_events`): records events, pages through and exports them,
 * hands new events to live subscribers and prunes events past the retention period.
 *
 * Live subscribers see the events recorded by this process only; a stream resumed with
 * `replay` (Last-Event-ID) also sees those of other replicas. (pg_notify on every insert would
 * carry events across replicas, but it serialises commits on a global lock: 3-7x fewer
 * concurrent inserts measured, and every manifest pull inserts.)
 */
@Injectable()
export class AuditService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('Audit');
  private readonly subscribers = new Set<AuditSubscriber>();
  private timers: NodeJS.Timeout[] = [];
  private pending: AuditEventInput[] = [];
  private flushTimer?: NodeJS.Timeout;
  private pruning?: Promise<void>;
  private stopping = false;

  constructor(
    private readonly db: DataSource,
    @Inject(AUDIT_RETENTION_DAYS) private readonly retentionDays: number,
  ) {
    if (!Number.isInteger(retentionDays) || retentionDays < 0) {
      throw new Error(`audit retention must be a whole number of days >= 0, not ${retentionDays}`);
    }
  }

  onModuleInit(): void {
    if (this.retentionDays === 0) return;
    const run = (): void => this.pruneExpired();
    this.timers = [
      setTimeout(run, PRUNE_FIRST_DELAY_MS).unref(),
      setInterval(run, PRUNE_INTERVAL_MS).unref(),
    ];
  }

  async onModuleDestroy(): Promise<void> {
    await this.flush();
    this.stopping = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const subscriber of [...this.subscribers]) this.closeSubscriber(subscriber);
    this.subscribers.clear();
    await this.pruning;
  }

  /**
   * Appends one event. Awaited by the caller: a database error is logged and rethrown, so an
   * action whose audit record failed fails too rather than going unrecorded.
   */
  async record(input: AuditEventInput): Promise<void> {
    const { caller } = input;
    let rows: AuditRow[];
    try {
      rows = await this.db.query(
        `INSERT INTO audit_events
           (principal, principal_id, client_ip, action, repository, reference, result, request_id,
            detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
         RETURNING ${COLUMNS}`,
        eventParams(input),
      );
    } catch (err) {
      this.logger.error(
        `audit event not recorded: ${input.action} ${input.result} by ${caller.name} from ` +
          `${caller.ip} (request ${caller.requestId}): ${err instanceof Error ? err.message : String(err)}`,
      );
      throw err;
    }
    this.publish(toEvent(rows[0]));
  }

  /**
   * Appends one event without holding the caller (manifest pulls, the hot path). A failure is
   * logged by `record`; the pull it describes has already been served.
   */
  recordInBackground(input: AuditEventInput): void {
    // Batched: one multi-row INSERT per flush instead of one round trip per pull.
    this.pending.push(input);
    if (this.pending.length >= BACKGROUND_BATCH) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), BACKGROUND_FLUSH_MS);
  }

  /** Writes the buffered background events (also on shutdown). */
  async flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const params: unknown[] = [];
    const values = batch.map((input, i) => {
      params.push(...eventParams(input));
      const b = i * 9;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7}, $${b + 8}, $${b + 9}::jsonb)`;
    });
    // Only live subscribers need the stored rows back. Without any, the INSERT returns just the
    // ids: a full row per pull, parsed and turned into an event nobody reads, was half of what
    // fast manifest pulls promoted to the old generation (docs/performance.md, finding 12).
    const returnRows = this.subscribers.size > 0;
    let stored: { event_id: string }[];
    try {
      stored = await this.db.query(
        `INSERT INTO audit_events
           (principal, principal_id, client_ip, action, repository, reference, result, request_id,
            detail)
         VALUES ${values.join(', ')}
         RETURNING ${returnRows ? COLUMNS : 'id::text AS event_id'}`,
        params,
      );
    } catch (err) {
      this.logger.error(
        `${batch.length} audit events not recorded: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    if (this.subscribers.size === 0) return;
    // A subscriber that arrived while the INSERT ran must still see these events: read back.
    let rows = stored as AuditRow[];
    if (!returnRows) {
      try {
        rows = await this.db.query(
          `SELECT ${COLUMNS} FROM audit_events WHERE id = ANY($1::bigint[]) ORDER BY id`,
          [stored.map((row) => row.event_id)],
        );
      } catch (err) {
        this.logger.error(
          `${batch.length} audit events recorded but not sent to live subscribers: ${err instanceof Error ? err.message : String(err)}`,
        );
        return;
      }
    }
    for (const row of rows) this.publish(toEvent(row));
  }

  /** One page, newest first (keyset on `(at, id)`, so pages stay stable while events arrive). */
  async query(filter: AuditFilter, cursor?: string, limit = 100): Promise<AuditPage> {
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
      throw new RangeError(`limit must be an integer from 1 to ${MAX_AUDIT_PAGE}`);
    }
    const params: unknown[] = [];
    const where = filterConditions(filter, params);
    if (cursor !== undefined) {
      const after = decodeAuditCursor(cursor);
      params.push(after.at, after.id);
      where.push(`(at, id) < ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
    }
    params.push(limit + 1);
    const rows: AuditRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM audit_events ${whereSql(where)}
        ORDER BY at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    const events = rows.slice(0, limit).map(toEvent);
    const last = events[events.length - 1];
    return rows.length > limit && last
      ? { events, nextCursor: encodeAuditCursor({ at: last.at, id: last.id }) }
      : { events };
  }

  /**
   * The matching events, oldest first, as CSV (RFC 4180, header row) or NDJSON. Rows are read
   * in batches as the consumer reads, so memory stays flat whatever the size. The export ends
   * at the newest event that existed when it started.
   */
  export(filter: AuditFilter, format: AuditExportFormat): Readable {
    const batches = this.scanChronologically(filter);
    const line = format === 'csv' ? toCsvLine : toNdjsonLine;
    const logger = this.logger;
    async function* chunks(): AsyncGenerator<string> {
      if (format === 'csv') yield CSV_HEADER;
      try {
        // Each batch is formatted at once, so its rows are garbage before the first chunk is sent.
        for await (const batch of batches) yield* toChunks(batch, line);
      } catch (err) {
        // The response has started: the client sees a cut-off transfer, the log says why.
        logger.error(`audit export failed: ${err instanceof Error ? err.message : String(err)}`);
        throw err;
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  /** Events after `afterId` (in id order) up to the newest one now, in batches: for resuming a stream. */
  async *replay(afterId: string, filter: AuditStreamFilter = {}): AsyncGenerator<AuditEvent[]> {
    const newest = await this.newestId();
    if (newest === null) return;
    let after = afterId;
    for (;;) {
      const params: unknown[] = [];
      const where = filterConditions(filter, params);
      params.push(after, newest);
      where.push(`id > $${params.length - 1}::bigint AND id <= $${params.length}::bigint`);
      params.push(SCAN_BATCH);
      const rows: AuditRow[] = await this.db.query(
        `SELECT ${COLUMNS} FROM audit_events ${whereSql(where)} ORDER BY id LIMIT $${params.length}`,
        params,
      );
      if (rows.length > 0) yield rows.map(toEvent);
      if (rows.length < SCAN_BATCH) return;
      after = rows[rows.length - 1].event_id;
    }
  }

  /** Live events recorded by this process; returns the unsubscribe function. */
  subscribe(subscriber: AuditSubscriber): () => void {
    if (this.stopping) {
      this.closeSubscriber(subscriber);
      return () => undefined;
    }
    this.subscribers.add(subscriber);
    return () => {
      this.subscribers.delete(subscriber);
    };
  }

  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /**
   * Deletes the events older than `olderThanDays`, in batches of separate transactions (the
   * only deletion the table's trigger allows). Returns how many were deleted.
   */
  async prune(olderThanDays: number): Promise<number> {
    if (!Number.isInteger(olderThanDays) || olderThanDays < 1) {
      throw new RangeError(`prune age must be a whole number of days >= 1, not ${olderThanDays}`);
    }
    let total = 0;
    for (;;) {
      const deleted = await this.db.transaction(async (m) => {
        await m.query(`SET LOCAL berth.audit_prune = 'on'`);
        const result: [unknown[], number] = await m.query(
          `DELETE FROM audit_events WHERE id IN (
             SELECT id FROM audit_events WHERE at < now() - make_interval(days => $1)
              ORDER BY at, id LIMIT $2 FOR UPDATE SKIP LOCKED)`,
          [olderThanDays, PRUNE_BATCH],
        );
        return result[1];
      });
      total += deleted;
      if (deleted < PRUNE_BATCH || this.stopping) return total;
    }
  }

  private pruneExpired(): void {
    if (this.pruning || this.stopping) return;
    const started = Date.now();
    this.pruning = this.prune(this.retentionDays)
      .then((deleted) => {
        if (deleted > 0) {
          this.logger.log(
            `pruned ${deleted} audit events older than ${this.retentionDays} days in ${Date.now() - started} ms`,
          );
        }
      })
      .catch((err: unknown) => {
        this.logger.error(
          `audit pruning failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      })
      .finally(() => {
        this.pruning = undefined;
      });
  }

  private publish(event: AuditEvent): void {
    for (const subscriber of this.subscribers) {
      try {
        subscriber.event(event);
      } catch (err) {
        this.logger.warn(`audit subscriber failed: ${String(err)}`);
      }
    }
  }

  private closeSubscriber(subscriber: AuditSubscriber): void {
    try {
      subscriber.close();
    } catch (err) {
      this.logger.warn(`audit subscriber failed to close: ${String(err)}`);
    }
  }

  private async newestId(): Promise<string | null> {
    const rows: { id: string | null }[] = await this.db.query(
      'SELECT max(id)::text AS id FROM audit_events',
    );
    return rows[0]?.id ?? null;
  }

  /** Batches ordered by `(at, id)`, up to the newest event when the first batch is read. */
  private async *scanChronologically(filter: AuditFilter): AsyncGenerator<ExportedEvent[]> {
    const newest = await this.newestId();
    if (newest === null) return;
    let after: AuditCursor | undefined;
    for (;;) {
      const params: unknown[] = [];
      const where = filterConditions(filter, params);
      params.push(newest);
      where.push(`id <= $${params.length}::bigint`);
      if (after) {
        params.push(after.at, after.id);
        where.push(`(at, id) > ($${params.length - 1}::timestamptz, $${params.length}::bigint)`);
      }
      params.push(SCAN_BATCH);
      const rows: ExportRow[] = await this.db.query(
        `SELECT ${EXPORT_COLUMNS} FROM audit_events ${whereSql(where)}
          ORDER BY at, id LIMIT $${params.length}`,
        params,
      );
      if (rows.length > 0) yield rows.map(toExportedEvent);
      if (rows.length < SCAN_BATCH) return;
      const last = rows[rows.length - 1];
      after = { at: last.event_at, id: last.event_id };
    }
  }
}

/** The lines of `events`, joined into strings of about `EXPORT_CHUNK_CHARS`. */
function toChunks(events: ExportedEvent[], line: (event: ExportedEvent) => string): string[] {
  const chunks: string[] = [];
  let chunk = '';
  for (const event of events) {
    chunk += line(event);
    if (chunk.length >= EXPORT_CHUNK_CHARS) {
      chunks.push(chunk);
      chunk = '';
    }
  }
  if (chunk.length > 0) chunks.push(chunk);
  return chunks;
}

/** SQL conditions for a filter; values are appended to `params`. */
function filterConditions(filter: AuditFilter, params: unknown[]): string[] {
  const conditions: string[] = [];
  const add = (column: string, operator: string, value: string | undefined, cast = ''): void => {
    if (value === undefined) return;
    params.push(value);
    conditions.push(`${column} ${operator} $${params.length}${cast}`);
  };
  add('at', '>=', filter.from, '::timestamptz');
  add('at', '<', filter.to, '::timestamptz');
  add('principal', '=', filter.principal);
  add('action', '=', filter.action);
  add('repository', '=', filter.repository);
  return conditions;
}

function whereSql(conditions: string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** The nine INSERT parameters of one event, in column order. */
function eventParams(input: AuditEventInput): unknown[] {
  const { caller } = input;
  return [
    caller.name,
    caller.principalId ?? null,
    caller.ip,
    input.action,
    input.repository ?? null,
    input.reference ?? null,
    input.result,
    caller.requestId || null,
    input.detail === undefined ? null : JSON.stringify(input.detail),
  ];
}

function toEvent(row: AuditRow): AuditEvent {
  return { ...common(row), detail: row.detail };
}

function toExportedEvent(row: ExportRow): ExportedEvent {
  return { ...common(row), detailJson: row.detail_json };
}

function common(row: CommonRow): Omit<AuditEvent, 'detail'> {
  return {
    id: row.event_id,
    at: row.event_at,
    principal: row.principal,
    principalId: row.principal_id,
    clientIp: row.client_ip,
    action: row.action,
    repository: row.repository,
    reference: row.reference,
    result: row.result,
    requestId: row.request_id,
  };
}
