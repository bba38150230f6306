import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { StorageNotFoundError, type StorageDriver } from '../storage-driver';
import { StorageLayout } from '../storage-layout';

/**
 * The contract every `StorageDriver` must pass (see the guarantees on the port). Test-only:
 * imports `node:test`, so it is not exported from the package index; spec files import it by
 * path. `makeDriver` is called once per suite; tests use unique keys and upload ids.
 */
export interface StorageDriverFixture {
  driver: StorageDriver;
  cleanup(): Promise<void>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export function runStorageDriverSuite(
  name: string,
  makeDriver: () => Promise<StorageDriverFixture>,
): void {
  describe(`StorageDriver contract: ${name}`, () => {
    let fixture: StorageDriverFixture | undefined;
    const driver = (): StorageDriver => {
      if (fixture === undefined) throw new Error('driver fixture not created');
      return fixture.driver;
    };
    const run = randomUUID().slice(0, 8);
    const key = (label: string): string => `suite-${run}/${label}`;
    const layout = new StorageLayout();

    before(async () => {
      fixture = await makeDriver();
      await fixture.driver.ping();
    });

    after(async () => {
      if (fixture === undefined) return;
      await fixture.driver.close();
      await fixture.cleanup();
    });

    describe('objects', () => {
      it('puts, stats and reads back an object', async () => {
        const k = key('roundtrip/object');
        const content = patternBytes(1, 0, 300 * KiB + 7);
        await driver().put(k, content);
        assert.deepEqual(await driver().stat(k), { size: content.length });
        assert.ok((await driver().readAll(k)).equals(content));
        assert.ok((await collect(await driver().read(k))).equals(content));
      });

      it('stores an empty object', async () => {
        const k = key('empty');
        await driver().put(k, Buffer.alloc(0));
        assert.deepEqual(await driver().stat(k), { size: 0 });
        assert.equal((await driver().readAll(k)).length, 0);
        assert.equal((await collect(await driver().read(k))).length, 0);
      });

      it('stores objects under blob keys from StorageLayout', async () => {
        const content = Buffer.from('{"schemaVersion":2}');
        const k = layout.blob(`sha256:${sha256(content)}`);
        await driver().put(k, content);
        assert.ok((await driver().readAll(k)).equals(content));
        await driver().delete(k);
      });

      it('overwrites an existing object', async () => {
        const k = key('overwrite');
        await driver().put(k, patternBytes(2, 0, 2 * MiB));
        const replacement = patternBytes(3, 0, 1000);
        await driver().put(k, replacement);
        assert.deepEqual(await driver().stat(k), { size: 1000 });
        assert.ok((await driver().readAll(k)).equals(replacement));
      });

      it('reports missing objects', async () => {
        const k = key('missing/object');
        assert.equal(await driver().stat(k), undefined);
        await assertNotFound(driver().readAll(k), k);
        await assertNotFound(driver().read(k), k);
        await assertNotFound(driver().read(k, { start: 0, end: 10 }), k);
      });

      it('does not treat a key prefix as an object', async () => {
        await driver().put(key('dir/child'), Buffer.from('x'));
        assert.equal(await driver().stat(key('dir')), undefined);
        await assertNotFound(driver().readAll(key('dir')), key('dir'));
        await driver().delete(key('dir'));
        assert.deepEqual(await driver().stat(key('dir/child')), { size: 1 });
      });

      it('deletes idempotently', async () => {
        const k = key('delete-me');
        await driver().put(k, Buffer.from('bye'));
        await driver().delete(k);
        assert.equal(await driver().stat(k), undefined);
        await assertNotFound(driver().readAll(k), k);
        await driver().delete(k);
        await driver().delete(key('never-existed'));
      });

      it('serves byte ranges', async () => {
        const k = key('ranges');
        const content = patternBytes(4, 0, MiB + 123);
        await driver().put(k, content);
        const cases: Array<[number, number]> = [
          [0, 0],
          [0, 9],
          [1000, 1000 + 64 * KiB - 1],
          [content.length - 1, content.length - 1],
          [5, content.length - 1],
        ];
        for (const [start, end] of cases) {
          const bytes = await collect(await driver().read(k, { start, end }));
          assert.ok(bytes.equals(content.subarray(start, end + 1)), `range ${start}-${end}`);
        }
        const clamped = await collect(
          await driver().read(k, { start: content.length - 10, end: content.length + 1000 }),
        );
        assert.ok(clamped.equals(content.subarray(content.length - 10)), 'end past the size');
        await assert.rejects(
          async () =>
            collect(await driver().read(k, { start: content.length, end: content.length + 5 })),
          RangeError,
        );
        await assert.rejects(async () => driver().read(k, { start: 10, end: 5 }), RangeError);
      });

      it('replaces objects atomically for concurrent readers', async () => {
        const k = key('atomic-put');
        const versions = [patternBytes(5, 0, 3 * MiB), patternBytes(6, 0, 5 * MiB + 17)];
        const digests = new Set(versions.map(sha256));
        await driver().put(k, versions[0]);
        let writing = true;
        const writer = (async () => {
          try {
            for (let round = 1; round <= 8; round += 1) await driver().put(k, versions[round % 2]);
          } finally {
            writing = false;
          }
        })();
        const reader = async (streaming: boolean): Promise<number> => {
          let reads = 0;
          while (writing || reads < 2) {
            const bytes = streaming
              ? await collect(await driver().read(k))
              : await driver().readAll(k);
            assert.ok(
              digests.has(sha256(bytes)),
              `read ${reads} saw a partial object (${bytes.length} bytes)`,
            );
            reads += 1;
          }
          return reads;
        };
        const [, ...reads] = await Promise.all([writer, reader(false), reader(true), reader(true)]);
        assert.ok(reads.every((count) => count >= 2));
      });

      it('lists keys under a prefix', async () => {
        const base = key('list');
        const keys = [`${base}/ab1`, `${base}/ab2/x`, `${base}/ab2/y/z`, `${base}/c`];
        for (const k of keys) await driver().put(k, Buffer.from(k));
        assert.deepEqual(await listed(driver(), `${base}/`), [...keys].sort());
        assert.deepEqual(await listed(driver(), `${base}/ab`), keys.slice(0, 3).sort());
        assert.deepEqual(await listed(driver(), `${base}/ab2/`), keys.slice(1, 3).sort());
        assert.deepEqual(await listed(driver(), `${base}/nothing/`), []);
        await driver().delete(keys[0]);
        assert.deepEqual(await listed(driver(), `${base}/`), keys.slice(1).sort());
      });

      it('lists blob keys that map back to digests', async () => {
        const contents = [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')];
        const digests = contents.map((content) => `sha256:${sha256(content)}`);
        await Promise.all(
          contents.map((content, i) => driver().put(layout.blob(digests[i]), content)),
        );
        const found = (await listed(driver(), StorageLayout.blobsPrefix))
          .map((k) => layout.digestOfBlobKey(k))
          .filter((digest): digest is string => digest !== undefined);
        for (const digest of digests) assert.ok(found.includes(digest), digest);
        await Promise.all(digests.map((digest) => driver().delete(layout.blob(digest))));
      });

      it('hands out working presigned URLs when it supports them', async () => {
        const k = key('presigned');
        const content = patternBytes(7, 0, 200 * KiB);
        await driver().put(k, content);
        const url = await driver().presignedReadUrl(k, 60);
        if (url === undefined) return;
        const response = await fetch(url);
        assert.equal(response.status, 200);
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(content));
      });
    });

    describe('uploads', () => {
      it('starts empty', async () => {
        const id = randomUUID();
        await driver().createUpload(id);
        assert.equal(await driver().uploadSize(id), 0);
        assert.equal((await collect(await driver().readUpload(id))).length, 0);
        await assert.rejects(driver().createUpload(id), /already exists/);
        await driver().deleteUpload(id);
      });

      it('reports unknown uploads as not found', async () => {
        const id = randomUUID();
        await assert.rejects(driver().uploadSize(id), StorageNotFoundError);
        await assert.rejects(driver().readUpload(id), StorageNotFoundError);
        await assert.rejects(
          driver().writeUpload(id, 0, Readable.from([Buffer.from('x')])),
          StorageNotFoundError,
        );
        await assert.rejects(driver().commitUpload(id, key('never')), StorageNotFoundError);
        assert.equal(await driver().stat(key('never')), undefined);
      });

      it('appends chunks of odd sizes and commits them exactly', async () => {
        const id = randomUUID();
        const expected = new ExpectedContent();
        await driver().createUpload(id);
        for (const length of [1, 100 * KiB, 5 * MiB + 1, 17 * MiB]) {
          const offset = expected.size;
          const size = await driver().writeUpload(id, offset, patternStream(8, offset, length));
          expected.add(8, offset, length);
          assert.equal(size, expected.size);
          assert.equal(await driver().uploadSize(id), expected.size);
        }
        assert.equal(await digestOf(await driver().readUpload(id)), expected.digest());
        const k = key('odd-sizes');
        await driver().commitUpload(id, k);
        assert.deepEqual(await driver().stat(k), { size: expected.size });
        assert.equal(await digestOf(await driver().read(k)), expected.digest());
        await assert.rejects(driver().uploadSize(id), StorageNotFoundError);
        await assert.rejects(driver().readUpload(id), StorageNotFoundError);
      });

      it('accepts empty chunks', async () => {
        const id = randomUUID();
        await driver().createUpload(id);
        assert.equal(await driver().writeUpload(id, 0, Readable.from([])), 0);
        assert.equal(await driver().writeUpload(id, 0, patternStream(9, 0, 10)), 10);
        assert.equal(await driver().writeUpload(id, 10, Readable.from([])), 10);
        const k = key('empty-chunks');
        await driver().commitUpload(id, k);
        assert.ok((await driver().readAll(k)).equals(patternBytes(9, 0, 10)));
      });

      it('commits an empty upload as an empty object', async () => {
        const id = randomUUID();
        await driver().createUpload(id);
        const k = key('empty-upload');
        await driver().commitUpload(id, k);
        assert.deepEqual(await driver().stat(k), { size: 0 });
      });

      it('rejects a write past the end without changing the upload', async () => {
        const id = randomUUID();
        await driver().createUpload(id);
        await driver().writeUpload(id, 0, patternStream(10, 0, 100));
        await assert.rejects(driver().writeUpload(id, 101, patternStream(10, 101, 5)));
        assert.equal(await driver().uploadSize(id), 100);
        await driver().deleteUpload(id);
      });

      for (const [label, written, good] of [
        ['before any byte', 3 * MiB, 0],
        ['inside the first part', 3 * MiB, 2 * MiB],
        ['after several parts', 3 * MiB, 20 * MiB + 5],
        ['after an early write-back to disk', 3 * MiB, 40 * MiB + 5],
        ['from offset 0', 0, 6 * MiB],
      ] as const) {
        it(`retries a chunk whose body failed ${label}`, async () => {
          const id = randomUUID();
          const expected = new ExpectedContent();
          await driver().createUpload(id);
          if (written > 0) {
            await driver().writeUpload(id, 0, patternStream(11, 0, written));
            expected.add(11, 0, written);
          }
          await assert.rejects(
            driver().writeUpload(id, written, failingStream(12, written, good)),
            /client went away/,
          );
          const size = await driver().uploadSize(id);
          assert.ok(size >= written && size <= written + good, `size ${size} after the failure`);
          const length = 10 * MiB + 3;
          assert.equal(
            await driver().writeUpload(id, written, patternStream(13, written, length)),
            written + length,
          );
          expected.add(13, written, length);
          assert.equal(await digestOf(await driver().readUpload(id)), expected.digest());
          const k = key(`retried-${good}`);
          await driver().commitUpload(id, k);
          assert.equal(await digestOf(await driver().read(k)), expected.digest());
        });
      }

      it('restarts an upload at offset 0', async () => {
        const id = randomUUID();
        await driver().createUpload(id);
        await driver().writeUpload(id, 0, patternStream(14, 0, 20 * MiB));
        assert.equal(await driver().writeUpload(id, 0, patternStream(15, 0, MiB)), MiB);
        assert.equal(await driver().uploadSize(id), MiB);
        const expected = new ExpectedContent().add(15, 0, MiB);
        assert.equal(await digestOf(await driver().readUpload(id)), expected.digest());
        const k = key('restarted');
        await driver().commitUpload(id, k);
        assert.equal(await digestOf(await driver().read(k)), expected.digest());
      });

      it('discards data past the offset of a write', async () => {
        const id = randomUUID();
        await driver().createUpload(id);
        // Small upload: truncation inside the last (small) chunk.
        await driver().writeUpload(id, 0, patternStream(16, 0, MiB));
        assert.equal(
          await driver().writeUpload(id, 512 * KiB, patternStream(17, 512 * KiB, MiB)),
          1.5 * MiB,
        );
        // Large upload: truncation far back, then more data, then truncation inside it again.
        await driver().writeUpload(id, 1.5 * MiB, patternStream(18, 1.5 * MiB, 19 * MiB));
        assert.equal(
          await driver().writeUpload(id, 10 * MiB, patternStream(19, 10 * MiB, 9 * MiB)),
          19 * MiB,
        );
        assert.equal(
          await driver().writeUpload(id, 14 * MiB, patternStream(20, 14 * MiB, 3)),
          14 * MiB + 3,
        );
        const expected = new ExpectedContent()
          .add(16, 0, 512 * KiB)
          .add(17, 512 * KiB, MiB)
          .add(18, 1.5 * MiB, 8.5 * MiB)
          .add(19, 10 * MiB, 4 * MiB)
          .add(20, 14 * MiB, 3);
        assert.equal(await driver().uploadSize(id), expected.size);
        assert.equal(await digestOf(await driver().readUpload(id)), expected.digest());
        // And back to a few MiB, followed by a write longer than what was cut.
        assert.equal(
          await driver().writeUpload(id, 3 * MiB, patternStream(30, 3 * MiB, 6 * MiB)),
          9 * MiB,
        );
        expected.truncate(3 * MiB).add(30, 3 * MiB, 6 * MiB);
        assert.equal(await digestOf(await driver().readUpload(id)), expected.digest());
        const k = key('truncated');
        await driver().commitUpload(id, k);
        assert.equal(await digestOf(await driver().read(k)), expected.digest());
      });

      it('truncates with an empty write', async () => {
        const id = randomUUID();
        await driver().createUpload(id);
        await driver().writeUpload(id, 0, patternStream(31, 0, 20 * MiB));
        assert.equal(await driver().writeUpload(id, 3 * MiB, Readable.from([])), 3 * MiB);
        assert.equal(await driver().uploadSize(id), 3 * MiB);
        const expected = new ExpectedContent().add(31, 0, 3 * MiB);
        assert.equal(await digestOf(await driver().readUpload(id)), expected.digest());
        const k = key('truncated-empty');
        await driver().commitUpload(id, k);
        assert.equal(await digestOf(await driver().read(k)), expected.digest());
      });

      it('keeps accepting writes after readUpload', async () => {
        const id = randomUUID();
        const expected = new ExpectedContent();
        await driver().createUpload(id);
        for (const length of [6 * MiB, 7 * MiB]) {
          await driver().writeUpload(id, expected.size, patternStream(21, expected.size, length));
          expected.add(21, expected.size, length);
        }
        assert.equal(await digestOf(await driver().readUpload(id)), expected.digest());
        for (const length of [100, 9 * MiB]) {
          await driver().writeUpload(id, expected.size, patternStream(22, expected.size, length));
          expected.add(22, expected.size, length);
          assert.equal(await digestOf(await driver().readUpload(id)), expected.digest());
        }
        await driver().writeUpload(id, expected.size, patternStream(23, expected.size, 2 * MiB));
        expected.add(23, expected.size, 2 * MiB);
        const k = key('read-then-write');
        await driver().commitUpload(id, k);
        assert.equal(await digestOf(await driver().read(k)), expected.digest());
      });

      it('commits over an existing object with the same or other content', async () => {
        const content = patternBytes(24, 0, 6 * MiB + 1);
        const k = layout.blob(`sha256:${sha256(content)}`);
        await driver().put(k, content);
        for (const previous of [content, patternBytes(25, 0, 1234)]) {
          await driver().put(k, previous);
          const id = randomUUID();
          await driver().createUpload(id);
          await driver().writeUpload(id, 0, Readable.from([content]));
          await driver().commitUpload(id, k);
          assert.ok((await driver().readAll(k)).equals(content));
        }
        await driver().delete(k);
      });

      it('commits atomically for concurrent readers', async () => {
        const k = key('atomic-commit');
        const old = patternBytes(26, 0, 2 * MiB);
        await driver().put(k, old);
        const expected = new ExpectedContent().add(27, 0, 12 * MiB);
        const digests = new Set([sha256(old), expected.digest()]);
        const id = randomUUID();
        await driver().createUpload(id);
        await driver().writeUpload(id, 0, patternStream(27, 0, 12 * MiB));
        let committing = true;
        const commit = driver()
          .commitUpload(id, k)
          .finally(() => {
            committing = false;
          });
        let reads = 0;
        while (committing || reads < 2) {
          const digest = await digestOf(await driver().read(k));
          assert.ok(digests.has(digest), 'a reader saw a partial object');
          reads += 1;
        }
        await commit;
        assert.equal(await digestOf(await driver().read(k)), expected.digest());
      });

      it('deletes uploads idempotently', async () => {
        const id = randomUUID();
        await driver().createUpload(id);
        await driver().writeUpload(id, 0, patternStream(28, 0, 9 * MiB));
        await driver().deleteUpload(id);
        await assert.rejects(driver().uploadSize(id), StorageNotFoundError);
        await assert.rejects(
          driver().writeUpload(id, 0, patternStream(28, 0, 1)),
          StorageNotFoundError,
        );
        await assert.rejects(driver().commitUpload(id, key('deleted')), StorageNotFoundError);
        await driver().deleteUpload(id);
        await driver().deleteUpload(randomUUID());
        assert.equal(await driver().stat(key('deleted')), undefined);
      });

      it('streams a 64 MiB upload with bounded memory', async (t) => {
        const id = randomUUID();
        const length = 64 * MiB;
        await driver().createUpload(id);
        const baseline = process.memoryUsage().rss;
        let peak = baseline;
        const sampler = setInterval(() => {
          peak = Math.max(peak, process.memoryUsage().rss);
        }, 10);
        try {
          assert.equal(await driver().writeUpload(id, 0, patternStream(29, 0, length)), length);
          const k = key('large');
          await driver().commitUpload(id, k);
          assert.equal(
            await digestOf(await driver().read(k)),
            new ExpectedContent().add(29, 0, length).digest(),
          );
        } finally {
          clearInterval(sampler);
        }
        peak = Math.max(peak, process.memoryUsage().rss);
        const growth = peak - baseline;
        t.diagnostic(
          `peak RSS growth during a 64 MiB upload and commit: ${(growth / MiB).toFixed(1)} MiB`,
        );
        assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MiB`);
      });
    });
  });
}

// ---- content helpers ------------------------------------------------------------------

/** Deterministic bytes that depend on the absolute position, so misplaced data shows. */
export function patternBytes(seed: number, offset: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i += 1) {
    bytes[i] = Math.imul((offset + i) ^ Math.imul(seed, 0x27d4eb2d), 0x9e3779b1) >>> 24;
  }
  return bytes;
}

/** `patternBytes` as a stream of 256 KiB chunks, generated lazily. */
export function patternStream(seed: number, offset: number, length: number): Readable {
  return Readable.from(patternChunks(seed, offset, length), { objectMode: false });
}

function* patternChunks(seed: number, offset: number, length: number): Generator<Buffer> {
  const chunkSize = 256 * KiB;
  for (let done = 0; done < length; done += chunkSize) {
    yield patternBytes(seed, offset + done, Math.min(chunkSize, length - done));
  }
}

/** A body that sends `good` bytes and then fails, like a client that disconnects. */
function failingStream(seed: number, offset: number, good: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent < good) {
        const length = Math.min(64 * KiB, good - sent);
        this.push(patternBytes(seed, offset + sent, length));
        sent += length;
      } else {
        this.destroy(new Error('client went away'));
      }
    },
  });
}

/** What an upload should contain: runs of pattern bytes. */
export class ExpectedContent {
  private readonly runs: Array<{ seed: number; offset: number; length: number }> = [];

  get size(): number {
    return this.runs.reduce((sum, run) => sum + run.length, 0);
  }

  add(seed: number, offset: number, length: number): this {
    assert.equal(offset, this.size, 'runs must be contiguous');
    this.runs.push({ seed, offset, length });
    return this;
  }

  /** Drops everything past `size`. */
  truncate(size: number): this {
    let start = 0;
    for (let index = 0; index < this.runs.length; index += 1) {
      const run = this.runs[index];
      if (start + run.length >= size) {
        run.length = size - start;
        this.runs.splice(run.length === 0 ? index : index + 1);
        return this;
      }
      start += run.length;
    }
    return this;
  }

  digest(): string {
    const hash = createHash('sha256');
    for (const run of this.runs) {
      for (const chunk of patternChunks(run.seed, run.offset, run.length)) hash.update(chunk);
    }
    return hash.digest('hex');
  }
}

export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export async function digestOf(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Uint8Array);
  return hash.digest('hex');
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function listed(driver: StorageDriver, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of driver.list(prefix)) keys.push(k);
  return keys.sort();
}

async function assertNotFound(promise: Promise<unknown>, key: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(
      error instanceof StorageNotFoundError,
      `expected StorageNotFoundError, got ${String(error)}`,
    );
    assert.equal(error.key, key);
    return true;
  });
}
