import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { OciErrorCode } from './errors';
import { assertOciError } from './internal/assert-oci-error';
import { parsePageParams } from './pagination';

describe('parsePageParams', () => {
  it('returns nothing for absent or empty parameters', () => {
    assert.deepEqual(parsePageParams(undefined, undefined, 100), {});
    assert.deepEqual(parsePageParams('', '', 100), {});
  });

  it('parses n and last', () => {
    assert.deepEqual(parsePageParams('10', 'v1.0', 100), { n: 10, last: 'v1.0' });
    assert.deepEqual(parsePageParams('0', undefined, 100), { n: 0 });
    assert.deepEqual(parsePageParams('007', undefined, 100), { n: 7 });
  });

  it('caps n at maxN', () => {
    assert.deepEqual(parsePageParams('101', undefined, 100), { n: 100 });
    assert.deepEqual(parsePageParams('99999999999999999999999', undefined, 100), { n: 100 });
  });

  it('rejects n that is not a non-negative integer', () => {
    for (const n of ['-1', 'abc', '1.5', '1e3', ' 1', '+1', '0x10', '1,2']) {
      const err = assertOciError(() => parsePageParams(n, undefined, 100), {
        code: OciErrorCode.PAGINATION_NUMBER_INVALID,
        status: 400,
      });
      assert.deepEqual(err.detail, { n });
    }
  });

  it('rejects a bad maxN as a programming error', () => {
    assert.throws(() => parsePageParams('1', undefined, 0), RangeError);
    assert.throws(() => parsePageParams('1', undefined, 1.5), RangeError);
  });
});
