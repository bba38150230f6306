import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  DIGEST_PATTERN,
  Digester,
  SUPPORTED_DIGEST_ALGORITHMS,
  digestOf,
  isDigestString,
  parseDigest,
} from './digest';
import { OciErrorCode } from './errors';
import { assertOciError } from './internal/assert-oci-error';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const EMPTY_SHA512 =
  'cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce' +
  '47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e';
const HELLO_SHA256 = '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824';

describe('parseDigest', () => {
  it('parses sha256', () => {
    assert.deepEqual(parseDigest(`sha256:${EMPTY_SHA256}`), {
      algorithm: 'sha256',
      hex: EMPTY_SHA256,
      value: `sha256:${EMPTY_SHA256}`,
    });
  });

  it('parses sha512', () => {
    const d = parseDigest(`sha512:${EMPTY_SHA512}`);
    assert.equal(d.algorithm, 'sha512');
    assert.equal(d.hex, EMPTY_SHA512);
  });

  it('rejects uppercase hex', () => {
    assertOciError(() => parseDigest(`sha256:${EMPTY_SHA256.toUpperCase()}`), {
      code: OciErrorCode.DIGEST_INVALID,
      status: 400,
      message: '64 lowercase hex',
    });
  });

  it('rejects wrong lengths', () => {
    for (const hex of [EMPTY_SHA256.slice(1), `${EMPTY_SHA256}0`, EMPTY_SHA512]) {
      assertOciError(() => parseDigest(`sha256:${hex}`), { code: OciErrorCode.DIGEST_INVALID });
    }
    assertOciError(() => parseDigest(`sha512:${EMPTY_SHA256}`), {
      code: OciErrorCode.DIGEST_INVALID,
      message: '128 lowercase hex',
    });
  });

  it('rejects non-hex encoded parts of registered algorithms', () => {
    assertOciError(() => parseDigest(`sha256:${'g'.repeat(64)}`), {
      code: OciErrorCode.DIGEST_INVALID,
    });
  });

  it('rejects syntactically valid digests of unsupported algorithms, saying so', () => {
    for (const d of [
      'md5:d41d8cd98f00b204e9800998ecf8427e',
      'blake3:abc',
      'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564',
    ]) {
      const err = assertOciError(() => parseDigest(d), {
        code: OciErrorCode.DIGEST_INVALID,
        message: 'is not supported',
      });
      assert.deepEqual(err.detail, { digest: d });
    }
  });

  it('rejects malformed digests', () => {
    const bad = [
      '',
      'sha256',
      `sha256${EMPTY_SHA256}`,
      `:${EMPTY_SHA256}`,
      'sha256:',
      `SHA256:${EMPTY_SHA256}`,
      `sha256 :${EMPTY_SHA256}`,
      `sha256:${EMPTY_SHA256} `,
      `sha256::${EMPTY_SHA256}`,
      `sha-:${EMPTY_SHA256}`,
      `sha256:${EMPTY_SHA256}/x`,
    ];
    for (const d of bad) {
      assertOciError(() => parseDigest(d), {
        code: OciErrorCode.DIGEST_INVALID,
        message: 'invalid digest',
      });
    }
  });

  it('rejects non-strings without crashing', () => {
    assertOciError(() => parseDigest(42 as unknown as string), {
      code: OciErrorCode.DIGEST_INVALID,
    });
  });
});

describe('isDigestString', () => {
  it('accepts the generic grammar, any algorithm', () => {
    assert.ok(isDigestString(`sha256:${EMPTY_SHA256}`));
    assert.ok(isDigestString('md5:abc'));
    assert.ok(isDigestString('multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8'));
    assert.ok(isDigestString('sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564'));
    assert.ok(DIGEST_PATTERN.test('a.b_c-d:x='));
  });

  it('rejects what the grammar rejects', () => {
    for (const s of [
      '',
      'abc',
      'Sha256:abc',
      'sha256:',
      ':abc',
      'sha256:ab+c',
      'a..b:c',
      'a:b:c',
    ]) {
      assert.ok(!isDigestString(s), s);
    }
  });
});

describe('digestOf', () => {
  it('hashes with sha256 by default', () => {
    assert.equal(digestOf(Buffer.alloc(0)), `sha256:${EMPTY_SHA256}`);
    assert.equal(digestOf(Buffer.from('hello')), `sha256:${HELLO_SHA256}`);
  });

  it('hashes with sha512', () => {
    assert.equal(digestOf(Buffer.alloc(0), 'sha512'), `sha512:${EMPTY_SHA512}`);
  });

  it('produces digests parseDigest accepts', () => {
    for (const algorithm of SUPPORTED_DIGEST_ALGORITHMS) {
      const d = digestOf(Buffer.from('x'), algorithm);
      assert.equal(parseDigest(d).algorithm, algorithm);
    }
  });

  it('refuses unsupported algorithms', () => {
    assertOciError(() => digestOf(Buffer.alloc(0), 'md5' as 'sha256'), {
      code: OciErrorCode.DIGEST_INVALID,
    });
  });
});

describe('Digester', () => {
  it('matches digestOf across chunks and counts bytes', () => {
    const d = new Digester();
    d.update(Buffer.from('he')).update(Buffer.from('l')).update(Buffer.from('lo'));
    assert.equal(d.size, 5);
    assert.equal(d.algorithm, 'sha256');
    assert.equal(d.digest(), `sha256:${HELLO_SHA256}`);
  });

  it('is idempotent on digest() and refuses updates afterwards', () => {
    const d = new Digester('sha512');
    assert.equal(d.digest(), `sha512:${EMPTY_SHA512}`);
    assert.equal(d.digest(), `sha512:${EMPTY_SHA512}`);
    assert.throws(() => d.update(Buffer.from('x')), /after digest/);
  });

  it('refuses unsupported algorithms', () => {
    assertOciError(() => new Digester('sha1' as 'sha256'), { code: OciErrorCode.DIGEST_INVALID });
  });
});
