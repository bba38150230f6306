/**
 * The OCI distribution-spec conformance suite (scripts/conformance.sh, every toggle on) against
 * our registry started with sparse index support. Reports go to
 * ${CONFORMANCE_OUT:-<repo>/artifacts/conformance}.
 */
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import { assertConformance } from './conformance-suite';
import { repoRoot, toolPath } from './tools';

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
    await assertConformance(t, 'conformance', reg.url, out);
  });
});
