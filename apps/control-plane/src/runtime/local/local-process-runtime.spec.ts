import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TenantDeployment } from '../runtime.port';
import { LocalProcessRuntime } from './local-process-runtime';

const tenant: TenantDeployment = {
  registryId: '5f0c7c57-1f5b-4f4e-9d63-2f7c1d9f4a10',
  name: 'acme-prod',
  organisation: 'acme',
  tier: 'free',
  resources: { cpuMillis: 500, memoryMiB: 512, diskBytes: 1024 ** 3 },
  suspended: false,
  secrets: {
    databaseUrl: 'postgres://t:pw@127.0.0.1:5432/t',
    adminUser: 'admin',
    adminPassword: 'password1',
    signingKeyPem: 'pem',
  },
};

describe('LocalProcessRuntime (no process started)', () => {
  const runtime = new LocalProcessRuntime({
    dataDir: '/nonexistent/berth-local-runtime-spec',
    command: ['/bin/false'],
  });

  it('is the local kind', () => {
    assert.equal(runtime.kind, 'local');
  });

  it('refuses to apply a tenant without a port, before doing anything', async () => {
    await assert.rejects(runtime.apply(tenant), /acme-prod has no port/);
    await assert.rejects(runtime.apply({ ...tenant, suspended: true }), /acme-prod has no port/);
    assert.deepEqual(await runtime.status(tenant), { state: 'absent', message: null });
  });

  it('reports absent for a tenant it never ran, and refuses names that are not DNS labels', async () => {
    assert.deepEqual(await runtime.status({ registryId: 'x', name: 'other' }), {
      state: 'absent',
      message: null,
    });
    await assert.rejects(runtime.status({ registryId: 'x', name: '../x' }), /not a valid/);
  });

  it('refuses work once closed', async () => {
    await runtime.close();
    await assert.rejects(runtime.apply({ ...tenant, port: 5001 }), /closed/);
    await assert.rejects(runtime.remove(tenant), /closed/);
  });
});
