import { createPrivateKey, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { ConfigError, EnvReader, maskUrl, type Env } from '@berth/env-config';
import { DEFAULT_HEAP_GROWING_PERCENT } from '../heap-tuning';

export type StorageDriverKind = 'filesystem' | 's3';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface S3Config {
  endpoint?: string;
  region: string;
  bucket: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
  prefix?: string;
  presignedRedirect: boolean;
}

export type AuthMode = 'token' | 'none';

export interface AuthConfig {
  /** `token`: Docker token authentication; `none`: an open registry (benchmarks, local use). */
  mode: AuthMode;
  /** The `service` of the token flow and the `aud` of tokens. */
  service: string;
  /** The `iss` of tokens this registry mints. */
  issuer: string;
  /** Token endpoint announced in `WWW-Authenticate`; derived from the request when unset. */
  realm?: string;
  tokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** First administrator, created when the registry has no principal yet. */
  adminUser: string;
  adminPassword?: string;
  lockoutThreshold: number;
  lockoutWindowSeconds: number;
  lockoutCooldownSeconds: number;
  /** Requests per IP per window on the whole API; 0 switches the limit off. */
  rateLimitRequests: number;
  rateLimitWindowSeconds: number;
  auditRetentionDays: number;
  /**
   * PEM (PKCS#8) of a provisioned ES256 signing key (the control plane generates one per
   * tenant): imported into the key ring as its active key, once. Secret.
   */
  signingKeyPem?: string;
}

/** The data plane's whole configuration, validated once at start-up. Nothing else reads the environment. */
export interface RegistryConfig {
  host: string;
  port: number;
  dataDir: string;
  /** External PostgreSQL; when absent an embedded PostgreSQL runs under `<dataDir>/postgres`. */
  databaseUrl?: string;
  databasePoolSize: number;
  storage: StorageDriverKind;
  /** How local-disk downloads read (`FilesystemStorageOptions.reads`): `adaptive` or `pool`. */
  filesystemReads: 'adaptive' | 'pool';
  s3?: S3Config;
  /**
   * Accept manifests whose referenced blobs or child manifests are not in the repository
   * (indexes with only some platforms, partial mirrors). Off by default: then every
   * reference must exist.
   */
  sparseManifests: boolean;
  maxManifestBytes: number;
  /** How long another process's tag or manifest change may take to show here (0: no cache). */
  manifestCacheMs: number;
  /** Worker threads that hash uploads (0: hash on the event loop). */
  hashWorkers: number;
  /** V8 old-generation growth before a full GC, in percent (0: V8's default); see heap-tuning. */
  heapGrowingPercent: number;
  /** Page size of `_catalog` when the client gives none, and the most either listing returns. */
  catalogDefaultPageSize: number;
  listMaxPageSize: number;
  logLevel: LogLevel;
  shutdownGraceMs: number;
  /** Number of trusted reverse-proxy hops in front of the registry (0: none). */
  trustProxy: number;
  /** Background jobs: BullMQ on this Redis; without it an in-process queue (quick start). */
  redisUrl?: string;
  /** `all` serves and works jobs; `producer` only enqueues; `worker` only works them. */
  queueRole: 'all' | 'producer' | 'worker';
  /** Redis key prefix, one per registry when registries share a Redis. */
  queuePrefix: string;
  /** Cron of the scheduled garbage collection, or undefined when switched off. */
  gcSchedule?: string;
  gcGraceSeconds: number;
  /** Cron of the scheduled retention run, or undefined when switched off. */
  retentionSchedule?: string;
  auth: AuthConfig;
}

export { ConfigError };

const LOG_LEVELS: readonly LogLevel[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];
const SECRET_KEYS = new Set([
  'S3_SECRET_ACCESS_KEY',
  'DATABASE_URL',
  'REGISTRY_ADMIN_PASSWORD',
  'REGISTRY_SIGNING_KEY',
]);

export function loadRegistryConfig(env: Env, cwd = process.cwd()): RegistryConfig {
  const r = new EnvReader(env, SECRET_KEYS);
  const host = r.string('HOST') ?? '127.0.0.1';
  const port = r.int('PORT', 5000, 0, 65535);
  const dataDirRaw = r.string('DATA_DIR') ?? './data';
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);
  const databaseUrl = r.url('DATABASE_URL', ['postgres:', 'postgresql:']);
  const bucket = r.string('S3_BUCKET');
  const storage = r.oneOf<StorageDriverKind>(
    'STORAGE_DRIVER',
    ['filesystem', 's3'],
    bucket ? 's3' : 'filesystem',
  );
  let s3: S3Config | undefined;
  if (storage === 's3') {
    if (!bucket) r.problems.push('S3_BUCKET is required when STORAGE_DRIVER=s3');
    const accessKeyId = r.string('S3_ACCESS_KEY_ID');
    const secretAccessKey = r.string('S3_SECRET_ACCESS_KEY');
    if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
      r.problems.push('S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY must be given together');
    }
    const prefix = r.string('S3_PREFIX');
    if (prefix !== undefined && (prefix.startsWith('/') || prefix.includes('..'))) {
      r.problems.push('S3_PREFIX must be a relative key prefix without ".." (e.g. "tenants/acme")');
    }
    s3 = {
      endpoint: r.url('S3_ENDPOINT', ['http:', 'https:']),
      region: r.string('S3_REGION') ?? 'us-east-1',
      bucket: bucket ?? '',
      accessKeyId,
      secretAccessKey,
      forcePathStyle: r.bool('S3_FORCE_PATH_STYLE', true),
      prefix,
      presignedRedirect: r.bool('S3_PRESIGNED_REDIRECT', false),
    };
  }
  const config: RegistryConfig = {
    host,
    port,
    dataDir,
    databaseUrl,
    databasePoolSize: r.int('DATABASE_POOL_SIZE', 20, 1, 500),
    storage,
    filesystemReads: r.oneOf('STORAGE_FS_READS', ['adaptive', 'pool'] as const, 'adaptive'),
    s3,
    sparseManifests: r.bool('REGISTRY_SPARSE_MANIFESTS', false),
    maxManifestBytes: r.int('REGISTRY_MAX_MANIFEST_BYTES', 4 * 1024 * 1024, 1024, 64 * 1024 * 1024),
    manifestCacheMs: r.int('REGISTRY_MANIFEST_CACHE_MS', 1000, 0, 60_000),
    hashWorkers: r.int('REGISTRY_HASH_WORKERS', defaultHashWorkers(), 0, 16),
    heapGrowingPercent: r.int(
      'REGISTRY_HEAP_GROWING_PERCENT',
      DEFAULT_HEAP_GROWING_PERCENT,
      0,
      1000,
    ),
    catalogDefaultPageSize: r.int('REGISTRY_CATALOG_PAGE_SIZE', 1000, 1, 100_000),
    listMaxPageSize: r.int('REGISTRY_LIST_MAX_PAGE_SIZE', 10_000, 1, 1_000_000),
    logLevel: r.oneOf<LogLevel>('LOG_LEVEL', LOG_LEVELS, 'info'),
    shutdownGraceMs: r.int('SHUTDOWN_GRACE_MS', 10_000, 0, 600_000),
    trustProxy: r.int('REGISTRY_TRUST_PROXY_HOPS', 0, 0, 10),
    redisUrl: r.url('REDIS_URL', ['redis:', 'rediss:']),
    queueRole: r.oneOf('REGISTRY_QUEUE_ROLE', ['all', 'producer', 'worker'] as const, 'all'),
    queuePrefix: r.string('REGISTRY_QUEUE_PREFIX') ?? 'berth:registry',
    gcSchedule: cronOrOff(r, 'REGISTRY_GC_SCHEDULE', '0 3 * * *'),
    gcGraceSeconds: r.int('REGISTRY_GC_GRACE_SECONDS', 3600, 0, 30 * 86_400),
    retentionSchedule: cronOrOff(r, 'REGISTRY_RETENTION_SCHEDULE', '30 2 * * *'),
    auth: {
      mode: r.oneOf<AuthMode>('REGISTRY_AUTH', ['token', 'none'], 'token'),
      service: r.string('REGISTRY_AUTH_SERVICE') ?? 'berth-registry',
      issuer: r.string('REGISTRY_AUTH_ISSUER') ?? 'berth-registry',
      realm: r.url('REGISTRY_AUTH_REALM', ['http:', 'https:']),
      tokenTtlSeconds: r.int('REGISTRY_TOKEN_TTL_SECONDS', 300, 30, 86_400),
      refreshTokenTtlSeconds: r.int(
        'REGISTRY_REFRESH_TOKEN_TTL_SECONDS',
        30 * 86_400,
        60,
        365 * 86_400,
      ),
      adminUser: r.string('REGISTRY_ADMIN_USER') ?? 'admin',
      adminPassword: r.string('REGISTRY_ADMIN_PASSWORD'),
      lockoutThreshold: r.int('REGISTRY_LOCKOUT_THRESHOLD', 10, 1, 10_000),
      lockoutWindowSeconds: r.int('REGISTRY_LOCKOUT_WINDOW_SECONDS', 300, 1, 86_400),
      lockoutCooldownSeconds: r.int('REGISTRY_LOCKOUT_COOLDOWN_SECONDS', 900, 1, 86_400),
      rateLimitRequests: r.int('REGISTRY_RATE_LIMIT_REQUESTS', 500, 0, 10_000_000),
      rateLimitWindowSeconds: r.int('REGISTRY_RATE_LIMIT_WINDOW_SECONDS', 600, 1, 86_400),
      auditRetentionDays: r.int('REGISTRY_AUDIT_RETENTION_DAYS', 90, 1, 3650),
      signingKeyPem: signingKey(r, 'REGISTRY_SIGNING_KEY'),
    },
  };
  if (config.auth.adminPassword !== undefined && config.auth.adminPassword.length < 8) {
    r.problems.push('REGISTRY_ADMIN_PASSWORD must have at least 8 characters');
  }
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(config.auth.adminUser)) {
    r.problems.push(
      'REGISTRY_ADMIN_USER must be 1-64 of a-z 0-9 . _ - starting with a letter or digit',
    );
  }
  r.done();
  return config;
}

/**
 * An EC P-256 private key in PEM (PKCS#8, or SEC1 `EC PRIVATE KEY`), returned as PKCS#8. A
 * value with literal `\n` instead of line breaks (env files) is accepted. Problems never show
 * the value.
 */
function signingKey(r: EnvReader, key: string): string | undefined {
  const raw = r.string(key);
  if (raw === undefined) return undefined;
  const pem = !raw.includes('\n') && raw.includes('\\n') ? raw.replace(/\\n/g, '\n') : raw;
  let parsed: KeyObject;
  try {
    parsed = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    r.problems.push(`${key} is not a PEM private key (expected "-----BEGIN PRIVATE KEY-----")`);
    return undefined;
  }
  const curve = parsed.asymmetricKeyDetails?.namedCurve;
  if (parsed.asymmetricKeyType !== 'ec' || curve !== 'prime256v1') {
    const what =
      parsed.asymmetricKeyType === 'ec'
        ? `an EC key on ${curve ?? 'an unknown curve'}`
        : `a ${parsed.asymmetricKeyType ?? 'unknown'} key`;
    r.problems.push(`${key} is ${what}; tokens are signed with ES256, which needs an EC P-256 key`);
    return undefined;
  }
  return parsed.export({ format: 'pem', type: 'pkcs8' }).toString();
}

/** A 5- or 6-field cron expression, or `off`. */
function cronOrOff(r: EnvReader, key: string, fallback: string): string | undefined {
  const raw = r.string(key) ?? fallback;
  if (raw === 'off') return undefined;
  if (!/^(\S+\s+){4,5}\S+$/.test(raw)) {
    r.problems.push(
      `${key}=${JSON.stringify(raw)} is not a cron expression (5 or 6 fields) or "off"`,
    );
    return undefined;
  }
  return raw;
}

/** The configuration as it may be logged: secrets masked. */
export function describeConfig(config: RegistryConfig): Record<string, unknown> {
  return {
    ...config,
    databaseUrl: config.databaseUrl ? maskUrl(config.databaseUrl) : 'embedded',
    redisUrl: config.redisUrl ? maskUrl(config.redisUrl) : 'in-process queue',
    auth: {
      ...config.auth,
      adminPassword: config.auth.adminPassword ? '<redacted>' : undefined,
      signingKeyPem: config.auth.signingKeyPem ? '<redacted>' : undefined,
    },
    s3: config.s3
      ? { ...config.s3, secretAccessKey: config.s3.secretAccessKey ? '<redacted>' : undefined }
      : undefined,
  };
}

/**
 * One hash worker per core beyond two, at most 2. A worker costs ~15 MiB of resident memory
 * (its own V8 isolate and Node environment) and pays a copy and a message per 512 KiB; on two
 * cores, where the event loop, V8's GC threads and PostgreSQL already share the CPU, it bought
 * ~9% on large monolithic pushes and nothing on chunked or mixed ones, for 15-20 MiB more peak
 * RSS (docs/performance.md, finding 9).
 */
function defaultHashWorkers(): number {
  return Math.max(0, Math.min(2, availableParallelism() - 2));
}
