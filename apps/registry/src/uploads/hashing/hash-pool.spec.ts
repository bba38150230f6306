import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { HashPool, LocalHasher, type Hasher } from './hash-pool';

async function feed(hasher: Hasher, data: Buffer, sizes: number[]): Promise<void> {
  let offset = 0;
  let i = 0;
  while (offset < data.length) {
    const size = Math.min(sizes[i++ % sizes.length], data.length - offset);
    await hasher.update(data.subarray(offset, offset + size));
    offset += size;
  }
}

const hex = (algorithm: string, ...parts: Buffer[]): string => {
  const hash = createHash(algorithm);
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
};

describe('HashPool', () => {
  const pools: HashPool[] = [];
  const pool = (workers: number, workerFile?: string): HashPool => {
    const created = new HashPool({ workers }, workerFile);
    pools.push(created);
    return created;
  };
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('hashes on a worker exactly as node:crypto does, whatever the chunking', async () => {
    const hashes = pool(2);
    // Chunks that straddle the 512 KiB batches in every way, plus empty ones.
    const data = randomBytes(3 * 1024 * 1024 + 12_345);
    for (const algorithm of ['sha256', 'sha512']) {
      for (const sizes of [[1, 100, 70_000, 0, 600_001], [16_384], [4 * 1024 * 1024]]) {
        const hasher = hashes.create(algorithm);
        assert.ok(!(hasher instanceof LocalHasher), 'a large body is hashed on a worker');
        await feed(hasher, data, sizes);
        assert.equal(await hasher.digest(), hex(algorithm, data), `${algorithm} ${sizes.join()}`);
        hasher.dispose();
      }
    }
  });

  it('holds an upload to a few batches in flight: a big chunk makes update wait', async () => {
    const hasher = pool(1).create('sha256');
    const data = randomBytes(8 * 1024 * 1024);
    const wait = hasher.update(data);
    assert.ok(wait instanceof Promise, 'update returns a promise when the batches are all out');
    await wait;
    assert.equal(await hasher.digest(), hex('sha256', data));
    hasher.dispose();
  });

  it('copies a running state, and digest() does not end it', async () => {
    const hashes = pool(1);
    const [x, y, z] = [randomBytes(700_000), randomBytes(300_000), randomBytes(900_000)];
    const a = hashes.create('sha256');
    await a.update(x);
    const b = a.copy();
    assert.equal(await a.digest(), hex('sha256', x));
    await a.update(y);
    await b.update(z);
    assert.equal(await a.digest(), hex('sha256', x, y));
    assert.equal(await b.digest(), hex('sha256', x, z));
    a.dispose();
    assert.equal(await b.digest(), hex('sha256', x, z), 'a copy outlives its source');
    b.dispose();
    b.dispose();
    await assert.rejects(b.digest(), /disposed/);
  });

  it('hashes small bodies, and everything without workers, on the calling thread', async () => {
    assert.ok(pool(1).create('sha256', 1000) instanceof LocalHasher);
    assert.ok(pool(1).create('sha256', 1024 * 1024) instanceof LocalHasher);
    assert.ok(!(pool(1).create('sha256', 16 * 1024 * 1024) instanceof LocalHasher));
    const inline = pool(0).create('sha256');
    assert.ok(inline instanceof LocalHasher);
    const data = randomBytes(100_000);
    assert.equal(inline.update(data), undefined);
    assert.equal(await inline.digest(), hex('sha256', data));
    assert.throws(() => pool(1).create('md4-nope'), /Digest method not supported/);
  });

  it('fails the hashers of a worker that dies, and starts a new one for later hashers', async () => {
    // The real worker plus a trap: opening a sha384 hasher kills the thread.
    const dir = mkdtempSync(join(tmpdir(), 'hash-pool-'));
    const trap = join(dir, 'trap-worker.js');
    writeFileSync(
      trap,
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', (m) => { if (m.op === 'open' && m.algorithm === 'sha384') process.exit(7); });
       require(${JSON.stringify(join(__dirname, 'hash-worker.js'))});`,
    );
    try {
      const hashes = pool(1, trap);
      const victim = hashes.create('sha256');
      await victim.update(randomBytes(1024 * 1024));
      hashes.create('sha384');
      const doomed = victim.digest();
      await assert.rejects(doomed, /hash worker exited \(7\)/);
      await assert.rejects(victim.digest(), /hash worker exited/);
      assert.throws(() => victim.copy(), /hash worker exited/);

      const next = hashes.create('sha256');
      const data = randomBytes(2 * 1024 * 1024);
      await feed(next, data, [65_536]);
      assert.equal(await next.digest(), hex('sha256', data));
      next.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops an idle worker and starts one again for the next hasher', async () => {
    const hashes = new HashPool({ workers: 1, idleStopMs: 50 });
    pools.push(hashes);
    assert.equal(hashes.runningWorkers, 0, 'no worker before the first hasher');
    const first = hashes.create('sha256');
    await first.update(randomBytes(700_000));
    assert.equal(hashes.runningWorkers, 1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(hashes.runningWorkers, 1, 'a hasher is open: the worker stays');
    first.dispose();
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(hashes.runningWorkers, 0, 'idle: the worker ended');
    const next = hashes.create('sha256');
    const data = randomBytes(900_000);
    await next.update(data);
    assert.equal(await next.digest(), hex('sha256', data));
    next.dispose();
  });

  it('after close, pending digests fail and new hashers run on the event loop', async () => {
    const hashes = new HashPool({ workers: 1 });
    const hasher = hashes.create('sha256');
    await hasher.update(randomBytes(600_000));
    await hashes.close();
    await assert.rejects(hasher.digest(), /stopped/);
    assert.ok(hashes.create('sha256') instanceof LocalHasher);
  });
});
