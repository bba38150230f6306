import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { FilesystemStorageDriver } from './filesystem-storage.driver';
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
