import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import type { BlobSource } from './content';
import { latencyOf, type Latency } from './stats';

/**
 * The load generator: OCI Distribution requests over an undici Pool with keep-alive
 * connections, one connection per concurrent client, and runners that drive N workers for
 * a fixed count or a fixed duration while recording per-operation latency.
 */

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

export class HttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path} -> ${status}: ${body.slice(0, 300)}`);
    this.name = 'HttpError';
  }
}

type Body = Buffer | Readable | string | undefined;

export class RegistryClient {
  readonly pool: Pool;

  constructor(
    readonly origin: string,
    connections: number,
  ) {
    this.pool = new Pool(origin, {
      connections,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      keepAliveMaxTimeout: 120_000,
      headersTimeout: 300_000,
      bodyTimeout: 300_000,
      connectTimeout: 10_000,
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** One request; the body is consumed (counted, or returned as text when `text`). */
  async send(
    method: Dispatcher.HttpMethod,
    path: string,
    options: {
      headers?: Record<string, string>;
      body?: Body;
      expect: number[];
      text?: boolean;
    },
  ): Promise<{ status: number; headers: Record<string, string>; bytes: number; text: string }> {
    const res = await this.pool.request({
      method,
      path,
      headers: options.headers,
      body: options.body,
      // undici closes the connection after every HEAD unless told not to (nodejs/undici#258);
      // registry clients keep HEAD connections alive, and so does this load generator.
      ...(method === 'HEAD' ? { reset: false } : {}),
    });
    let bytes = 0;
    let text = '';
    const wantText = options.text === true || !options.expect.includes(res.statusCode);
    if (wantText) {
      text = await res.body.text();
      bytes = Buffer.byteLength(text);
    } else if (method === 'HEAD') {
      await res.body.dump();
    } else {
      for await (const chunk of res.body) bytes += (chunk as Buffer).length;
    }
    if (!options.expect.includes(res.statusCode)) {
      throw new HttpError(method, path, res.statusCode, text);
    }
    const headers: Record<string, string> = {};
    for (const [key, value] of Object.entries(res.headers)) {
      if (value !== undefined) headers[key] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: res.statusCode, headers, bytes, text };
  }

  /** A Location header as a path on this origin (Distribution answers absolute URLs). */
  private locationPath(location: string | undefined, what: string): string {
    if (!location) throw new Error(`${what}: response has no Location`);
    const url = new URL(location, this.origin);
    return `${url.pathname}${url.search}`;
  }

  async startUpload(repo: string): Promise<string> {
    const res = await this.send('POST', `/v2/${repo}/blobs/uploads/`, {
      headers: { 'content-length': '0' },
      expect: [202],
    });
    return this.locationPath(res.headers.location, 'POST upload');
  }

  /** Monolithic push: POST, then PUT ?digest= with the whole body (what docker/containerd do). */
  async pushMonolithic(repo: string, blob: BlobSource): Promise<void> {
    const location = await this.startUpload(repo);
    await this.send('PUT', withQuery(location, 'digest', blob.digest), {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(blob.size),
      },
      body: blob.body(),
      expect: [201],
    });
  }

  /** Chunked push: POST, one PATCH with Content-Range per chunk, PUT ?digest= without body. */
  async pushChunked(repo: string, blob: BlobSource, chunkSize: number): Promise<void> {
    let location = await this.startUpload(repo);
    for (let start = 0; start < blob.size; start += chunkSize) {
      const end = Math.min(blob.size, start + chunkSize);
      const res = await this.send('PATCH', location, {
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(end - start),
          'content-range': `${start}-${end - 1}`,
        },
        body: blob.body(start, end),
        expect: [202],
      });
      location = this.locationPath(res.headers.location, 'PATCH upload');
    }
    await this.send('PUT', withQuery(location, 'digest', blob.digest), {
      headers: { 'content-length': '0' },
      expect: [201],
    });
  }

  /** GET a blob; returns the bytes received. */
  async pullBlob(repo: string, digest: string): Promise<number> {
    const res = await this.send('GET', `/v2/${repo}/blobs/${digest}`, { expect: [200] });
    return res.bytes;
  }

  async mountBlob(repo: string, digest: string, from: string): Promise<void> {
    await this.send(
      'POST',
      `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      { headers: { 'content-length': '0' }, expect: [201] },
    );
  }

  async putManifest(repo: string, reference: string, body: Buffer, mediaType: string) {
    await this.send('PUT', `/v2/${repo}/manifests/${reference}`, {
      headers: { 'content-type': mediaType, 'content-length': String(body.length) },
      body,
      expect: [201],
    });
  }

  async headManifest(repo: string, reference: string): Promise<void> {
    await this.send('HEAD', `/v2/${repo}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200],
    });
  }

  async getManifest(repo: string, reference: string): Promise<number> {
    const res = await this.send('GET', `/v2/${repo}/manifests/${reference}`, {
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200],
    });
    return res.bytes;
  }

  async deleteManifest(repo: string, digest: string): Promise<void> {
    await this.send('DELETE', `/v2/${repo}/manifests/${digest}`, { expect: [202, 404] });
  }

  async deleteBlob(repo: string, digest: string): Promise<void> {
    await this.send('DELETE', `/v2/${repo}/blobs/${digest}`, { expect: [202, 404] });
  }

  /**
   * Walks a paginated listing (`_catalog` or `tags/list`) following `Link` headers; returns
   * the number of pages and items. Bounded by `maxPages`.
   */
  async walk(
    firstPath: string,
    key: 'repositories' | 'tags',
    maxPages: number,
  ): Promise<{ pages: number; items: number }> {
    let path: string | undefined = firstPath;
    let pages = 0;
    let items = 0;
    while (path !== undefined) {
      if (pages >= maxPages) throw new Error(`listing walk exceeded ${maxPages} pages`);
      const res = await this.send('GET', path, { expect: [200], text: true });
      pages++;
      const parsed = JSON.parse(res.text) as Record<string, unknown>;
      const list = parsed[key];
      const count = Array.isArray(list) ? list.length : 0;
      items += count;
      const next = /<([^>]+)>\s*;\s*rel="?next"?/.exec(res.headers.link ?? '');
      path = next && count > 0 ? this.locationPath(next[1], 'Link') : undefined;
    }
    return { pages, items };
  }
}

export function withQuery(path: string, key: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

// --- runners ---------------------------------------------------------------------------------

export interface RunResult {
  /** Completed operations (an operation may be several HTTP requests, e.g. a push). */
  ops: number;
  /** HTTP requests issued by completed operations. */
  requests: number;
  bytes: number;
  elapsedMs: number;
  latency: Latency;
  errors: number;
  firstErrors: string[];
  /** Latency per operation kind, for operations that name one (e.g. pull and push in mixed). */
  byKind?: Record<string, Latency>;
}

export interface OpOutcome {
  bytes: number;
  requests: number;
  /** Groups this operation's latency in RunResult.byKind. */
  kind?: string;
}

/** Runs `count` operations with `concurrency` workers; op(i) performs operation i. */
export async function runCount(
  count: number,
  concurrency: number,
  op: (index: number, worker: number) => Promise<OpOutcome>,
): Promise<RunResult> {
  let next = 0;
  return drive(concurrency, () => (next < count ? next++ : undefined), op);
}

/** Runs operations with `concurrency` workers until `durationMs` has passed (bounded by maxOps). */
export async function runDuration(
  durationMs: number,
  concurrency: number,
  maxOps: number,
  op: (index: number, worker: number) => Promise<OpOutcome>,
): Promise<RunResult> {
  const deadline = performance.now() + durationMs;
  let next = 0;
  return drive(
    concurrency,
    () => (performance.now() < deadline && next < maxOps ? next++ : undefined),
    op,
  );
}

async function drive(
  concurrency: number,
  claim: () => number | undefined,
  op: (index: number, worker: number) => Promise<OpOutcome>,
): Promise<RunResult> {
  const latencies: number[] = [];
  const kindLatencies = new Map<string, number[]>();
  let bytes = 0;
  let requests = 0;
  let errors = 0;
  const firstErrors: string[] = [];
  const started = performance.now();
  const worker = async (w: number): Promise<void> => {
    for (let i = claim(); i !== undefined; i = claim()) {
      const t0 = performance.now();
      try {
        const outcome = await op(i, w);
        const latency = performance.now() - t0;
        latencies.push(latency);
        if (outcome.kind !== undefined) {
          const samples = kindLatencies.get(outcome.kind) ?? [];
          samples.push(latency);
          kindLatencies.set(outcome.kind, samples);
        }
        bytes += outcome.bytes;
        requests += outcome.requests;
      } catch (err) {
        errors++;
        if (firstErrors.length < 5)
          firstErrors.push(err instanceof Error ? err.message : String(err));
        // An error storm (server gone) must not spin: stop this worker after many failures.
        if (errors > 50) return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  const elapsedMs = performance.now() - started;
  return {
    ops: latencies.length,
    requests,
    bytes,
    elapsedMs,
    latency: latencyOf(latencies),
    errors,
    firstErrors,
    byKind: Object.fromEntries([...kindLatencies].map(([kind, xs]) => [kind, latencyOf(xs)])),
  };
}
