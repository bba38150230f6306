import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { e2eTarget, repoRoot, run } from './tools';

/** The summary line `scripts/conformance.sh` prints, parsed (shared by both conformance specs). */
export interface ConformanceCounts {
  tests: number;
  passed: string;
  failures: number;
  errors: number;
  skipped: number;
  disabled: number;
}

export function parseConformanceCounts(stdout: string): ConformanceCounts | undefined {
  const m =
    /conformance: tests=(\d+) passed=(\S+) failures=(\d+) errors=(\d+) skipped=(\d+) disabled=(\d+)/.exec(
      stdout,
    );
  if (m === null) return undefined;
  return {
    tests: Number(m[1]),
    passed: m[2] ?? '',
    failures: Number(m[3]),
    errors: Number(m[4]),
    skipped: Number(m[5]),
    disabled: Number(m[6]),
  };
}

/**
 * Runs scripts/conformance.sh against `url` (every toggle on), reports the counts as a test
 * diagnostic and asserts zero failures, errors, skips and disabled tests. Against Debian's
 * Distribution it only checks that the suite runs and is parsed: Distribution 2.8 lacks
 * several 1.1/dev features the suite tests with every toggle on (referrers, sha512, tag
 * parameters, sparse indexes, out-of-order chunk checks, range requests...).
 */
export async function assertConformance(
  t: TestContext,
  label: string,
  url: string,
  out: string,
  env: Record<string, string> = {},
): Promise<void> {
  const r = await run('bash', [join(repoRoot, 'scripts', 'conformance.sh'), url], {
    cwd: repoRoot,
    env: { CONFORMANCE_OUT: out, ...env },
    allowFailure: true,
    timeoutMs: 15 * 60_000,
  });
  const counts = parseConformanceCounts(r.stdout);
  assert.ok(counts !== undefined, `conformance.sh printed no counts:\n${r.stdout}\n${r.stderr}`);
  t.diagnostic(
    `${label}: tests=${counts.tests} passed=${counts.passed} failures=${counts.failures} ` +
      `errors=${counts.errors} skipped=${counts.skipped} disabled=${counts.disabled} (reports in ${out})`,
  );
  assert.ok(counts.tests > 0, 'the suite ran no test');
  if (e2eTarget() === 'distribution') return;
  assert.deepEqual(
    {
      failures: counts.failures,
      errors: counts.errors,
      skipped: counts.skipped,
      disabled: counts.disabled,
    },
    { failures: 0, errors: 0, skipped: 0, disabled: 0 },
    `${label} failures (see ${out}/report.html):\n${r.stderr.slice(-6000)}`,
  );
  assert.equal(r.code, 0, r.stderr.slice(-4000));
}
