import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { artifactTagsOf, isArtifactTag } from './artifact-tags';
import { RetentionEvaluator, type RetentionTag } from './retention-evaluator';
import type { RetentionPolicy } from './retention-policy';

const NOW = new Date('2024-11-25T12:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const HEX = 'ab'.repeat(32);

/** A tag pushed `days` days (fractions allowed) before NOW. */
function tag(name: string, days: number, extra: Partial<RetentionTag> = {}): RetentionTag {
  return {
    name,
    pushedAt: new Date(NOW.getTime() - days * DAY),
    manifestDigest: `sha256:${name.length.toString(16).padStart(64, '0')}`,
    ...extra,
  };
}

interface Case {
  name: string;
  policy: Omit<RetentionPolicy, 'repositories'>;
  tags: RetentionTag[];
  immutable?: string[];
  /** Tag → rule, for the deleted tags, most recent first. */
  deleted: [string, string][];
  /** Tag → rule, for the kept tags, most recent first. */
  kept: [string, string][];
}

const cases: Case[] = [
  {
    name: 'no rules: nothing is deleted',
    policy: {},
    tags: [tag('a', 1), tag('b', 400)],
    deleted: [],
    kept: [
      ['a', 'no_rule'],
      ['b', 'no_rule'],
    ],
  },
  {
    name: 'keepLastN alone keeps the N most recent',
    policy: { keepLastN: 2 },
    tags: [tag('c', 3), tag('a', 1), tag('e', 5), tag('b', 2), tag('d', 4)],
    deleted: [
      ['c', 'not_kept:keep_last_n'],
      ['d', 'not_kept:keep_last_n'],
      ['e', 'not_kept:keep_last_n'],
    ],
    kept: [
      ['a', 'keep_last_n'],
      ['b', 'keep_last_n'],
    ],
  },
  {
    name: 'keepLastN larger than the tag count keeps everything',
    policy: { keepLastN: 10 },
    tags: [tag('a', 1), tag('b', 200)],
    deleted: [],
    kept: [
      ['a', 'keep_last_n'],
      ['b', 'keep_last_n'],
    ],
  },
  {
    name: 'keepDays alone: within N days inclusive',
    policy: { keepDays: 7 },
    tags: [tag('fresh', 1), tag('edge', 7), tag('past', 7 + 1 / DAY), tag('old', 30)],
    deleted: [
      ['past', 'not_kept:keep_days'],
      ['old', 'not_kept:keep_days'],
    ],
    kept: [
      ['fresh', 'keep_days'],
      ['edge', 'keep_days'],
    ],
  },
  {
    name: 'a push time in the future counts as pushed now',
    policy: { keepDays: 1 },
    tags: [tag('skewed', -3), tag('old', 3)],
    deleted: [['old', 'not_kept:keep_days']],
    kept: [['skewed', 'keep_days']],
  },
  {
    name: 'keepLastN and keepDays together keep the union',
    policy: { keepLastN: 1, keepDays: 10 },
    tags: [tag('newest', 1), tag('recent', 5), tag('old', 20), tag('older', 30)],
    deleted: [
      ['old', 'not_kept:keep_last_n/keep_days'],
      ['older', 'not_kept:keep_last_n/keep_days'],
    ],
    kept: [
      ['newest', 'keep_last_n'],
      ['recent', 'keep_days'],
    ],
  },
  {
    name: 'deleteAfterDays alone deletes only matching tags older than their days',
    policy: {
      deleteAfterDays: [
        { tags: 'pr-*', days: 7 },
        { tags: 'main-*', days: 30 },
      ],
    },
    tags: [
      tag('pr-1', 8),
      tag('pr-2', 6),
      tag('pr-edge', 7),
      tag('main-1', 31),
      tag('main-2', 20),
      tag('feature', 400),
    ],
    deleted: [
      ['pr-1', 'delete_after_days:pr-*:7'],
      ['main-1', 'delete_after_days:main-*:30'],
    ],
    kept: [
      ['pr-2', 'no_rule'],
      ['pr-edge', 'no_rule'],
      ['main-2', 'no_rule'],
      ['feature', 'no_rule'],
    ],
  },
  {
    name: 'deleteAfterDays: any matching rule that is due decides, the first one is reported',
    policy: {
      deleteAfterDays: [
        { tags: 'pr-*', days: 30 },
        { tags: '*', days: 7 },
      ],
    },
    tags: [tag('pr-1', 10), tag('pr-2', 40), tag('x', 10), tag('y', 3)],
    deleted: [
      ['pr-1', 'delete_after_days:*:7'],
      ['x', 'delete_after_days:*:7'],
      ['pr-2', 'delete_after_days:pr-*:30'],
    ],
    kept: [['y', 'no_rule']],
  },
  {
    name: 'an expired deleteAfterDays beats keepLastN; with recency rules the rest goes too',
    policy: { keepLastN: 2, deleteAfterDays: [{ tags: 'pr-*', days: 7 }] },
    tags: [tag('pr-1', 10), tag('pr-2', 11), tag('pr-3', 12), tag('pr-4', 1), tag('main', 13)],
    deleted: [
      ['pr-1', 'delete_after_days:pr-*:7'],
      ['pr-2', 'delete_after_days:pr-*:7'],
      ['pr-3', 'delete_after_days:pr-*:7'],
      ['main', 'not_kept:keep_last_n'],
    ],
    kept: [['pr-4', 'keep_last_n']],
  },
  {
    name: 'keepPatterns are never deleted and still count in the keepLastN ranking',
    policy: { keepLastN: 2, keepPatterns: ['v*', 'latest'] },
    tags: [tag('latest', 0), tag('a', 1), tag('b', 2), tag('v1.0.0', 300), tag('c', 3)],
    deleted: [
      ['b', 'not_kept:keep_last_n'],
      ['c', 'not_kept:keep_last_n'],
    ],
    kept: [
      ['latest', 'keep_patterns:latest'],
      ['a', 'keep_last_n'],
      ['v1.0.0', 'keep_patterns:v*'],
    ],
  },
  {
    name: 'keepPatterns win over deleteAfterDays',
    policy: { keepPatterns: ['pr-keep*'], deleteAfterDays: [{ tags: 'pr-*', days: 1 }] },
    tags: [tag('pr-keep-1', 10), tag('pr-2', 10)],
    deleted: [['pr-2', 'delete_after_days:pr-*:1']],
    kept: [['pr-keep-1', 'keep_patterns:pr-keep*']],
  },
  {
    name: 'immutable tags are skipped, whatever the rules, and reported as immutable',
    policy: { keepLastN: 1, keepPatterns: ['v*'], deleteAfterDays: [{ tags: '*', days: 1 }] },
    tags: [tag('new', 0), tag('v1', 100), tag('frozen', 100), tag('gone', 100)],
    immutable: ['v1', 'frozen'],
    deleted: [['gone', 'delete_after_days:*:1']],
    kept: [
      ['new', 'keep_last_n'],
      ['frozen', 'immutable'],
      ['v1', 'immutable'],
    ],
  },
  {
    name: 'keepMin: the most recent candidates are kept until keepMin remain',
    policy: { deleteAfterDays: [{ tags: 'pr-*', days: 7 }], keepMin: 3 },
    tags: [tag('pr-1', 10), tag('pr-2', 11), tag('pr-3', 12), tag('pr-4', 13), tag('main', 40)],
    deleted: [
      ['pr-3', 'delete_after_days:pr-*:7'],
      ['pr-4', 'delete_after_days:pr-*:7'],
    ],
    kept: [
      ['pr-1', 'keep_min'],
      ['pr-2', 'keep_min'],
      ['main', 'no_rule'],
    ],
  },
  {
    name: 'keepMin counts immutable and pattern-kept tags as remaining',
    policy: { keepLastN: 1, keepPatterns: ['latest'], keepMin: 4 },
    tags: [tag('latest', 50), tag('frozen', 40), tag('a', 1), tag('b', 2), tag('c', 3)],
    immutable: ['frozen'],
    deleted: [['c', 'not_kept:keep_last_n']],
    kept: [
      ['a', 'keep_last_n'],
      ['b', 'keep_min'],
      ['frozen', 'immutable'],
      ['latest', 'keep_patterns:latest'],
    ],
  },
  {
    name: 'keepMin at or above the tag count deletes nothing; keepMin 0 changes nothing',
    policy: { keepLastN: 1, keepMin: 5 },
    tags: [tag('a', 1), tag('b', 2), tag('c', 3)],
    deleted: [],
    kept: [
      ['a', 'keep_last_n'],
      ['b', 'keep_min'],
      ['c', 'keep_min'],
    ],
  },
  {
    name: 'keepMin 0',
    policy: { keepLastN: 1, keepMin: 0 },
    tags: [tag('a', 1), tag('b', 2)],
    deleted: [['b', 'not_kept:keep_last_n']],
    kept: [['a', 'keep_last_n']],
  },
  {
    name: 'ties in push time are broken by name (ascending, byte order)',
    policy: { keepLastN: 2 },
    tags: [tag('b', 1), tag('B', 1), tag('a', 1), tag('older', 2)],
    deleted: [
      ['b', 'not_kept:keep_last_n'],
      ['older', 'not_kept:keep_last_n'],
    ],
    kept: [
      ['B', 'keep_last_n'],
      ['a', 'keep_last_n'],
    ],
  },
  {
    name: 'ties also decide which candidates the keepMin floor saves',
    policy: { deleteAfterDays: [{ tags: '*', days: 1 }], keepMin: 1 },
    tags: [tag('y', 5), tag('x', 5), tag('z', 6)],
    deleted: [
      ['y', 'delete_after_days:*:1'],
      ['z', 'delete_after_days:*:1'],
    ],
    kept: [['x', 'keep_min']],
  },
  {
    name: 'signature, attestation and SBOM tags are neither counted nor deleted',
    policy: { keepLastN: 1, keepMin: 2 },
    tags: [
      tag(`sha256-${HEX}.sig`, 0),
      tag(`sha256-${HEX}.att`, 0),
      tag(`sha512-${HEX}${HEX}.sbom`, 0),
      tag('attached-sbom', 0, { attached: true }),
      tag('a', 1),
      tag('b', 2),
      tag('c', 3),
      // Not of the scheme: upper-case hex, short digest, other suffix.
      tag(`sha256-${HEX.toUpperCase()}.sig`, 4),
      tag('sha256-abc.sig', 5),
      tag(`sha256-${HEX}.sig2`, 6),
    ],
    deleted: [
      ['c', 'not_kept:keep_last_n'],
      [`sha256-${HEX.toUpperCase()}.sig`, 'not_kept:keep_last_n'],
      ['sha256-abc.sig', 'not_kept:keep_last_n'],
      [`sha256-${HEX}.sig2`, 'not_kept:keep_last_n'],
    ],
    kept: [
      ['a', 'keep_last_n'],
      ['b', 'keep_min'],
    ],
  },
  {
    name: 'tag globs: * any run, ? one character, everything else literal',
    policy: {
      keepPatterns: ['release-?', '1.0', 'rc*x'],
      deleteAfterDays: [{ tags: '*', days: 1 }],
    },
    tags: [
      tag('release-1', 5),
      tag('release-10', 5),
      tag('1.0', 5),
      tag('1x0', 5),
      tag('rcx', 5),
      tag('rc-12x', 5),
      tag('rc-12', 5),
    ],
    deleted: [
      ['1x0', 'delete_after_days:*:1'],
      ['rc-12', 'delete_after_days:*:1'],
      ['release-10', 'delete_after_days:*:1'],
    ],
    kept: [
      ['1.0', 'keep_patterns:1.0'],
      ['rc-12x', 'keep_patterns:rc*x'],
      ['rcx', 'keep_patterns:rc*x'],
      ['release-1', 'keep_patterns:release-?'],
    ],
  },
  {
    name: 'combined: every rule at once',
    policy: {
      keepLastN: 2,
      keepDays: 14,
      deleteAfterDays: [
        { tags: 'pr-*', days: 7 },
        { tags: 'main-*', days: 30 },
      ],
      keepPatterns: ['v*', 'latest'],
      keepMin: 7,
    },
    tags: [
      tag('latest', 0.5),
      tag('pr-9', 1),
      tag('main-5', 2),
      tag('pr-8', 10),
      tag('v2', 20),
      tag('main-4', 25),
      tag('pr-7', 26),
      tag('main-3', 31),
      tag('v1', 90),
      tag('main-2', 100),
      tag('feature', 120),
      tag(`sha256-${HEX}.sig`, 200),
    ],
    immutable: ['v1', 'v2'],
    deleted: [
      ['pr-7', 'delete_after_days:pr-*:7'],
      ['main-3', 'delete_after_days:main-*:30'],
      ['main-2', 'delete_after_days:main-*:30'],
      ['feature', 'not_kept:keep_last_n/keep_days'],
    ],
    kept: [
      ['latest', 'keep_patterns:latest'],
      ['pr-9', 'keep_last_n'],
      ['main-5', 'keep_days'],
      ['pr-8', 'keep_min'],
      ['v2', 'immutable'],
      ['main-4', 'keep_min'],
      ['v1', 'immutable'],
    ],
  },
];

describe('retention evaluator', () => {
  const evaluator = new RetentionEvaluator();

  for (const c of cases) {
    it(c.name, () => {
      const immutable = new Set(c.immutable ?? []);
      const result = evaluator.evaluate({ repositories: '**', ...c.policy }, c.tags, NOW, (t) =>
        immutable.has(t),
      );
      assert.deepEqual(
        result.delete.map((d) => [d.tag, d.rule]),
        c.deleted,
        'deleted',
      );
      assert.deepEqual(
        result.keep.map((d) => [d.tag, d.rule]),
        c.kept,
        'kept',
      );
    });
  }

  it('carries the digest and push time of each tag', () => {
    const t = tag('a', 3);
    const result = evaluator.evaluate({ repositories: '**', keepDays: 1 }, [t], NOW, () => false);
    assert.deepEqual(result.delete, [
      {
        tag: 'a',
        digest: t.manifestDigest,
        pushedAt: t.pushedAt,
        rule: 'not_kept:keep_days',
      },
    ]);
  });

  it('refuses invalid dates', () => {
    const policy = { repositories: '**', keepLastN: 1 };
    assert.throws(() => evaluator.evaluate(policy, [tag('a', 1)], new Date(NaN), () => false));
    assert.throws(() =>
      evaluator.evaluate(
        policy,
        [{ name: 'a', pushedAt: new Date('x'), manifestDigest: 'sha256:0' }],
        NOW,
        () => false,
      ),
    );
  });

  it('evaluates 100,000 tags (the time is printed, not asserted)', () => {
    const tags = Array.from({ length: 100_000 }, (_, i) =>
      tag(i % 10 === 0 ? `pr-${i}` : `build-${i}`, i / 1000),
    );
    const started = performance.now();
    const result = evaluator.evaluate(
      {
        repositories: '**',
        keepLastN: 1000,
        keepPatterns: ['v*'],
        deleteAfterDays: [{ tags: 'pr-*', days: 7 }],
      },
      tags,
      NOW,
      () => false,
    );
    const elapsed = performance.now() - started;
    assert.equal(result.keep.length, 1000);
    assert.equal(result.delete.length, 99_000);
    // Printed, not asserted: the integration spec measures the whole evaluation.
    console.log(`# evaluator: 100,000 tags in ${elapsed.toFixed(0)} ms`);
  });
});

describe('artifact tags', () => {
  it('recognises the cosign tag scheme', () => {
    assert.equal(isArtifactTag(`sha256-${HEX}.sig`), true);
    assert.equal(isArtifactTag(`sha256-${HEX}.att`), true);
    assert.equal(isArtifactTag(`sha256-${HEX}.sbom`), true);
    assert.equal(isArtifactTag(`sha512-${HEX}${HEX}.sig`), true);
    assert.equal(isArtifactTag(`sha512-${HEX}.sig`), false);
    assert.equal(isArtifactTag(`sha256-${HEX}.sig.1`), false);
    assert.equal(isArtifactTag(`sha256-${HEX}`), false);
    assert.equal(isArtifactTag('latest'), false);
  });

  it('names the artifact tags of a digest', () => {
    assert.deepEqual(artifactTagsOf(`sha256:${HEX}`), [
      `sha256-${HEX}.sig`,
      `sha256-${HEX}.att`,
      `sha256-${HEX}.sbom`,
    ]);
    assert.deepEqual(artifactTagsOf('sha256:short'), []);
  });
});
