import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestCache } from './manifest-cache';

const manifest = { digest: 'sha256:a', mediaType: 'x', content: Buffer.from('{}') };

describe('manifest cache', () => {
  it('serves entries until they expire', () => {
    let now = 0;
    const cache = new ManifestCache(1000, 10, () => now);
    cache.set('k', manifest, cache.begin());
    assert.equal(cache.get('k'), manifest);
    now = 999;
    assert.equal(cache.get('k'), manifest);
    now = 1000;
    assert.equal(cache.get('k'), undefined);
  });

  it('forgets everything on invalidate and refuses lookups that raced a change', () => {
    const cache = new ManifestCache(1000);
    cache.set('k', manifest, cache.begin());
    const started = cache.begin();
    cache.invalidate();
    assert.equal(cache.get('k'), undefined);
    cache.set('k', manifest, started);
    assert.equal(
      cache.get('k'),
      undefined,
      'a lookup that started before the change is not stored',
    );
  });

  it('stays bounded and can be switched off', () => {
    const cache = new ManifestCache(1000, 2);
    for (const k of ['a', 'b', 'c']) cache.set(k, manifest, cache.begin());
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('c'), manifest);
    const off = new ManifestCache(0);
    off.set('k', manifest, off.begin());
    assert.equal(off.get('k'), undefined);
  });
});
