export type QuotaPolicy = 'read_only' | 'auto_upgrade';
export const QUOTA_POLICIES: readonly QuotaPolicy[] = ['read_only', 'auto_upgrade'];

export type RegistryState =
  'provisioning' | 'ready' | 'failed' | 'suspended' | 'deleting' | 'deleted';

/** What the control plane keeps secret for a tenant (sealed with the SecretBox at rest). */
export interface TenantSecretRecord {
  databaseName: string;
  databaseRole: string;
  databasePassword: string;
  adminUser: string;
  adminPassword: string;
  signingKeyPem: string;
}

/** A registry as the control plane stores it. */
export interface RegistryRecord {
  id: string;
  orgId: string;
  orgSlug: string;
  name: string;
  tier: string;
  quotaPolicy: QuotaPolicy;
  state: RegistryState;
  stateReason: string | null;
  maintenanceMessage: string | null;
  writeBlocked: boolean;
  port: number | null;
  publicUrl: string | null;
  adminUrl: string | null;
  createdAt: Date;
  secrets: TenantSecretRecord | null;
}

export interface RegistryUsageView {
  totalBytes: number;
  limitBytes: number;
  /** totalBytes / limitBytes in percent, one decimal. */
  percent: number;
  measuredAt: string;
}

/** A registry as the REST API shows it. */
export interface RegistryView {
  id: string;
  organisation: string;
  name: string;
  tier: string;
  quotaPolicy: QuotaPolicy;
  state: RegistryState;
  stateReason: string | null;
  maintenanceMessage: string | null;
  /** True while pushes are refused (quota or maintenance). */
  writeBlocked: boolean;
  /** What clients use: `docker login <host>`. */
  host: string | null;
  endpoint: string | null;
  usage: RegistryUsageView | null;
  createdAt: string;
}
