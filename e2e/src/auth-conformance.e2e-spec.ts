/**
 * The OCI distribution-spec conformance suite (scripts/conformance.sh, every toggle on) against
 * our registry with Docker token authentication on: the suite follows the 401 challenges to
 * /auth/token with the administrator's Basic credentials (OCI_USERNAME / OCI_PASSWORD). Reports
 * go to ${CONFORMANCE_AUTH_OUT:-<repo>/artifacts/conformance-auth}.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import { assertConformance } from './conformance-suite';
import { e2eTarget, repoRoot, toolPath } from './tools';

describe('OCI conformance with token authentication', () => {
  let reg: RunningRegistry;
  const admin = { user: 'admin', password: randomBytes(16).toString('hex') };

  before(async () => {
    toolPath('conformance'); // clear error when scripts/setup-tools.sh has not run
    reg = await startRegistry({
      env: {
        REGISTRY_AUTH: 'token',
        REGISTRY_ADMIN_USER: admin.user,
        REGISTRY_ADMIN_PASSWORD: admin.password,
        REGISTRY_SPARSE_MANIFESTS: 'true',
        REGISTRY_RATE_LIMIT_REQUESTS: '0',
      },
    });
  });

  after(async () => {
    await reg?.stop();
  });

  it('challenges anonymous requests', async () => {
    if (e2eTarget() === 'distribution') return; // Distribution runs without auth here
    const res = await fetch(`${reg.url}/v2/`);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="[^"]+\/auth\/token"/);
  });

  it(
    'passes every test with every toggle on, authenticated as the administrator',
    { timeout: 20 * 60_000 },
    async (t) => {
      const out =
        process.env['CONFORMANCE_AUTH_OUT'] ?? join(repoRoot, 'artifacts', 'conformance-auth');
      await assertConformance(t, 'conformance (auth)', reg.url, out, {
        OCI_USERNAME: admin.user,
        OCI_PASSWORD: admin.password,
      });
    },
  );
});
