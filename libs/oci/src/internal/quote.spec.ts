import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { quote } from './quote';

describe('quote', () => {
  it('JSON-quotes short values', () => {
    assert.equal(quote('a"b'), '"a\\"b"');
  });

  it('truncates long values', () => {
    assert.equal(quote('x'.repeat(10), 4), '"xxxx…"');
    assert.equal(quote('x'.repeat(500)).length, 100 + 3);
  });
});
