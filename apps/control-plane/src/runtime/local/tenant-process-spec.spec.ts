import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TenantDeployment } from '../runtime.port';
import { resolveLocalRuntimeConfig, type LocalRuntimeConfig } from './local-runtime.config';
import { tenantProcessSpec } from './tenant-process-spec';

const PARENT_ENV = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/berth',
  LANG: 'C.UTF-8',
  DATABASE_URL: 'postgres://control:plane@db/control',
  BERTH_SECRET_KEY: 'the control plane key',
  REDIS_URL: 'redis://127.0.0.1:6379',
};

function tenant(overrides: Partial<TenantDeployment> = {}): TenantDeployment {
  return {
    registryId: '5f0c7c57-1f5b-4f4e-9d63-2f7c1d9f4a10',
    name: 'acme-prod',
    organisation: 'acme',
    tier: 'team',
    resources: { cpuMillis: 1000, memoryMiB: 1024, diskBytes: 10 * 1024 ** 3 },
    suspended: false,
    secrets: {
      databaseUrl: 'postgres://t_acme:pw@127.0.0.1:5432/t_acme',
      adminUser: 'berth-admin',
      adminPassword: 'tenant-admin-password',
      signingKeyPem: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n',
    },
    port: 5001,
    ...overrides,
  };
}

function config(overrides: Partial<LocalRuntimeConfig> = {}) {
  return resolveLocalRuntimeConfig({
    dataDir: '/var/lib/berth/registries',
    command: ['/usr/bin/node', '/opt/berth/bin/berth.js', 'registry', 'serve'],
    ...overrides,
  });
}

describe('tenantProcessSpec', () => {
  it('gives the data plane its contract variables and only the basics of the parent environment', () => {
    const spec = tenantProcessSpec(tenant(), config(), PARENT_ENV);
    assert.equal(spec.dir, '/var/lib/berth/registries/acme-prod');
    assert.deepEqual(spec.env, {
      PATH: '/usr/bin:/bin',
      HOME: '/home/berth',
      LANG: 'C.UTF-8',
      HOST: '127.0.0.1',
      PORT: '5001',
      DATA_DIR: '/var/lib/berth/registries/acme-prod',
      DATABASE_URL: 'postgres://t_acme:pw@127.0.0.1:5432/t_acme',
      REGISTRY_ADMIN_USER: 'berth-admin',
      REGISTRY_ADMIN_PASSWORD: 'tenant-admin-password',
      REGISTRY_SIGNING_KEY: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n',
      REGISTRY_AUTH: 'token',
      REGISTRY_AUTH_SERVICE: 'acme-prod',
      REGISTRY_AUTH_ISSUER: 'berth-acme-prod',
      LOG_LEVEL: 'info',
      STORAGE_DRIVER: 'filesystem',
      NODE_OPTIONS: '--max-semi-space-size=4',
      GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072',
    });
    assert.deepEqual(spec.endpoints, {
      publicUrl: 'http://127.0.0.1:5001',
      adminUrl: 'http://127.0.0.1:5001',
    });
    assert.equal(spec.readyUrl, 'http://127.0.0.1:5001/readyz');
  });

  it('stores blobs on S3 when the tenant has S3 secrets', () => {
    const s3 = {
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      bucket: 'berth-tenants',
      prefix: 'acme-prod',
      accessKeyId: 'AKIA',
      secretAccessKey: 'secret',
    };
    const { env } = tenantProcessSpec(
      tenant({ secrets: { ...tenant().secrets, s3 } }),
      config(),
      {},
    );
    assert.equal(env.STORAGE_DRIVER, 's3');
    assert.equal(env.S3_ENDPOINT, 'http://127.0.0.1:9000');
    assert.equal(env.S3_REGION, 'eu-west-1');
    assert.equal(env.S3_BUCKET, 'berth-tenants');
    assert.equal(env.S3_PREFIX, 'acme-prod');
    assert.equal(env.S3_ACCESS_KEY_ID, 'AKIA');
    assert.equal(env.S3_SECRET_ACCESS_KEY, 'secret');
  });

  it('adds extraEnv last and uses the configured hosts', () => {
    const spec = tenantProcessSpec(
      tenant(),
      config({
        bindHost: '0.0.0.0',
        publicHost: 'registry.example.test',
        logLevel: 'warn',
        extraEnv: { LOG_LEVEL: 'debug', REGISTRY_RATE_LIMIT_REQUESTS: '0' },
      }),
      {},
    );
    assert.equal(spec.env.HOST, '0.0.0.0');
    assert.equal(spec.env.LOG_LEVEL, 'debug');
    assert.equal(spec.env.REGISTRY_RATE_LIMIT_REQUESTS, '0');
    assert.equal(spec.env.NODE_OPTIONS, '--max-semi-space-size=4');
    assert.equal(spec.env.GLIBC_TUNABLES, 'glibc.malloc.mmap_threshold=131072');
    assert.deepEqual(spec.endpoints, {
      publicUrl: 'http://registry.example.test:5001',
      adminUrl: 'http://127.0.0.1:5001',
    });
  });

  it("extends an operator's NODE_OPTIONS from extraEnv with the process settings", () => {
    const spec = tenantProcessSpec(
      tenant(),
      config({ extraEnv: { NODE_OPTIONS: '--enable-source-maps' } }),
      { NODE_OPTIONS: '--inspect' },
    );
    assert.equal(spec.env.NODE_OPTIONS, '--enable-source-maps --max-semi-space-size=4');
  });

  it('brackets an IPv6 bind address in URLs', () => {
    const spec = tenantProcessSpec(tenant(), config({ bindHost: '::1', publicHost: '::1' }), {});
    assert.deepEqual(spec.endpoints, {
      publicUrl: 'http://[::1]:5001',
      adminUrl: 'http://[::1]:5001',
    });
  });

  it('changes the fingerprint exactly when the environment or the command changes', () => {
    const base = tenantProcessSpec(tenant(), config(), PARENT_ENV).fingerprint;
    assert.equal(tenantProcessSpec(tenant(), config(), PARENT_ENV).fingerprint, base);
    const secrets = { ...tenant().secrets, adminPassword: 'another-password' };
    assert.notEqual(tenantProcessSpec(tenant({ secrets }), config(), PARENT_ENV).fingerprint, base);
    assert.notEqual(
      tenantProcessSpec(tenant({ port: 5002 }), config(), PARENT_ENV).fingerprint,
      base,
    );
    const other = config({ command: ['/usr/bin/node', '/srv/berth.js', 'registry', 'serve'] });
    assert.notEqual(tenantProcessSpec(tenant(), other, PARENT_ENV).fingerprint, base);
  });

  it('refuses a tenant without a port, with a bad port or with a name that is not a DNS label', () => {
    assert.throws(
      () => tenantProcessSpec(tenant({ port: undefined }), config()),
      /registry acme-prod has no port; the control plane allocates one/,
    );
    assert.throws(() => tenantProcessSpec(tenant({ port: 70_000 }), config()), /invalid port/);
    for (const name of ['../etc', 'Acme', '', '-acme', 'a'.repeat(64), 'acme/prod']) {
      assert.throws(
        () => tenantProcessSpec(tenant({ name }), config()),
        /not a valid registry name/,
      );
    }
  });
});

describe('resolveLocalRuntimeConfig', () => {
  it('finds bin/berth.js of this repository for the default command', () => {
    const resolved = resolveLocalRuntimeConfig({ dataDir: '/tmp/berth' });
    assert.equal(resolved.command[0], process.execPath);
    assert.match(resolved.command[1], /[/\\]bin[/\\]berth\.js$/);
    assert.deepEqual(resolved.command.slice(2), ['registry', 'serve']);
  });

  it('refuses a relative data directory and nonsense timings', () => {
    assert.throws(() => config({ dataDir: 'data' }), /dataDir must be absolute/);
    assert.throws(() => config({ restartInitialDelayMs: 0 }), /restartInitialDelayMs/);
    assert.throws(
      () => config({ restartInitialDelayMs: 1000, restartMaxDelayMs: 10 }),
      /restartMaxDelayMs must not be below/,
    );
    assert.throws(() => config({ command: [] }), /command must not be empty/);
  });
});
