import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DataPlaneAdminPaths, DataPlaneEnv, dataPlaneProcessEnv } from '@berth/platform-contracts';
import type { TenantDeployment, TenantEndpoints } from '../runtime.port';
import { adminHost, urlHost, type ResolvedLocalRuntimeConfig } from './local-runtime.config';

/** Everything one data plane process is started with; equal fingerprints mean no restart. */
export interface TenantProcessSpec {
  name: string;
  /** `<dataDir>/<name>`: the data plane's DATA_DIR, its log and its pid file. */
  dir: string;
  port: number;
  command: string[];
  env: Record<string, string>;
  /** SHA-256 of the command and the environment. */
  fingerprint: string;
  /** `/readyz` as the control plane reaches it. */
  readyUrl: string;
  endpoints: TenantEndpoints;
}

/**
 * Variables passed through from the control plane's own environment: what any program needs
 * to run (locale, time zone, temp dir, trusted CAs). Nothing else leaks into a data plane: not
 * the control plane's database URL, secrets or settings.
 */
export const PASSED_THROUGH_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;

/** DNS label (the platform's registry names), so a name is always one safe path segment. */
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function assertTenantName(name: string): void {
  if (!NAME.test(name)) {
    throw new Error(`local runtime: ${JSON.stringify(name)} is not a valid registry name`);
  }
}

export function tenantDir(config: ResolvedLocalRuntimeConfig, name: string): string {
  assertTenantName(name);
  return join(config.dataDir, name);
}

/**
 * The data plane's environment for `tenant`: basics, then the contract's variables, then
 * extraEnv, then the process settings (`dataPlaneProcessEnv`).
 */
export function tenantEnvironment(
  tenant: TenantDeployment,
  port: number,
  dir: string,
  config: ResolvedLocalRuntimeConfig,
  parentEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of PASSED_THROUGH_ENV) {
    const value = parentEnv[key];
    if (value !== undefined && value !== '') env[key] = value;
  }
  const { secrets } = tenant;
  Object.assign(env, {
    [DataPlaneEnv.host]: config.bindHost,
    [DataPlaneEnv.port]: String(port),
    [DataPlaneEnv.dataDir]: dir,
    [DataPlaneEnv.databaseUrl]: secrets.databaseUrl,
    [DataPlaneEnv.adminUser]: secrets.adminUser,
    [DataPlaneEnv.adminPassword]: secrets.adminPassword,
    [DataPlaneEnv.signingKey]: secrets.signingKeyPem,
    REGISTRY_AUTH: 'token',
    [DataPlaneEnv.service]: tenant.name,
    REGISTRY_AUTH_ISSUER: `berth-${tenant.name}`,
    LOG_LEVEL: config.logLevel,
  });
  const s3 = secrets.s3;
  if (s3 === undefined) {
    env.STORAGE_DRIVER = 'filesystem';
  } else {
    Object.assign(env, {
      STORAGE_DRIVER: 's3',
      S3_REGION: s3.region,
      S3_BUCKET: s3.bucket,
      S3_ACCESS_KEY_ID: s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    });
    if (s3.endpoint !== undefined) env.S3_ENDPOINT = s3.endpoint;
    if (s3.prefix !== undefined) env.S3_PREFIX = s3.prefix;
  }
  // The process settings go last so that an operator's NODE_OPTIONS in extraEnv is extended.
  return { ...env, ...config.extraEnv, ...dataPlaneProcessEnv(config.extraEnv) };
}

export function specFingerprint(command: readonly string[], env: Record<string, string>): string {
  const entries = Object.keys(env)
    .sort()
    .map((key) => [key, env[key]]);
  return createHash('sha256')
    .update(JSON.stringify({ command, env: entries }))
    .digest('hex');
}

export function tenantEndpoints(config: ResolvedLocalRuntimeConfig, port: number): TenantEndpoints {
  return {
    publicUrl: `http://${urlHost(config.publicHost)}:${port}`,
    adminUrl: `http://${urlHost(adminHost(config.bindHost))}:${port}`,
  };
}

/** The process spec of `tenant`; throws a clear error when it cannot run locally (no port). */
export function tenantProcessSpec(
  tenant: TenantDeployment,
  config: ResolvedLocalRuntimeConfig,
  parentEnv: NodeJS.ProcessEnv = process.env,
): TenantProcessSpec {
  const dir = tenantDir(config, tenant.name);
  const port = tenant.port;
  if (port === undefined) {
    throw new Error(
      `local runtime: registry ${tenant.name} has no port; the control plane allocates one ` +
        '(allocatePort) and stores it with the registry',
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`local runtime: registry ${tenant.name} has an invalid port ${port}`);
  }
  const env = tenantEnvironment(tenant, port, dir, config, parentEnv);
  const endpoints = tenantEndpoints(config, port);
  return {
    name: tenant.name,
    dir,
    port,
    command: [...config.command],
    env,
    fingerprint: specFingerprint(config.command, env),
    readyUrl: `${endpoints.adminUrl}${DataPlaneAdminPaths.ready}`,
    endpoints,
  };
}
