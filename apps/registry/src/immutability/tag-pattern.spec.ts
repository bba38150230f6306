import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TagPattern } from './tag-pattern';

describe('tag patterns', () => {
  it('matches globs', () => {
    const cases: [string, string, boolean][] = [
      ['v*', 'v1', true],
      ['v*', 'v1.2.3', true],
      ['v*', 'latest', false],
      ['release-?', 'release-1', true],
      ['release-?', 'release-10', false],
      ['1.0', '1x0', false],
      ['latest', 'latest', true],
    ];
    for (const [pattern, tag, expected] of cases)
      assert.equal(new TagPattern(pattern).matches(tag), expected, `${pattern} ${tag}`);
  });

  it('refuses invalid patterns', () => {
    for (const bad of ['', 'a/b', 'x'.repeat(129), 'a b'])
      assert.equal(TagPattern.isValid(bad), false, bad);
  });
});
