import type { TenantDeployment } from '../../runtime.port';
import {
  resolveKubernetesRuntimeConfig,
  type KubernetesRuntimeConfig,
  type KubernetesRuntimeConfigInput,
} from '../kubernetes-runtime.config';

/** A runtime configuration as an operator would give it, with overrides. */
export function testRuntimeConfig(
  overrides: Partial<KubernetesRuntimeConfigInput> = {},
): KubernetesRuntimeConfig {
  return resolveKubernetesRuntimeConfig({
    image: 'registry.example.com/berth/registry:1.4.2',
    baseDomain: 'registry.example.com',
    gateway: { name: 'public', namespace: 'gateway-system' },
    controlPlaneNamespace: 'berth-system',
    certManager: { issuerName: 'letsencrypt' },
    ...overrides,
  });
}

/** A tenant whose every identifier and secret contains its name (to detect leaks between two). */
export function testTenant(
  name: string,
  overrides: Partial<TenantDeployment> = {},
): TenantDeployment {
  const id =
    name === 'acme'
      ? '0b0e6f0e-7a42-4c55-9f8e-2f1a2b3c4d5e'
      : '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
  return {
    registryId: id,
    name,
    organisation: `${name}-corp`,
    tier: 'team',
    resources: { cpuMillis: 500, memoryMiB: 512, diskBytes: 50 * 1024 ** 3 },
    suspended: false,
    secrets: {
      databaseUrl: `postgres://tenant_${name}:pw-${name}-db@postgres.databases.svc:5432/tenant_${name}`,
      adminUser: `admin-${name}`,
      adminPassword: `admin-password-of-${name}`,
      signingKeyPem: `-----BEGIN PRIVATE KEY-----\nkey-of-${name}\n-----END PRIVATE KEY-----\n`,
      s3: {
        endpoint: 'https://s3.example.net',
        region: 'eu-west-1',
        bucket: 'berth-blobs',
        prefix: `tenants/${name}`,
        accessKeyId: `AKIA-${name}`,
        secretAccessKey: `s3-secret-of-${name}`,
      },
    },
    ...overrides,
  };
}

/** Every secret string of a tenant. */
export function secretValues(tenant: TenantDeployment): string[] {
  const { secrets } = tenant;
  return [
    secrets.databaseUrl,
    secrets.adminPassword,
    secrets.signingKeyPem,
    secrets.s3?.accessKeyId ?? '',
    secrets.s3?.secretAccessKey ?? '',
  ].filter((value) => value !== '');
}
