import { Logger } from '@nestjs/common';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { matchesStreamFilter, type AuditEvent, type AuditStreamFilter } from './audit-event';
import type { AuditService } from './audit.service';

export interface AuditEventStreamOptions {
  /** A comment line is sent this often so proxies keep the connection and dead peers show. */
  heartbeatMs?: number;
  /** A client this far behind is disconnected (it resumes with Last-Event-ID). */
  maxBufferedBytes?: number;
  /** Extra response headers (e.g. X-Request-Id). */
  headers?: OutgoingHttpHeaders;
}

const DEFAULT_HEARTBEAT_MS = 15_000;
const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * One server-sent-events response carrying audit events: `id:` is the event id, `data:` its
 * JSON. With a Last-Event-ID the events after it are replayed first; live events arriving
 * meanwhile are held and sent after the replay, each event once. The subscription ends when
 * the client disconnects or the service shuts down.
 */
export class AuditEventStream {
  private readonly logger = new Logger('AuditStream');
  private readonly heartbeatMs: number;
  private readonly maxBufferedBytes: number;
  /** Live events that arrived during the replay, by id. */
  private readonly held = new Map<string, AuditEvent>();
  private replaying = false;
  private closed = false;
  private unsubscribe?: () => void;
  private heartbeat?: NodeJS.Timeout;

  constructor(
    private readonly audit: AuditService,
    private readonly res: ServerResponse,
    private readonly filter: AuditStreamFilter,
    private readonly options: AuditEventStreamOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  }

  /** Sends the headers, then the replay (if `lastEventId` is given); resolves once live. */
  async start(lastEventId?: string): Promise<void> {
    this.res.on('close', () => this.stop());
    this.replaying = lastEventId !== undefined;
    // Subscribe before answering: once the client sees the headers, no live event is missed.
    this.unsubscribe = this.audit.subscribe({
      event: (event) => this.onLive(event),
      close: () => this.end(),
    });
    if (this.closed) return;
    this.res.writeHead(200, {
      ...this.options.headers,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    this.write(`retry: 3000\n: audit events\n\n`);
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), this.heartbeatMs);
    if (lastEventId === undefined) return;
    try {
      for await (const batch of this.audit.replay(lastEventId, this.filter)) {
        for (const event of batch) {
          this.held.delete(event.id);
          this.send(event);
        }
        if (this.closed) return;
        if (this.res.writableNeedDrain) await this.drained();
        if (this.closed) return;
      }
    } catch (err) {
      this.logger.error(
        `replay after ${lastEventId} failed: ${err instanceof Error ? err.message : String(err)}`,
      );
      this.res.destroy();
      return;
    }
    this.replaying = false;
    const held = [...this.held.values()].sort((a, b) => compareIds(a.id, b.id));
    this.held.clear();
    for (const event of held) this.send(event);
  }

  private onLive(event: AuditEvent): void {
    if (this.closed || !matchesStreamFilter(event, this.filter)) return;
    if (this.replaying) {
      this.held.set(event.id, event);
      return;
    }
    this.send(event);
    if (this.res.writableLength > this.maxBufferedBytes) {
      this.logger.warn('audit stream client too slow: disconnecting it');
      this.end();
    }
  }

  private send(event: AuditEvent): void {
    this.write(`id: ${event.id}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  private write(chunk: string): void {
    if (!this.closed && !this.res.writableEnded && !this.res.destroyed) this.res.write(chunk);
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off('drain', done);
        this.res.off('close', done);
        resolve();
      };
      this.res.on('drain', done);
      this.res.on('close', done);
    });
  }

  private end(): void {
    if (this.closed) return;
    this.stop();
    if (!this.res.headersSent) this.res.writeHead(503, { 'Retry-After': '5' });
    this.res.end();
  }

  private stop(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribe?.();
    clearInterval(this.heartbeat);
    this.held.clear();
  }
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
