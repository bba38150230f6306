import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseScopes } from './access-scope';
import { RepositoryPattern, mostSpecific } from './repository-pattern';

describe('repository patterns', () => {
  const cases: [string, string, boolean][] = [
    ['team-a/app', 'team-a/app', true],
    ['team-a/app', 'team-a/app2', false],
    ['team-a/*', 'team-a/app', true],
    ['team-a/*', 'team-a/x/y', false],
    ['team-a/*', 'team-a', false],
    ['base/**', 'base', true],
    ['base/**', 'base/x', true],
    ['base/**', 'base/x/y/z', true],
    ['base/**', 'basement/x', false],
    ['**', 'anything/at/all', true],
    ['*/app', 'team/app', true],
    ['*/app', 'org/team/app', false],
    ['**/app', 'org/team/app', true],
    ['app-?', 'app-1', true],
    ['app-?', 'app-10', false],
    ['a.b', 'axb', false],
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${name}`, () => {
      assert.equal(new RepositoryPattern(pattern).matches(name), expected);
    });
  }

  it('refuses invalid patterns', () => {
    for (const bad of ['', 'UPPER', 'a b', 'a***', 'x'.repeat(256), 'a\\b']) {
      assert.equal(RepositoryPattern.isValid(bad), false, bad);
    }
  });

  it('picks the most specific matching pattern', () => {
    const table: [string[], string, string | undefined][] = [
      [['**', 'team-a/*', 'team-a/app'], 'team-a/app', 'team-a/app'],
      [['**', 'team-a/*'], 'team-a/app', 'team-a/*'],
      [['**', 'team-a/**', 'team-a/*'], 'team-a/app', 'team-a/*'],
      [['**', 'team-a/**'], 'team-a/x/y', 'team-a/**'],
      [['*/app', 'team-a/*'], 'team-a/app', 'team-a/*'],
      [['team-b/*'], 'team-a/app', undefined],
    ];
    for (const [patterns, repo, expected] of table) {
      const items = patterns.map((p) => ({ pattern: new RepositoryPattern(p) }));
      assert.equal(
        mostSpecific(items, repo)?.pattern.pattern,
        expected,
        `${patterns.join(' ')} for ${repo}`,
      );
    }
  });
});

describe('docker scopes', () => {
  it('parses several scopes and merges actions', () => {
    assert.deepEqual(
      parseScopes(['repository:team/app:pull,push', 'repository:team/app:pull registry:catalog:*']),
      [
        { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
        { type: 'registry', name: 'catalog', actions: ['*'] },
      ],
    );
  });

  it('expands * on repositories and drops what cannot be granted', () => {
    assert.deepEqual(parseScopes(['repository:a:*']), [
      { type: 'repository', name: 'a', actions: ['pull', 'push', 'delete'] },
    ]);
    assert.deepEqual(
      parseScopes(['repository(plugin):a:pull', 'garbage', 'repository::pull', 'x:y:z']),
      [],
    );
  });

  it('keeps names with colons intact (ports are not valid names and are refused later)', () => {
    assert.deepEqual(parseScopes(['repository:host:5000/app:pull']), [
      { type: 'repository', name: 'host:5000/app', actions: ['pull'] },
    ]);
  });
});
