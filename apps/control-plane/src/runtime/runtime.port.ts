/**
 * The runtime port: where and how a tenant's data plane runs. Two adapters implement it,
 * chosen by configuration (`BERTH_RUNTIME`): `local` (supervised child processes on this
 * machine, the single-machine default) and `kubernetes` (server-side apply through
 * `@kubernetes/client-node`). The control plane's lifecycle jobs call only this interface.
 *
 * Every method is idempotent: a job that crashed half-way simply calls it again.
 */
export type RuntimeKind = 'local' | 'kubernetes';

/** Compute sized by tier (tiers are data; these come from the tier row). */
export interface TenantResources {
  cpuMillis: number;
  memoryMiB: number;
  /** The tier's disk in bytes (for the Kubernetes ResourceQuota and the local runtime's info). */
  diskBytes: number;
}

/**
 * S3 storage of one tenant: its own prefix (by registry id). The credentials are the platform's
 * (TENANT_S3_*), shared by every tenant on Kubernetes; see docs/control-plane.md.
 */
export interface TenantS3Storage {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix?: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Everything secret a tenant's data plane starts with; no two tenants share any of it. */
export interface TenantSecrets {
  /** The tenant's own database (its own database and role on the PostgreSQL server). */
  databaseUrl: string;
  /** The data plane's admin principal, used by the control plane's calls to its admin API. */
  adminUser: string;
  adminPassword: string;
  /** PEM (PKCS#8) of the tenant's ES256 token signing key. */
  signingKeyPem: string;
  /** Present when the tenant stores blobs on S3 (always on Kubernetes). */
  s3?: TenantS3Storage;
}

export interface TenantDeployment {
  /** The registry's id (UUID) in the control plane. */
  registryId: string;
  /**
   * DNS label, unique across the platform (`acme-prod`): the Kubernetes namespace is
   * `berth-<name>`, the public host `<name>.<base domain>`.
   */
  name: string;
  /** The owning organisation's slug, for labels. */
  organisation: string;
  tier: string;
  resources: TenantResources;
  /** Suspended tenants keep their data but run nothing (replicas 0 / no process). */
  suspended: boolean;
  secrets: TenantSecrets;
  /**
   * Local runtime only: the port to listen on (allocated by the control plane and kept with
   * the registry, so the endpoint survives restarts). Ignored by Kubernetes.
   */
  port?: number;
}

export interface TenantEndpoints {
  /** What clients use: `docker login <host>`, image references. */
  publicUrl: string;
  /** Where the control plane reaches the data plane's admin API. */
  adminUrl: string;
}

export type RuntimeState = 'absent' | 'starting' | 'ready' | 'failed' | 'suspended';

export interface RuntimeStatus {
  state: RuntimeState;
  /** Why it is not ready (a crash loop, a failed rollout), null when ready. */
  message: string | null;
}

export interface TenantRef {
  registryId: string;
  name: string;
}

export interface TenantRuntime {
  readonly kind: RuntimeKind;
  /**
   * Creates or updates everything the tenant runs on (idempotent) and returns its endpoints.
   * It does not wait for readiness: poll `status`.
   */
  apply(tenant: TenantDeployment): Promise<TenantEndpoints>;
  status(tenant: TenantRef): Promise<RuntimeStatus>;
  /**
   * Removes everything the runtime created for the tenant (processes, objects, its storage
   * directory on the local runtime). Idempotent: removing an absent tenant succeeds.
   */
  remove(tenant: TenantRef): Promise<void>;
  /** Stops supervising (local: stops the processes, keeping their data); the adapter's end. */
  close(): Promise<void>;
}

/** Nest injection token of the configured adapter. */
export const TENANT_RUNTIME = Symbol('TENANT_RUNTIME');
