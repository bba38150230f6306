import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StorageLayout } from './storage-layout';

describe('StorageLayout', () => {
  const layout = new StorageLayout();
  const hex = '4f2a'.padEnd(64, '0');

  it('maps digests to fanned-out blob keys', () => {
    assert.equal(layout.blob(`sha256:${hex}`), `blobs/sha256/4f/${hex}`);
    const sha512 = 'ab'.repeat(64);
    assert.equal(layout.blob(`sha512:${sha512}`), `blobs/sha512/ab/${sha512}`);
    assert.equal(layout.blob('multihash+base58:abcdef'), 'blobs/multihash+base58/ab/abcdef');
  });

  it('rejects malformed digests', () => {
    for (const digest of [
      '',
      hex,
      `sha256:${hex.slice(1)}`,
      `sha256:${hex.toUpperCase()}`,
      `SHA256:${hex}`,
      `sha256:../${hex}`,
      `../sha256:${hex}`,
      'foo:a',
      `sha256:${hex}/x`,
    ]) {
      assert.throws(() => layout.blob(digest), /invalid/, digest);
    }
  });

  it('maps blob keys back to digests and ignores other keys', () => {
    assert.equal(layout.digestOfBlobKey(`blobs/sha256/4f/${hex}`), `sha256:${hex}`);
    assert.equal(layout.digestOfBlobKey(`blobs/sha256/00/${hex}`), undefined);
    assert.equal(layout.digestOfBlobKey('blobs/sha256/4f/4f2a'), undefined);
    assert.equal(layout.digestOfBlobKey(`uploads/x/data`), undefined);
  });

  it('gives each upload its own prefix and validates ids', () => {
    assert.equal(
      layout.upload('0b9c2f6e-6a3e-4d6f-9a57-1f0c9f6b7e21'),
      'uploads/0b9c2f6e-6a3e-4d6f-9a57-1f0c9f6b7e21/',
    );
    for (const id of ['', '../x', 'a/b', '.hidden', 'x'.repeat(129)]) {
      assert.throws(() => layout.upload(id), /invalid upload id/, id);
    }
  });

  it('validates keys and prefixes', () => {
    StorageLayout.assertKey('blobs/sha256/ab/abc');
    StorageLayout.assertPrefix('');
    StorageLayout.assertPrefix('blobs/');
    StorageLayout.assertPrefix('blobs/sha256/a');
    for (const key of [
      '',
      '/abs',
      'a//b',
      'a/./b',
      'a/../b',
      'trailing/',
      'back\\slash',
      'nul\u0000',
    ]) {
      assert.throws(() => StorageLayout.assertKey(key), /invalid storage key/, JSON.stringify(key));
    }
    assert.throws(() => StorageLayout.assertPrefix('../'), /invalid storage key/);
  });
});
