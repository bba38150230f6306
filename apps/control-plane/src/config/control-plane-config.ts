import { isAbsolute, resolve } from 'node:path';
import { EnvReader, maskUrl, type Env } from '@berth/env-config';
import type { RuntimeKind } from '../runtime/runtime.port';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LocalRuntimeSettings {
  /** Address the tenants' data planes listen on. */
  bindHost: string;
  /** Host name clients use for local registries (`docker login <host>:<port>`). */
  publicHost: string;
  /** The first registry created on first start listens here (`PORT`, as before the platform). */
  firstRegistryPort: number;
  portRangeStart: number;
  portRangeEnd: number;
}

export interface KubernetesRuntimeSettings {
  image: string;
  baseDomain: string;
  gatewayName: string;
  gatewayNamespace: string;
  controlPlaneNamespace: string;
  certManagerIssuer?: string;
  kubeconfig?: string;
}

/** Where tenants store blobs on Kubernetes: one bucket, a prefix per tenant. */
export interface TenantS3Settings {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ControlPlaneConfig {
  host: string;
  port: number;
  dataDir: string;
  /** The control plane's own database; unset: the embedded PostgreSQL under dataDir. */
  databaseUrl?: string;
  /**
   * A superuser (or CREATEDB + CREATEROLE) URL of the PostgreSQL server that hosts the tenants'
   * databases; unset: the server of the control plane's own database.
   */
  tenantDatabaseAdminUrl?: string;
  /** Host name tenants use to reach that server (Kubernetes: its service name). */
  tenantDatabaseHost?: string;
  redisUrl?: string;
  queuePrefix: string;
  runtime: RuntimeKind;
  local: LocalRuntimeSettings;
  kubernetes?: KubernetesRuntimeSettings;
  tenantS3?: TenantS3Settings;
  /** HMAC secret of session tokens; unset: generated once and kept in dataDir. */
  sessionSecret?: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** 32-byte key (base64) encrypting tenant secrets at rest; unset: generated in dataDir. */
  secretKey?: string;
  usageIntervalSeconds: number;
  quotaBlockPercent: number;
  quotaResumePercent: number;
  admin: { email: string; password?: string };
  signupOpen: boolean;
  /** Create the first organisation and registry on first start. */
  bootstrap: boolean;
  logLevel: LogLevel;
  /**
   * Extra environment of every tenant's data plane, from `TENANT_ENV_<NAME>` variables (e.g.
   * `TENANT_ENV_REGISTRY_GC_SCHEDULE=off`). Applied last by the local runtime: do not use it for
   * the variables the runtime sets itself (DATABASE_URL, PORT, REGISTRY_ADMIN_*, ...).
   */
  tenantEnv: Record<string, string>;
}

const SECRET_KEYS = new Set([
  'CONTROL_PLANE_DATABASE_URL',
  'TENANT_DATABASE_ADMIN_URL',
  'BERTH_SESSION_SECRET',
  'BERTH_SECRET_KEY',
  'BERTH_ADMIN_PASSWORD',
  'TENANT_S3_SECRET_ACCESS_KEY',
]);

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Reads and validates the control plane's configuration; throws ConfigError listing every problem. */
export function loadControlPlaneConfig(env: Env, cwd = process.cwd()): ControlPlaneConfig {
  const r = new EnvReader(env, SECRET_KEYS);
  const dataDirRaw = r.string('DATA_DIR') ?? './data';
  const runtime = r.oneOf<RuntimeKind>('BERTH_RUNTIME', ['local', 'kubernetes'], 'local');
  const config: ControlPlaneConfig = {
    host: r.string('CONTROL_PLANE_HOST') ?? '127.0.0.1',
    port: r.int('CONTROL_PLANE_PORT', 8080, 0, 65535),
    dataDir: isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw),
    databaseUrl: r.url('CONTROL_PLANE_DATABASE_URL', ['postgres:', 'postgresql:']),
    tenantDatabaseAdminUrl: r.url('TENANT_DATABASE_ADMIN_URL', ['postgres:', 'postgresql:']),
    tenantDatabaseHost: r.string('TENANT_DATABASE_HOST'),
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    queuePrefix: r.string('BERTH_QUEUE_PREFIX') ?? 'berth:platform',
    runtime,
    local: {
      bindHost: r.string('LOCAL_RUNTIME_BIND_HOST') ?? '127.0.0.1',
      publicHost: r.string('LOCAL_RUNTIME_PUBLIC_HOST') ?? '127.0.0.1',
      firstRegistryPort: r.int('PORT', 5000, 1, 65535),
      portRangeStart: r.int('LOCAL_RUNTIME_PORT_FROM', 5001, 1, 65535),
      portRangeEnd: r.int('LOCAL_RUNTIME_PORT_TO', 5999, 1, 65535),
    },
    sessionSecret: r.string('BERTH_SESSION_SECRET'),
    accessTokenTtlSeconds: r.int('BERTH_ACCESS_TOKEN_TTL_SECONDS', 900, 30, 86_400),
    refreshTokenTtlSeconds: r.int(
      'BERTH_REFRESH_TOKEN_TTL_SECONDS',
      30 * 86_400,
      300,
      365 * 86_400,
    ),
    secretKey: r.string('BERTH_SECRET_KEY'),
    usageIntervalSeconds: r.int('BERTH_USAGE_INTERVAL_SECONDS', 60, 1, 3600),
    quotaBlockPercent: r.int('BERTH_QUOTA_BLOCK_PERCENT', 90, 1, 100),
    quotaResumePercent: r.int('BERTH_QUOTA_RESUME_PERCENT', 85, 0, 100),
    admin: {
      email: (r.string('BERTH_ADMIN_EMAIL') ?? 'admin@berth.local').toLowerCase(),
      password: r.string('BERTH_ADMIN_PASSWORD'),
    },
    signupOpen: r.bool('BERTH_SIGNUP_OPEN', true),
    bootstrap: r.bool('BERTH_BOOTSTRAP', true),
    logLevel: r.oneOf<LogLevel>('LOG_LEVEL', LOG_LEVELS, 'info'),
    tenantEnv: tenantEnv(env),
  };
  if (config.local.portRangeStart > config.local.portRangeEnd) {
    r.problem('LOCAL_RUNTIME_PORT_FROM must not be above LOCAL_RUNTIME_PORT_TO');
  }
  if (config.quotaResumePercent > config.quotaBlockPercent) {
    r.problem('BERTH_QUOTA_RESUME_PERCENT must not be above BERTH_QUOTA_BLOCK_PERCENT');
  }
  if (!EMAIL.test(config.admin.email)) {
    r.problem(`BERTH_ADMIN_EMAIL=${JSON.stringify(config.admin.email)} is not an e-mail address`);
  }
  if (config.admin.password !== undefined && config.admin.password.length < 12) {
    r.problem('BERTH_ADMIN_PASSWORD must have at least 12 characters');
  }
  if (config.sessionSecret !== undefined && config.sessionSecret.length < 32) {
    r.problem('BERTH_SESSION_SECRET must have at least 32 characters');
  }
  if (config.secretKey !== undefined && Buffer.from(config.secretKey, 'base64').length !== 32) {
    r.problem('BERTH_SECRET_KEY must be 32 bytes, base64-encoded (openssl rand -base64 32)');
  }
  if (runtime === 'kubernetes') {
    const image = r.string('KUBERNETES_DATA_PLANE_IMAGE');
    const baseDomain = r.string('BERTH_BASE_DOMAIN');
    if (!image) r.problem('KUBERNETES_DATA_PLANE_IMAGE is required with BERTH_RUNTIME=kubernetes');
    if (!baseDomain) r.problem('BERTH_BASE_DOMAIN is required with BERTH_RUNTIME=kubernetes');
    config.kubernetes = {
      image: image ?? '',
      baseDomain: baseDomain ?? '',
      gatewayName: r.string('KUBERNETES_GATEWAY_NAME') ?? 'berth',
      gatewayNamespace: r.string('KUBERNETES_GATEWAY_NAMESPACE') ?? 'berth-system',
      controlPlaneNamespace: r.string('KUBERNETES_CONTROL_PLANE_NAMESPACE') ?? 'berth-system',
      certManagerIssuer: r.string('KUBERNETES_CERT_ISSUER'),
      kubeconfig: r.string('KUBECONFIG'),
    };
    const bucket = r.string('TENANT_S3_BUCKET');
    const accessKeyId = r.string('TENANT_S3_ACCESS_KEY_ID');
    const secretAccessKey = r.string('TENANT_S3_SECRET_ACCESS_KEY');
    if (!bucket || !accessKeyId || !secretAccessKey) {
      r.problem(
        'TENANT_S3_BUCKET, TENANT_S3_ACCESS_KEY_ID and TENANT_S3_SECRET_ACCESS_KEY are required with BERTH_RUNTIME=kubernetes',
      );
    }
    config.tenantS3 = {
      endpoint: r.url('TENANT_S3_ENDPOINT', ['http:', 'https:']),
      region: r.string('TENANT_S3_REGION') ?? 'us-east-1',
      bucket: bucket ?? '',
      accessKeyId: accessKeyId ?? '',
      secretAccessKey: secretAccessKey ?? '',
    };
    if (!config.databaseUrl) {
      r.problem('CONTROL_PLANE_DATABASE_URL is required with BERTH_RUNTIME=kubernetes');
    }
  }
  r.done();
  return config;
}

/**
 * `TENANT_ENV_*` variables. On one machine every client comes from 127.0.0.1, so the data
 * planes' per-IP request limit is off unless set here.
 */
function tenantEnv(env: Env): Record<string, string> {
  const out: Record<string, string> = { REGISTRY_RATE_LIMIT_REQUESTS: '0' };
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('TENANT_ENV_') && key.length > 11 && value !== undefined) {
      out[key.slice(11)] = value;
    }
  }
  return out;
}

/** The configuration for logs, secrets masked. */
export function describeControlPlaneConfig(config: ControlPlaneConfig): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: config.databaseUrl ? maskUrl(config.databaseUrl) : 'embedded',
    tenantDatabaseAdminUrl: config.tenantDatabaseAdminUrl
      ? maskUrl(config.tenantDatabaseAdminUrl)
      : 'the control plane database server',
    redisUrl: config.redisUrl ? maskUrl(config.redisUrl) : 'in-process queue',
    sessionSecret: config.sessionSecret ? '<redacted>' : 'generated',
    secretKey: config.secretKey ? '<redacted>' : 'generated',
    admin: {
      email: config.admin.email,
      password: config.admin.password ? '<redacted>' : 'generated',
    },
    tenantS3: config.tenantS3 ? { ...config.tenantS3, secretAccessKey: '<redacted>' } : undefined,
  };
}
