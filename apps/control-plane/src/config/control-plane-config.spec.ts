import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '@berth/env-config';
import { loadControlPlaneConfig } from './control-plane-config';

describe('control plane configuration', () => {
  it('has single-machine defaults', () => {
    const config = loadControlPlaneConfig({}, '/srv');
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.dataDir, '/srv/data');
    assert.equal(config.runtime, 'local');
    assert.equal(config.local.firstRegistryPort, 5000);
    assert.equal(config.quotaBlockPercent, 90);
    assert.equal(config.quotaResumePercent, 85);
    assert.equal(config.tenantEnv.REGISTRY_RATE_LIMIT_REQUESTS, '0');
  });

  it('passes TENANT_ENV_ variables to the data planes', () => {
    const config = loadControlPlaneConfig({ TENANT_ENV_REGISTRY_GC_SCHEDULE: 'off' });
    assert.equal(config.tenantEnv.REGISTRY_GC_SCHEDULE, 'off');
  });

  it('reports every wrong value at once, never echoing secrets', () => {
    assert.throws(
      () =>
        loadControlPlaneConfig({
          CONTROL_PLANE_PORT: 'http',
          BERTH_RUNTIME: 'nomad',
          BERTH_ADMIN_PASSWORD: 'short',
          BERTH_QUOTA_BLOCK_PERCENT: '80',
          BERTH_QUOTA_RESUME_PERCENT: '95',
          BERTH_SECRET_KEY: 'not-32-bytes',
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 5, err.message);
        assert.match(err.message, /CONTROL_PLANE_PORT="http" is not a whole number/);
        assert.match(err.message, /BERTH_RUNTIME="nomad" is not one of: local, kubernetes/);
        assert.match(err.message, /BERTH_ADMIN_PASSWORD must have at least 12 characters/);
        assert.match(err.message, /BERTH_QUOTA_RESUME_PERCENT must not be above/);
        assert.match(err.message, /BERTH_SECRET_KEY must be 32 bytes/);
        assert.doesNotMatch(err.message, /not-32-bytes|short/);
        return true;
      },
    );
  });

  it('the kubernetes runtime needs its image, domain, S3 and database', () => {
    assert.throws(
      () => loadControlPlaneConfig({ BERTH_RUNTIME: 'kubernetes' }),
      /KUBERNETES_DATA_PLANE_IMAGE is required[\s\S]*BERTH_BASE_DOMAIN is required[\s\S]*TENANT_S3_BUCKET[\s\S]*CONTROL_PLANE_DATABASE_URL is required/,
    );
  });
});
