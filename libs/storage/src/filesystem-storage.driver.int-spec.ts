import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { access, mkdtemp, readdir, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FilesystemStorageDriver } from './filesystem-storage.driver';
import { StorageNotFoundError } from './storage-driver';
import { StorageLayout } from './storage-layout';
import { runStorageDriverSuite } from './testing/storage-driver.suite';

runStorageDriverSuite('filesystem', async () => {
  const root = await mkdtemp(join(tmpdir(), 'berth-storage-'));
  return {
    // A data dir that does not exist yet: the driver creates what it needs.
    driver: new FilesystemStorageDriver(join(root, 'data')),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

describe('FilesystemStorageDriver on-disk layout', () => {
  let root = '';
  let driver: FilesystemStorageDriver;
  const layout = new StorageLayout();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-storage-layout-'));
    driver = new FilesystemStorageDriver(root);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('stores blobs at <root>/blobs/<alg>/<xx>/<hex> and leaves no staging file', async () => {
    const hex = 'ab'.repeat(32);
    await driver.put(layout.blob(`sha256:${hex}`), Buffer.from('blob'));
    await access(join(root, 'blobs', 'sha256', 'ab', hex));
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('stages an upload in <root>/uploads/<id>/data and renames it on commit', async () => {
    const id = randomUUID();
    await driver.createUpload(id);
    await driver.writeUpload(id, 0, Readable.from([Buffer.from('hello')]));
    await access(join(root, 'uploads', id, 'data'));
    const key = layout.blob(`sha256:${'cd'.repeat(32)}`);
    await driver.commitUpload(id, key);
    assert.deepEqual(await readdir(join(root, 'uploads')), []);
    assert.equal((await driver.readAll(key)).toString(), 'hello');
  });

  it('rejects keys and upload ids that would escape the root', async () => {
    for (const key of ['../x', 'a/../../x', '/etc/passwd', 'a//b', 'a\\b', '']) {
      await assert.rejects(driver.put(key, Buffer.from('x')), /invalid storage key/);
    }
    await assert.rejects(driver.createUpload('../x'), /invalid upload id/);
    await assert.rejects(async () => {
      for await (const key of driver.list('../')) void key;
    }, /invalid storage key/);
  });
});

/** A destination that takes its time: each chunk is copied only when its write completes. */
class SlowSink extends Writable {
  readonly chunks: Buffer[] = [];

  constructor(private readonly failAt = Infinity) {
    super({ highWaterMark: 1 });
    this.on('error', () => undefined); // the copy's promise reports it
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (e?: Error) => void): void {
    setTimeout(() => {
      if (this.chunks.length === this.failAt) {
        done(new Error('client went away'));
        return;
      }
      // A reader that reused the buffer before this callback would corrupt this copy.
      this.chunks.push(Buffer.from(chunk));
      done();
    }, 2);
  }
}

describe('FilesystemStorageDriver.openCopy (downloads with reused buffers)', () => {
  let root = '';
  let driver: FilesystemStorageDriver;
  const layout = new StorageLayout();
  const content = randomBytes(3 * 1024 * 1024 + 4321);
  const key = layout.blob(`sha256:${'ef'.repeat(32)}`);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-storage-copy-'));
    driver = new FilesystemStorageDriver(root);
    await driver.put(key, content);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes the whole object and ranges, never reusing a buffer a write still holds', async () => {
    for (let round = 0; round < 2; round++) {
      const copy = await driver.openCopy(key);
      assert.equal(copy.length, content.length);
      const sink = new SlowSink();
      await copy.writeTo(sink);
      assert.ok(Buffer.concat(sink.chunks).equals(content), `round ${round}`);
      assert.equal(copy.written, content.length);
    }
    const ranged = await driver.openCopy(key, { start: 1_000_000, end: 10_000_000 });
    assert.equal(ranged.length, content.length - 1_000_000);
    const sink = new SlowSink();
    await ranged.writeTo(sink);
    assert.ok(Buffer.concat(sink.chunks).equals(content.subarray(1_000_000)));
  });

  it('refuses a missing object or a range past the end before writing anything', async () => {
    await assert.rejects(driver.openCopy(layout.blob(`sha256:${'00'.repeat(32)}`)), (err) => {
      return err instanceof StorageNotFoundError;
    });
    await assert.rejects(
      driver.openCopy(key, { start: content.length, end: content.length + 10 }),
      RangeError,
    );
  });

  it('reports what a failed destination accepted, and a file cut short', async () => {
    const copy = await driver.openCopy(key);
    await assert.rejects(copy.writeTo(new SlowSink(2)), /client went away/);
    assert.equal(copy.written, 2 * 256 * 1024, 'two 256 KiB chunks were accepted');

    // A socket that is gone drops writes without a callback: its close must end the copy.
    const stuck = new Writable({ highWaterMark: 1, write: () => undefined });
    const hanging = (await driver.openCopy(key)).writeTo(stuck);
    setTimeout(() => stuck.destroy(), 20);
    await assert.rejects(hanging, /destination closed/);

    const shortKey = layout.blob(`sha256:${'aa'.repeat(32)}`);
    await driver.put(shortKey, content);
    const cut = await driver.openCopy(shortKey);
    await truncate(join(root, ...shortKey.split('/')), 1024 * 1024 + 5);
    await assert.rejects(cut.writeTo(new SlowSink()), /ended \d+ bytes early/);
  });
});

describe('FilesystemStorageDriver download reads (adaptive inline or thread pool)', () => {
  let root = '';
  const layout = new StorageLayout();
  // Five 256 KiB reads and a short sixth: one through the pool, then inline.
  const content = randomBytes(5 * 256 * 1024 + 777);
  const key = layout.blob(`sha256:${'bc'.repeat(32)}`);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'berth-storage-reads-'));
    await new FilesystemStorageDriver(root).put(key, content);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function download(
    driver: FilesystemStorageDriver,
    range?: { start: number; end: number },
  ): Promise<Buffer> {
    const sink = new SlowSink();
    await (await driver.openCopy(key, range)).writeTo(sink);
    return Buffer.concat(sink.chunks);
  }

  it('reads inline after the first read by default, with the same bytes', async () => {
    const driver = new FilesystemStorageDriver(root);
    assert.ok((await download(driver)).equals(content));
    assert.deepEqual(driver.readCounts(), { inline: 5, pool: 1, slow: 0 });
    const ranged = await download(driver, { start: 100_000, end: 700_000 });
    assert.ok(ranged.equals(content.subarray(100_000, 700_001)));
    assert.deepEqual(driver.readCounts(), { inline: 7, pool: 2, slow: 0 });
  });

  it('reads through the thread pool only, when told to', async () => {
    const driver = new FilesystemStorageDriver(root, { reads: 'pool' });
    assert.ok((await download(driver)).equals(content));
    assert.deepEqual(driver.readCounts(), { inline: 0, pool: 6, slow: 0 });
  });

  it('moves downloads back to the pool for a while after a slow inline read', async () => {
    // A clock that moves 4 ms per reading: every inline read looks slower than the 3 ms limit.
    let now = 0;
    const driver = new FilesystemStorageDriver(root, { clock: () => (now += 4) });
    assert.ok((await download(driver)).equals(content));
    // Pool, one slow inline read, then the pool for the rest of this download.
    assert.deepEqual(driver.readCounts(), { inline: 1, pool: 5, slow: 1 });
    // Other downloads stay in the pool during the pause (2 s on this clock)...
    assert.ok((await download(driver)).equals(content));
    assert.deepEqual(driver.readCounts(), { inline: 1, pool: 11, slow: 1 });
    // ...and try inline again after it.
    now += 2_000;
    assert.ok((await download(driver)).equals(content));
    assert.deepEqual(driver.readCounts(), { inline: 2, pool: 16, slow: 2 });
  });
});
