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

  it('stays within its byte budget and skips manifests too large for it', () => {
    const big = (n: number) => ({ ...manifest, content: Buffer.alloc(n) });
    const cache = new ManifestCache(1000, 10_000, Date.now, 64 * 1024);
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, big(4096), cache.begin());
    assert.ok(cache.size.bytes <= 64 * 1024, `${cache.size.bytes} bytes held`);
    assert.ok(cache.size.entries > 5 && cache.size.entries < 16);
    assert.equal(cache.get('k0'), undefined, 'the oldest entries went first');
    assert.ok(cache.get('k99'));
    cache.set('huge', big(9000), cache.begin());
    assert.equal(cache.get('huge'), undefined, 'over an eighth of the budget: not cached');
    cache.set('k99', big(4096), cache.begin());
    const { bytes } = cache.size;
    cache.set('k99', big(4096), cache.begin());
    assert.equal(cache.size.bytes, bytes, 'replacing an entry does not count it twice');
    cache.invalidate();
    assert.deepEqual(cache.size, { entries: 0, bytes: 0 });
  });
});
