import { Injectable } from '@nestjs/common';
import type { ReadCounts } from '@berth/storage';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of the data plane, served at `/metrics`. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'berth_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'HTTP request latency by route and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly received = new Counter({
    name: 'berth_registry_bytes_received_total',
    help: 'Blob bytes received from clients',
    registers: [this.registry],
  });
  private readonly sent = new Counter({
    name: 'berth_registry_bytes_sent_total',
    help: 'Blob and manifest bytes sent to clients',
    registers: [this.registry],
  });

  private readonly gcBytes = new Counter({
    name: 'berth_gc_reclaimed_bytes_total',
    help: 'Blob bytes deleted by garbage collection',
    registers: [this.registry],
  });
  private readonly gcBlobs = new Counter({
    name: 'berth_gc_reclaimed_blobs_total',
    help: 'Blobs deleted by garbage collection',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'berth_' });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.requests.inc({ route, method, status: String(status) });
    this.latency.observe({ route, method }, seconds);
  }

  bytesReceived(bytes: number): void {
    if (bytes > 0) this.received.inc(bytes);
  }

  bytesSent(bytes: number): void {
    if (bytes > 0) this.sent.inc(bytes);
  }

  gcReclaimed(bytes: number, blobs: number): void {
    this.gcBytes.inc(bytes);
    this.gcBlobs.inc(blobs);
  }

  /**
   * Local-disk download reads (`FilesystemStorageDriver.readCounts`), read at each scrape: how
   * many ran inline on the event loop, how many in libuv's thread pool, and how many inline
   * reads were slow enough to send downloads back to the pool for a while.
   */
  watchFileReads(counts: () => ReadCounts): void {
    new Counter({
      name: 'berth_storage_file_reads_total',
      help: 'Local-disk download reads by where they ran: inline (event loop) or pool (thread pool)',
      labelNames: ['mode'] as const,
      registers: [this.registry],
      collect() {
        const now = counts();
        this.reset();
        this.inc({ mode: 'inline' }, now.inline);
        this.inc({ mode: 'pool' }, now.pool);
      },
    });
    new Counter({
      name: 'berth_storage_slow_inline_reads_total',
      help: 'Inline local-disk reads over the slow limit (each paused inline reads for a while)',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(counts().slow);
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
