import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OciError } from '@berth/oci';
import { parseRetentionPolicies, policyRules } from './retention-policy';

function refused(body: unknown, message: RegExp): void {
  assert.throws(
    () => parseRetentionPolicies(body),
    (err: unknown) => err instanceof OciError && err.status === 400 && message.test(err.message),
  );
}

describe('retention policy validation', () => {
  it('accepts every rule and returns the canonical form', () => {
    const policies = parseRetentionPolicies({
      policies: [
        {
          keepMin: 0,
          keepPatterns: ['v*', 'latest'],
          deleteAfterDays: [{ days: 7, tags: 'pr-*' }],
          keepDays: 14,
          keepLastN: 10,
          repositories: 'team-a/*',
        },
        { repositories: 'prod/**' },
      ],
    });
    assert.deepEqual(policies, [
      {
        repositories: 'team-a/*',
        keepLastN: 10,
        keepDays: 14,
        deleteAfterDays: [{ tags: 'pr-*', days: 7 }],
        keepPatterns: ['v*', 'latest'],
        keepMin: 0,
      },
      { repositories: 'prod/**' },
    ]);
    assert.deepEqual(Object.keys(policies[0]), [
      'repositories',
      'keepLastN',
      'keepDays',
      'deleteAfterDays',
      'keepPatterns',
      'keepMin',
    ]);
    assert.deepEqual(policyRules(policies[1]), {});
    assert.deepEqual(parseRetentionPolicies({ policies: [] }), []);
  });

  it('refuses invalid bodies with a message naming the fault', () => {
    const cases: [unknown, RegExp][] = [
      [null, /body must be/],
      [[], /body must be/],
      [{ rules: [] }, /body must be/],
      [{ policies: ['x'] }, /policy 0 must be an object/],
      [{ policies: [{ keepLastN: 1 }] }, /"repositories" must be a repository glob/],
      [{ policies: [{ repositories: 'Team/A' }] }, /"repositories" must be a repository glob/],
      [{ policies: [{ repositories: '**', keep_last_n: 3 }] }, /unknown field "keep_last_n"/],
      [{ policies: [{ repositories: '**', keepLastN: 0 }] }, /"keepLastN" must be an integer/],
      [{ policies: [{ repositories: '**', keepLastN: 1.5 }] }, /"keepLastN" must be an integer/],
      [{ policies: [{ repositories: '**', keepLastN: '3' }] }, /"keepLastN" must be an integer/],
      [{ policies: [{ repositories: '**', keepDays: 0 }] }, /"keepDays" must be an integer/],
      [{ policies: [{ repositories: '**', keepMin: -1 }] }, /"keepMin" must be an integer/],
      [{ policies: [{ repositories: '**', keepPatterns: 'v*' }] }, /must be an array/],
      [{ policies: [{ repositories: '**', keepPatterns: ['a/b'] }] }, /"keepPatterns"\[0\]/],
      [{ policies: [{ repositories: '**', deleteAfterDays: [{ tags: 'pr-*' }] }] }, /"days"/],
      [
        { policies: [{ repositories: '**', deleteAfterDays: [{ tags: '', days: 1 }] }] },
        /"tags" must be a tag glob/,
      ],
      [
        { policies: [{ repositories: '**', deleteAfterDays: [{ tags: 'x', days: 1, n: 1 }] }] },
        /unknown field "n"/,
      ],
      [{ policies: [{ repositories: '**' }, { repositories: '**' }] }, /already given/],
    ];
    for (const [body, message] of cases) refused(body, message);
  });
});
