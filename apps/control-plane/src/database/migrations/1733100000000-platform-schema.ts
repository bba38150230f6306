import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The control plane's schema: accounts and sessions, organisations and members, tiers,
 * registries with their tier history, usage, egress, notifications and idempotency keys.
 * Money is stored in integer micro-euros (prices) and computed into integer cents (invoices).
 */
export class PlatformSchema1733100000000 implements MigrationInterface {
  name = 'PlatformSchema1733100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE accounts (
        id uuid PRIMARY KEY,
        email text NOT NULL UNIQUE CHECK (email = lower(email)),
        name text NOT NULL,
        password_hash text,
        operator boolean NOT NULL DEFAULT false,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    // A second identity provider (OpenID Connect) links here; passwords are one provider.
    await q.query(`
      CREATE TABLE account_identities (
        provider text NOT NULL,
        subject text NOT NULL,
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (provider, subject)
      )`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        secret_hash text NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY,
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name text NOT NULL,
        secret_hash text NOT NULL UNIQUE,
        expires_at timestamptz,
        revoked_at timestamptz,
        last_used_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE organisations (
        id uuid PRIMARY KEY,
        slug text NOT NULL UNIQUE,
        name text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE memberships (
        org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'reader')),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, account_id)
      )`);
    await q.query(`CREATE INDEX memberships_account_idx ON memberships (account_id)`);
    await q.query(`
      CREATE TABLE invitations (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        email text NOT NULL,
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'reader')),
        secret_hash text NOT NULL UNIQUE,
        invited_by uuid REFERENCES accounts(id) ON DELETE SET NULL,
        expires_at timestamptz NOT NULL,
        accepted_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX invitations_org_idx ON invitations (org_id, created_at)`);
    await q.query(`
      CREATE TABLE tiers (
        name text PRIMARY KEY,
        ordinal integer NOT NULL UNIQUE,
        disk_bytes bigint NOT NULL CHECK (disk_bytes > 0),
        included_egress_bytes bigint NOT NULL CHECK (included_egress_bytes >= 0),
        overage_micros_per_gb bigint NOT NULL CHECK (overage_micros_per_gb >= 0),
        monthly_price_micros bigint NOT NULL CHECK (monthly_price_micros >= 0),
        cpu_millis integer NOT NULL CHECK (cpu_millis > 0),
        memory_mib integer NOT NULL CHECK (memory_mib > 0),
        available boolean NOT NULL DEFAULT true,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE registries (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organisations(id),
        name text NOT NULL,
        tier text NOT NULL REFERENCES tiers(name),
        quota_policy text NOT NULL CHECK (quota_policy IN ('read_only', 'auto_upgrade')),
        state text NOT NULL CHECK (state IN
          ('provisioning', 'ready', 'failed', 'suspended', 'deleting', 'deleted')),
        state_reason text,
        maintenance_message text,
        write_blocked boolean NOT NULL DEFAULT false,
        port integer,
        public_url text,
        admin_url text,
        secrets bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        deleted_at timestamptz
      )`);
    await q.query(`CREATE INDEX registries_org_idx ON registries (org_id, name)`);
    // A deleted registry frees its name and its port.
    await q.query(
      `CREATE UNIQUE INDEX registries_live_name_idx ON registries (name) WHERE state <> 'deleted'`,
    );
    await q.query(
      `CREATE UNIQUE INDEX registries_live_port_idx ON registries (port) WHERE state <> 'deleted'`,
    );
    await q.query(`
      CREATE TABLE registry_tier_periods (
        registry_id uuid NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
        tier text NOT NULL REFERENCES tiers(name),
        starts_at timestamptz NOT NULL,
        ends_at timestamptz,
        reason text NOT NULL,
        PRIMARY KEY (registry_id, starts_at),
        CHECK (ends_at IS NULL OR ends_at > starts_at)
      )`);
    await q.query(`
      CREATE UNIQUE INDEX registry_tier_periods_open_idx
        ON registry_tier_periods (registry_id) WHERE ends_at IS NULL`);
    await q.query(`
      CREATE TABLE registry_usage (
        registry_id uuid PRIMARY KEY REFERENCES registries(id) ON DELETE CASCADE,
        total_bytes bigint NOT NULL,
        blob_bytes bigint NOT NULL,
        upload_bytes bigint NOT NULL,
        blobs bigint NOT NULL,
        measured_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE TABLE registry_usage_hourly (
        registry_id uuid NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
        hour timestamptz NOT NULL,
        max_bytes bigint NOT NULL,
        PRIMARY KEY (registry_id, hour)
      )`);
    // Absolute totals per cell as the data plane reports them: a retried report replaces.
    await q.query(`
      CREATE TABLE egress_hourly (
        registry_id uuid NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
        hour timestamptz NOT NULL,
        repository text NOT NULL,
        principal text NOT NULL,
        bytes bigint NOT NULL,
        requests bigint NOT NULL,
        PRIMARY KEY (registry_id, hour, repository, principal)
      )`);
    // Snapshot space per hour (backups); billed at the backup rate when rows exist.
    await q.query(`
      CREATE TABLE snapshot_usage_hourly (
        registry_id uuid NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
        hour timestamptz NOT NULL,
        bytes bigint NOT NULL,
        PRIMARY KEY (registry_id, hour)
      )`);
    await q.query(`
      CREATE TABLE registry_members (
        registry_id uuid NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
        account_id uuid NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        principal_id text NOT NULL,
        principal_name text NOT NULL,
        role text NOT NULL,
        PRIMARY KEY (registry_id, account_id)
      )`);
    await q.query(`
      CREATE TABLE notifications (
        id uuid PRIMARY KEY,
        org_id uuid NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
        kind text NOT NULL,
        message text NOT NULL,
        details jsonb NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        read_at timestamptz
      )`);
    await q.query(`CREATE INDEX notifications_org_idx ON notifications (org_id, created_at DESC)`);
    await q.query(`
      CREATE TABLE idempotency_keys (
        actor text NOT NULL,
        key text NOT NULL,
        method text NOT NULL,
        path text NOT NULL,
        request_hash text NOT NULL,
        status integer,
        response jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (actor, key)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'idempotency_keys',
      'notifications',
      'registry_members',
      'snapshot_usage_hourly',
      'egress_hourly',
      'registry_usage_hourly',
      'registry_usage',
      'registry_tier_periods',
      'registries',
      'tiers',
      'invitations',
      'memberships',
      'organisations',
      'api_keys',
      'refresh_tokens',
      'account_identities',
      'accounts',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
