/**
 * A multi-GiB blob pushed with chunked PATCHes and pulled back, both streamed (the digest is
 * computed while streaming), while the registry's resident memory is sampled: the registry must
 * stream too, so its peak RSS stays under a fixed bound whatever the blob size.
 *
 *   E2E_LARGE_BLOB_BYTES        blob size (default 5 GiB)
 *   E2E_LARGE_BLOB_CHUNK_BYTES  PATCH size (default 256 MiB)
 *   E2E_LARGE_BLOB_MAX_RSS_MIB  bound on the registry's peak RSS (default 400)
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import { http, RegistryClient, RegistryError, withQuery } from './registry-client';
import { GiB, MiB } from './tools';

function envBytes(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new Error(`${name} must be a positive integer, got ${v}`);
  return n;
}

const SIZE = envBytes('E2E_LARGE_BLOB_BYTES', 5 * GiB);
const CHUNK = envBytes('E2E_LARGE_BLOB_CHUNK_BYTES', 256 * MiB);
const MAX_RSS_MIB = envBytes('E2E_LARGE_BLOB_MAX_RSS_MIB', 400);
const BLOCK = MiB;

/**
 * Deterministic content of any length without holding it: 1 MiB blocks picked from a 64 MiB
 * random pool by a permutation of the block index.
 */
class PatternContent {
  private readonly pool = randomBytes(64 * MiB);
  private readonly blocks = this.pool.length / BLOCK;

  /** A stream of bytes [start, start + length) that also feeds `hash` (call in order). */
  stream(start: number, length: number, hash: ReturnType<typeof createHash>): Readable {
    let pos = start;
    const end = start + length;
    const pool = this.pool;
    const blocks = this.blocks;
    return new Readable({
      highWaterMark: 4 * BLOCK,
      read() {
        while (pos < end) {
          const block = Math.floor(pos / BLOCK);
          const within = pos % BLOCK;
          const src = ((block * 40503) % blocks) * BLOCK;
          const n = Math.min(BLOCK - within, end - pos);
          const chunk = pool.subarray(src + within, src + within + n);
          hash.update(chunk);
          pos += n;
          if (!this.push(chunk)) return;
        }
        this.push(null);
      },
    });
  }
}

/** Sum of VmRSS (KiB) over a process and its descendants. */
async function treeRssKiB(pid: number): Promise<number> {
  let total = 0;
  const visit = async (p: number): Promise<void> => {
    try {
      const status = await readFile(`/proc/${p}/status`, 'utf8');
      const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
      total += m?.[1] !== undefined ? Number(m[1]) : 0;
      for (const tid of await readdir(`/proc/${p}/task`)) {
        const children = (await readFile(`/proc/${p}/task/${tid}/children`, 'utf8')).trim();
        for (const c of children === '' ? [] : children.split(/\s+/)) await visit(Number(c));
      }
    } catch {
      // the process exited between reads
    }
  };
  await visit(pid);
  return total;
}

class RssSampler {
  peakKiB = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(private readonly pid: number) {}

  start(intervalMs = 200): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = true;
      treeRssKiB(this.pid)
        .then((kib) => {
          this.samples++;
          this.peakKiB = Math.max(this.peakKiB, kib);
        })
        .catch(() => undefined)
        .finally(() => {
          this.busy = false;
        });
    }, intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

describe('large blob', () => {
  let reg: RunningRegistry;
  let client: RegistryClient;

  before(async () => {
    reg = await startRegistry();
    client = new RegistryClient(reg.url);
  });

  after(async () => {
    await reg?.stop();
  });

  it(
    `streams a ${mib(SIZE)} blob in and out in bounded memory`,
    { timeout: 60 * 60_000 },
    async (t) => {
      const pid = reg.process.pid;
      assert.ok(pid !== undefined);
      const sampler = new RssSampler(pid);
      const baselineKiB = await treeRssKiB(pid);
      sampler.start();
      const repo = 'e2e/large';
      const content = new PatternContent();
      try {
        // ---- push: POST, PATCH chunks with Content-Range, PUT ?digest=
        const pushStarted = Date.now();
        const hash = createHash('sha256');
        const start = await http(client.url(`/v2/${repo}/blobs/uploads/`), {
          method: 'POST',
          headers: { 'content-length': 0 },
        });
        if (start.status !== 202) throw new RegistryError('POST upload', start);
        let location = client.resolveLocation(start);
        for (let off = 0; off < SIZE; off += CHUNK) {
          const len = Math.min(CHUNK, SIZE - off);
          const res = await http(location, {
            method: 'PATCH',
            headers: {
              'content-type': 'application/octet-stream',
              'content-length': len,
              'content-range': `${off}-${off + len - 1}`,
            },
            body: content.stream(off, len, hash),
            timeoutMs: 10 * 60_000,
          });
          if (res.status !== 202) throw new RegistryError(`PATCH at ${off}`, res);
          const range = res.headers['range'];
          assert.equal(range, `0-${off + len - 1}`, 'Range header after PATCH');
          location = client.resolveLocation(res);
        }
        const digest = `sha256:${hash.digest('hex')}`;
        const put = await http(withQuery(location, { digest }), {
          method: 'PUT',
          headers: { 'content-length': 0 },
          timeoutMs: 30 * 60_000,
        });
        if (put.status !== 201) throw new RegistryError('PUT ?digest=', put);
        const pushMs = Date.now() - pushStarted;
        const pushPeak = sampler.peakKiB;

        // ---- HEAD and streamed GET
        const head = await client.headBlob(repo, digest);
        assert.equal(head.status, 200);
        assert.equal(Number(head.headers['content-length']), SIZE);
        const pullStarted = Date.now();
        const got = await client.fetchBlobHashed(repo, digest);
        const pullMs = Date.now() - pullStarted;
        assert.equal(got.status, 200);
        assert.equal(got.size, SIZE, 'pulled size');
        assert.equal(got.digest, digest, 'pulled bytes hash to a different digest');

        sampler.stop();
        const peakMiB = sampler.peakKiB / 1024;
        t.diagnostic(
          `size=${mib(SIZE)} chunk=${mib(CHUNK)} push=${(pushMs / 1000).toFixed(1)}s ` +
            `(${mib((SIZE / pushMs) * 1000)}/s) pull=${(pullMs / 1000).toFixed(1)}s ` +
            `(${mib((SIZE / pullMs) * 1000)}/s)`,
        );
        t.diagnostic(
          `registry RSS: baseline=${(baselineKiB / 1024).toFixed(1)} MiB ` +
            `peak during push=${(pushPeak / 1024).toFixed(1)} MiB ` +
            `peak overall=${peakMiB.toFixed(1)} MiB (${sampler.samples} samples, bound ${MAX_RSS_MIB} MiB)`,
        );
        assert.ok(sampler.samples > 0, 'no RSS samples taken');
        assert.ok(
          peakMiB < MAX_RSS_MIB,
          `registry peak RSS ${peakMiB.toFixed(1)} MiB >= ${MAX_RSS_MIB} MiB: it buffers blobs in memory`,
        );

        // free the disk space early (delete is part of the API contract too)
        const del = await http(client.url(`/v2/${repo}/blobs/${digest}`), { method: 'DELETE' });
        assert.equal(del.status, 202);
      } finally {
        sampler.stop();
      }
    },
  );
});
