/**
 * The OCI distribution-spec conformance suite (scripts/conformance.sh, every toggle on) against
 * our registry started with sparse index support. Reports go to
 * ${CONFORMANCE_OUT:-<repo>/artifacts/conformance}.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import { parseConformanceCounts } from './conformance-counts';
import { e2eTarget, repoRoot, run, toolPath } from './tools';

describe('OCI conformance', () => {
  let reg: RunningRegistry;

  before(async () => {
    toolPath('conformance'); // clear error when scripts/setup-tools.sh has not run
    reg = await startRegistry({ env: { REGISTRY_SPARSE_MANIFESTS: 'true' } });
  });

  after(async () => {
    await reg?.stop();
  });

  it('passes every test with every toggle on', { timeout: 20 * 60_000 }, async (t) => {
    const out = process.env['CONFORMANCE_OUT'] ?? join(repoRoot, 'artifacts', 'conformance');
    const r = await run('bash', [join(repoRoot, 'scripts', 'conformance.sh'), reg.url], {
      cwd: repoRoot,
      env: { CONFORMANCE_OUT: out },
      allowFailure: true,
      timeoutMs: 15 * 60_000,
    });
    const counts = parseConformanceCounts(r.stdout);
    assert.ok(counts !== undefined, `conformance.sh printed no counts:\n${r.stdout}\n${r.stderr}`);
    t.diagnostic(
      `conformance: tests=${counts.tests} passed=${counts.passed} failures=${counts.failures} ` +
        `errors=${counts.errors} skipped=${counts.skipped} disabled=${counts.disabled} (reports in ${out})`,
    );
    assert.ok(counts.tests > 0, 'the suite ran no test');
    if (e2eTarget() === 'distribution') {
      // Distribution 2.8 lacks several 1.1/dev features the suite tests with every toggle on
      // (referrers, sha512, tag parameters, sparse indexes, out-of-order chunk checks, range
      // requests...), so against it this spec only checks that the suite runs and is parsed.
      return;
    }
    assert.deepEqual(
      {
        failures: counts.failures,
        errors: counts.errors,
        skipped: counts.skipped,
        disabled: counts.disabled,
      },
      { failures: 0, errors: 0, skipped: 0, disabled: 0 },
      `conformance failures (see ${out}/report.html):\n${r.stderr.slice(-6000)}`,
    );
    assert.equal(r.code, 0, r.stderr.slice(-4000));
  });
});
