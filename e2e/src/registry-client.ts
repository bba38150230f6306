/**
 * A small OCI distribution API client on node:http, written against the spec only
 * (https://github.com/opencontainers/distribution-spec/blob/main/spec.md). Used where the specs
 * need raw control: streaming uploads, crash tests, consistency checks.
 */
import { createHash } from 'node:crypto';
import {
  Agent,
  type ClientRequest,
  request,
  type IncomingHttpHeaders,
  type IncomingMessage,
} from 'node:http';
import type { Readable } from 'node:stream';
import {
  type Blob,
  type Descriptor,
  type Digest,
  type GeneratedImage,
  type GeneratedIndex,
  type ImageManifest,
  isIndex,
  MANIFEST_ACCEPT,
  sha256,
} from './tools';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string | Readable;
  timeoutMs?: number;
}

/**
 * One connection per request: a registry may close a connection after answering without reading
 * the request body (allowed by HTTP), which with keep-alive races with the next request on that
 * socket and shows up as spurious "socket hang up" errors.
 */
const agent = new Agent({ keepAlive: false });

function open(
  url: string,
  opts: RequestOptions,
): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  return new Promise((resolvePromise, reject) => {
    const headers = opts.headers ?? {};
    const expectContinue = Object.entries(headers).some(
      ([k, v]) => k.toLowerCase() === 'expect' && String(v).toLowerCase() === '100-continue',
    );
    const req = request(url, { method: opts.method ?? 'GET', headers, agent }, (res) =>
      resolvePromise({ req, res }),
    );
    req.setTimeout(opts.timeoutMs ?? 60_000, () =>
      req.destroy(new Error(`timeout: ${opts.method ?? 'GET'} ${url}`)),
    );
    req.on('error', reject);
    const send = (): void => {
      const body = opts.body;
      if (body === undefined) {
        req.end();
      } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
        req.end(body);
      } else {
        body.on('error', (e) => req.destroy(e));
        body.pipe(req);
      }
    };
    if (expectContinue && opts.body !== undefined) {
      // send the body only once the server asks for it; a final answer may come first
      req.flushHeaders();
      req.once('continue', send);
    } else {
      send();
    }
  });
}

/** One HTTP request with the whole response body in memory. */
export async function http(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const { req, res } = await open(url, opts);
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  // answered before the body was sent (Expect: 100-continue): drop the half-sent request
  if (!req.writableFinished) req.destroy();
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

/** One HTTP request whose response body is streamed through sha256 (nothing kept in memory). */
export async function httpHashed(
  url: string,
  opts: RequestOptions = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; digest: Digest; size: number }> {
  const { res } = await open(url, opts);
  const h = createHash('sha256');
  let size = 0;
  for await (const c of res) {
    const b = c as Buffer;
    h.update(b);
    size += b.length;
  }
  return {
    status: res.statusCode ?? 0,
    headers: res.headers,
    digest: `sha256:${h.digest('hex')}`,
    size,
  };
}

export class RegistryError extends Error {
  constructor(
    message: string,
    readonly response: HttpResponse,
  ) {
    super(`${message}: HTTP ${response.status} ${response.body.toString('utf8').slice(0, 500)}`);
  }
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** A client for one registry base URL (http://127.0.0.1:PORT). */
export class RegistryClient {
  constructor(readonly baseUrl: string) {}

  url(path: string): string {
    return new URL(path, this.baseUrl).toString();
  }

  /** Resolves a Location header (absolute or relative) against the registry. */
  resolveLocation(res: HttpResponse | { headers: IncomingHttpHeaders }): string {
    const loc = header(res.headers, 'location');
    if (loc === undefined) throw new Error('response has no Location header');
    return new URL(loc, this.baseUrl).toString();
  }

  async ping(): Promise<HttpResponse> {
    return http(this.url('/v2/'));
  }

  /** Monolithic upload: POST to start, PUT ?digest= with the whole body. */
  async pushBlob(repo: string, blob: Pick<Blob, 'digest' | 'data'>): Promise<void> {
    const start = await http(this.url(`/v2/${repo}/blobs/uploads/`), {
      method: 'POST',
      headers: { 'content-length': 0 },
    });
    if (start.status !== 202) throw new RegistryError(`POST upload ${repo}`, start);
    const put = await http(withQuery(this.resolveLocation(start), { digest: blob.digest }), {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', 'content-length': blob.data.length },
      body: blob.data,
    });
    if (put.status !== 201) throw new RegistryError(`PUT blob ${blob.digest} to ${repo}`, put);
  }

  /** Single-request monolithic upload: POST ?digest= with the body. */
  async pushBlobSinglePost(repo: string, blob: Pick<Blob, 'digest' | 'data'>): Promise<void> {
    const res = await http(
      this.url(`/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(blob.digest)}`),
      {
        method: 'POST',
        // a registry without single-POST support answers 202 without reading the body
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': blob.data.length,
          expect: '100-continue',
        },
        body: blob.data,
      },
    );
    if (res.status === 201) return;
    if (res.status === 202) {
      // the registry may ignore the single-POST form and open a session instead (allowed by the spec)
      const put = await http(withQuery(this.resolveLocation(res), { digest: blob.digest }), {
        method: 'PUT',
        headers: { 'content-type': 'application/octet-stream', 'content-length': blob.data.length },
        body: blob.data,
      });
      if (put.status !== 201) throw new RegistryError(`PUT blob ${blob.digest} to ${repo}`, put);
      return;
    }
    throw new RegistryError(`POST blob ${blob.digest} to ${repo}`, res);
  }

  /** Chunked upload: POST, PATCH each chunk with Content-Range, PUT ?digest= to close. */
  async pushBlobChunked(
    repo: string,
    blob: Pick<Blob, 'digest' | 'data'>,
    chunkSize: number,
  ): Promise<void> {
    const start = await http(this.url(`/v2/${repo}/blobs/uploads/`), {
      method: 'POST',
      headers: { 'content-length': 0 },
    });
    if (start.status !== 202) throw new RegistryError(`POST upload ${repo}`, start);
    let location = this.resolveLocation(start);
    for (let off = 0; off < blob.data.length; off += chunkSize) {
      const chunk = blob.data.subarray(off, Math.min(off + chunkSize, blob.data.length));
      const res = await http(location, {
        method: 'PATCH',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': chunk.length,
          'content-range': `${off}-${off + chunk.length - 1}`,
        },
        body: chunk,
      });
      if (res.status !== 202) throw new RegistryError(`PATCH ${repo} at ${off}`, res);
      location = this.resolveLocation(res);
    }
    const put = await http(withQuery(location, { digest: blob.digest }), {
      method: 'PUT',
      headers: { 'content-length': 0 },
    });
    if (put.status !== 201) throw new RegistryError(`PUT blob ${blob.digest} to ${repo}`, put);
  }

  /** Cross-repository mount; returns true when mounted (201), false when the registry opened an upload instead. */
  async mountBlob(repo: string, digest: string, from: string): Promise<boolean> {
    const res = await http(
      this.url(
        `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      ),
      { method: 'POST', headers: { 'content-length': 0 } },
    );
    if (res.status === 201) return true;
    if (res.status === 202) {
      // abandon the opened session
      await http(this.resolveLocation(res), { method: 'DELETE' }).catch(() => undefined);
      return false;
    }
    throw new RegistryError(`mount ${digest} from ${from} into ${repo}`, res);
  }

  async headBlob(repo: string, digest: string): Promise<HttpResponse> {
    return http(this.url(`/v2/${repo}/blobs/${digest}`), { method: 'HEAD' });
  }

  /** GETs a blob, following redirects, hashing the stream. */
  async fetchBlobHashed(
    repo: string,
    digest: string,
  ): Promise<{ status: number; digest: Digest; size: number }> {
    let url = this.url(`/v2/${repo}/blobs/${digest}`);
    for (let i = 0; i < 5; i++) {
      const r = await httpHashed(url, { timeoutMs: 600_000 });
      if (r.status >= 300 && r.status < 400) {
        url = this.resolveLocation(r);
        continue;
      }
      return r;
    }
    throw new Error(`too many redirects fetching ${repo}@${digest}`);
  }

  async pushManifest(
    repo: string,
    reference: string,
    manifest: Pick<Blob, 'data' | 'mediaType' | 'digest'>,
  ): Promise<HttpResponse> {
    const res = await http(this.url(`/v2/${repo}/manifests/${reference}`), {
      method: 'PUT',
      headers: { 'content-type': manifest.mediaType, 'content-length': manifest.data.length },
      body: manifest.data,
    });
    if (res.status !== 201) throw new RegistryError(`PUT manifest ${repo}:${reference}`, res);
    return res;
  }

  async getManifest(repo: string, reference: string): Promise<HttpResponse> {
    return http(this.url(`/v2/${repo}/manifests/${reference}`), {
      headers: { accept: MANIFEST_ACCEPT },
    });
  }

  async deleteManifest(repo: string, digest: string): Promise<HttpResponse> {
    return http(this.url(`/v2/${repo}/manifests/${digest}`), { method: 'DELETE' });
  }

  /** Pushes an image's blobs (monolithic) and then its manifest under `reference`. */
  async pushImage(repo: string, img: GeneratedImage, reference: string): Promise<void> {
    for (const b of img.blobs) await this.pushBlob(repo, b);
    await this.pushManifest(repo, reference, img.manifest);
  }

  async pushIndex(repo: string, idx: GeneratedIndex, reference: string): Promise<void> {
    for (const img of idx.images) await this.pushImage(repo, img, img.manifest.digest);
    await this.pushManifest(repo, reference, idx.index);
  }

  /** Follows `Link: <...>; rel="next"` pagination. */
  private async paginate<T>(
    first: string,
    pick: (json: unknown) => T[],
  ): Promise<{ items: T[]; status: number; last: HttpResponse }> {
    const items: T[] = [];
    let url: string | undefined = first;
    let last: HttpResponse | undefined;
    for (let page = 0; url !== undefined && page < 10_000; page++) {
      last = await http(url);
      if (last.status !== 200) return { items, status: last.status, last };
      items.push(...pick(JSON.parse(last.body.toString('utf8')) as unknown));
      const link = header(last.headers, 'link');
      const m = link !== undefined ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
      url = m?.[1] !== undefined ? new URL(m[1], this.baseUrl).toString() : undefined;
    }
    if (last === undefined) throw new Error('no page fetched');
    return { items, status: 200, last };
  }

  /** Repositories from GET /v2/_catalog (paginated). */
  async catalog(pageSize = 100): Promise<string[]> {
    const r = await this.paginate(
      this.url(`/v2/_catalog?n=${pageSize}`),
      (j) => (j as { repositories?: string[] | null }).repositories ?? [],
    );
    if (r.status !== 200) throw new RegistryError('GET /v2/_catalog', r.last);
    return r.items;
  }

  /** Tags from GET /v2/<name>/tags/list (paginated); undefined when the repository is unknown (404). */
  async tags(repo: string, pageSize = 100): Promise<string[] | undefined> {
    const r = await this.paginate(
      this.url(`/v2/${repo}/tags/list?n=${pageSize}`),
      (j) => (j as { tags?: string[] | null }).tags ?? [],
    );
    if (r.status === 404) return undefined;
    if (r.status !== 200) throw new RegistryError(`GET tags of ${repo}`, r.last);
    return r.items;
  }

  async referrers(repo: string, digest: string, artifactType?: string): Promise<HttpResponse> {
    const q = artifactType !== undefined ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
    return http(this.url(`/v2/${repo}/referrers/${digest}${q}`), {
      headers: { accept: 'application/vnd.oci.image.index.v1+json' },
    });
  }
}

export function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}

export interface ConsistencyProblem {
  where: string;
  problem: string;
}

export interface ConsistencyReport {
  repositories: number;
  tags: number;
  manifests: number;
  blobs: number;
  problems: ConsistencyProblem[];
  /** tag -> manifest digest, per repository */
  resolved: Map<string, Map<string, string>>;
}

/**
 * Walks every repository in the catalog and every tag in it: the tag must resolve to a manifest
 * whose bytes hash to Docker-Content-Digest (when sent), every child manifest of an index must
 * resolve, and every config/layer blob must be fetchable with bytes hashing to its digest and the
 * descriptor's size.
 */
export async function checkConsistency(client: RegistryClient): Promise<ConsistencyReport> {
  const report: ConsistencyReport = {
    repositories: 0,
    tags: 0,
    manifests: 0,
    blobs: 0,
    problems: [],
    resolved: new Map(),
  };
  const checkedBlobs = new Set<string>();
  const checkManifest = async (
    repo: string,
    ref: string,
    expected?: Descriptor,
  ): Promise<string | undefined> => {
    const where = `${repo}@${ref}`;
    const res = await client.getManifest(repo, ref);
    if (res.status !== 200) {
      report.problems.push({
        where,
        problem: `manifest GET returned ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`,
      });
      return undefined;
    }
    report.manifests++;
    const digest = sha256(res.body);
    const headerDigest = header(res.headers, 'docker-content-digest');
    if (headerDigest !== undefined && headerDigest !== digest) {
      report.problems.push({
        where,
        problem: `Docker-Content-Digest ${headerDigest} but body hashes to ${digest}`,
      });
    }
    if (
      expected !== undefined &&
      (expected.digest !== digest || expected.size !== res.body.length)
    ) {
      report.problems.push({
        where,
        problem: `descriptor ${expected.digest}/${expected.size} but got ${digest}/${res.body.length}`,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.body.toString('utf8'));
    } catch {
      report.problems.push({ where, problem: 'manifest is not JSON' });
      return digest;
    }
    if (isIndex(parsed)) {
      for (const child of parsed.manifests) await checkManifest(repo, child.digest, child);
      return digest;
    }
    const m = parsed as ImageManifest;
    for (const b of [m.config, ...(m.layers ?? [])]) {
      const key = `${repo}@${b.digest}`;
      if (checkedBlobs.has(key)) continue;
      checkedBlobs.add(key);
      report.blobs++;
      const got = await client.fetchBlobHashed(repo, b.digest);
      if (got.status !== 200) {
        report.problems.push({
          where: `${repo}@${b.digest}`,
          problem: `blob GET returned ${got.status} (referenced by ${where})`,
        });
      } else if (got.digest !== b.digest || got.size !== b.size) {
        report.problems.push({
          where: `${repo}@${b.digest}`,
          problem: `blob bytes hash to ${got.digest} (${got.size} bytes), descriptor says ${b.digest} (${b.size})`,
        });
      }
    }
    return digest;
  };
  for (const repo of await client.catalog()) {
    report.repositories++;
    const tags = await client.tags(repo);
    const resolved = new Map<string, string>();
    report.resolved.set(repo, resolved);
    // A repository may be listed while it has no tags (only untagged manifests, or, in
    // Distribution, only upload sessions); tags/list may then answer 404 NAME_UNKNOWN or [].
    for (const tag of tags ?? []) {
      report.tags++;
      const d = await checkManifest(repo, tag);
      if (d !== undefined) resolved.set(tag, d);
    }
  }
  return report;
}
