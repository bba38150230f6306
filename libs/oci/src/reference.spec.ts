import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { OciErrorCode } from './errors';
import { assertOciError } from './internal/assert-oci-error';
import {
  REPOSITORY_NAME_PATTERN,
  TAG_PATTERN,
  assertRepositoryName,
  isValidRepositoryName,
  isValidTag,
  parseManifestReference,
} from './reference';

const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('repository names', () => {
  it('accepts valid names', () => {
    const good = [
      'a',
      'library/ubuntu',
      'a/b/c/d/e',
      'my-org/my-app',
      'a--b',
      'a---b',
      'a.b',
      'a_b',
      'a__b',
      'foo/bar.baz_qux-quux',
      '0',
      '9abc/1-2',
    ];
    for (const name of good) {
      assert.ok(isValidRepositoryName(name), name);
      assert.doesNotThrow(() => assertRepositoryName(name));
    }
  });

  it('rejects invalid names', () => {
    const bad = [
      '',
      'a___b',
      'a..b',
      'a._b',
      'Library/ubuntu',
      'UPPER',
      '/a',
      'a/',
      'a//b',
      '-a',
      'a-',
      '_a',
      'a.',
      'a/.b',
      'a b',
      'a:b',
      'a@b',
      'é',
    ];
    for (const name of bad) {
      assert.ok(!isValidRepositoryName(name), name);
      assertOciError(() => assertRepositoryName(name), {
        code: OciErrorCode.NAME_INVALID,
        status: 400,
      });
    }
  });

  it('limits the total length to 255', () => {
    const max = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
    assert.equal(max.length, 255);
    assert.ok(isValidRepositoryName(max));
    assert.ok(!isValidRepositoryName(`${max}c`));
    assert.ok(REPOSITORY_NAME_PATTERN.test(`${max}c`), 'only the length rule rejects it');
    assertOciError(() => assertRepositoryName('a'.repeat(256)), {
      code: OciErrorCode.NAME_INVALID,
      message: 'at most 255 characters (got 256)',
    });
  });

  it('names the problem', () => {
    assertOciError(() => assertRepositoryName(''), {
      code: OciErrorCode.NAME_INVALID,
      message: 'must not be empty',
    });
    assertOciError(() => assertRepositoryName('Foo/bar'), {
      code: OciErrorCode.NAME_INVALID,
      message: 'must be lowercase',
    });
    assertOciError(() => assertRepositoryName('foo//bar'), {
      code: OciErrorCode.NAME_INVALID,
      message: 'empty path component',
    });
    assertOciError(() => assertRepositoryName('foo/a___b/c'), {
      code: OciErrorCode.NAME_INVALID,
      message: 'path component "a___b"',
    });
  });
});

describe('tags', () => {
  it('accepts valid tags up to 128 characters', () => {
    for (const tag of ['latest', 'v1.2.3', '_x', '1', 'A-b_c.D', 'a'.repeat(128), '0..-']) {
      assert.ok(isValidTag(tag), tag);
    }
  });

  it('rejects invalid tags', () => {
    for (const tag of ['', '.hidden', '-x', 'a'.repeat(129), 'a/b', 'a:b', 'a b', 'a+b', 'é']) {
      assert.ok(!isValidTag(tag), tag);
      assert.ok(!TAG_PATTERN.test(tag), tag);
    }
  });
});

describe('parseManifestReference', () => {
  it('parses tags', () => {
    assert.deepEqual(parseManifestReference('latest'), { kind: 'tag', tag: 'latest' });
  });

  it('parses digests', () => {
    assert.deepEqual(parseManifestReference(`sha256:${SHA}`), {
      kind: 'digest',
      digest: { algorithm: 'sha256', hex: SHA, value: `sha256:${SHA}` },
    });
  });

  it('treats anything with ":" as a digest (DIGEST_INVALID)', () => {
    assertOciError(() => parseManifestReference('sha256:abc'), {
      code: OciErrorCode.DIGEST_INVALID,
    });
    assertOciError(() => parseManifestReference('v1:2'), { code: OciErrorCode.DIGEST_INVALID });
    assertOciError(() => parseManifestReference(`md5:${'0'.repeat(32)}`), {
      code: OciErrorCode.DIGEST_INVALID,
      message: 'not supported',
    });
  });

  it('rejects invalid tags with MANIFEST_INVALID (400)', () => {
    for (const ref of ['', '.x', 'a'.repeat(129), 'a/b']) {
      const err = assertOciError(() => parseManifestReference(ref), {
        code: OciErrorCode.MANIFEST_INVALID,
        status: 400,
        message: 'invalid tag',
      });
      assert.deepEqual(err.detail, { tag: ref });
    }
  });
});
