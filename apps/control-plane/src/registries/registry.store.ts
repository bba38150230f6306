import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { SECRET_BOX, SecretBox } from '../common/secret-box';
import type { OrgScope } from '../orgs/org-scope';

import type {
  QuotaPolicy,
  RegistryRecord,
  RegistryState,
  TenantSecretRecord,
} from './registry.types';

interface Row {
  id: string;
  org_id: string;
  org_slug: string;
  name: string;
  tier: string;
  quota_policy: QuotaPolicy;
  state: RegistryState;
  state_reason: string | null;
  maintenance_message: string | null;
  write_blocked: boolean;
  port: number | null;
  public_url: string | null;
  admin_url: string | null;
  created_at: Date;
  secrets: Buffer | null;
}

const SELECT = `SELECT r.id, r.org_id, o.slug AS org_slug, r.name, r.tier, r.quota_policy, r.state,
  r.state_reason, r.maintenance_message, r.write_blocked, r.port, r.public_url, r.admin_url,
  r.created_at, r.secrets FROM registries r JOIN organisations o ON o.id = r.org_id`;

type Queryable = Pick<EntityManager, 'query'> | DataSource;

/** Registry rows. Reads by organisation take an OrgScope; system reads say so in their name. */
@Injectable()
export class RegistryStore {
  constructor(
    private readonly db: DataSource,
    @Inject(SECRET_BOX) private readonly box: SecretBox,
  ) {}

  async inOrg(scope: OrgScope, name: string): Promise<RegistryRecord | null> {
    const rows: Row[] = await this.db.query(
      `${SELECT} WHERE r.org_id = $1 AND r.name = $2 AND r.state <> 'deleted'`,
      [scope.orgId, name],
    );
    return rows[0] ? this.toRecord(rows[0]) : null;
  }

  async listInOrg(scope: OrgScope, after: string | null, limit: number): Promise<RegistryRecord[]> {
    const rows: Row[] = await this.db.query(
      `${SELECT} WHERE r.org_id = $1 AND r.state <> 'deleted' AND ($2::text IS NULL OR r.name > $2)
        ORDER BY r.name LIMIT $3`,
      [scope.orgId, after, limit],
    );
    return rows.map((r) => this.toRecord(r));
  }

  /** System use (jobs, monitors): any registry by id. */
  async systemById(
    id: string,
    q: Queryable = this.db,
    lock = false,
  ): Promise<RegistryRecord | null> {
    const rows: Row[] = await q.query(
      `${SELECT} WHERE r.id = $1${lock ? ' FOR UPDATE OF r' : ''}`,
      [id],
    );
    return rows[0] ? this.toRecord(rows[0]) : null;
  }

  /** System use: every registry in one of the states. */
  async systemInStates(states: RegistryState[]): Promise<RegistryRecord[]> {
    const rows: Row[] = await this.db.query(
      `${SELECT} WHERE r.state = ANY($1) ORDER BY r.created_at`,
      [states],
    );
    return rows.map((r) => this.toRecord(r));
  }

  async usedPorts(): Promise<Set<number>> {
    const rows: { port: number }[] = await this.db.query(
      `SELECT port FROM registries WHERE port IS NOT NULL AND state <> 'deleted'`,
    );
    return new Set(rows.map((r) => r.port));
  }

  seal(secrets: TenantSecretRecord): Buffer {
    return this.box.seal(secrets);
  }

  async update(
    id: string,
    change: Partial<{
      state: RegistryState;
      stateReason: string | null;
      tier: string;
      quotaPolicy: QuotaPolicy;
      maintenanceMessage: string | null;
      writeBlocked: boolean;
      publicUrl: string | null;
      adminUrl: string | null;
      port: number | null;
      secrets: TenantSecretRecord | null;
    }>,
    q: Queryable = this.db,
  ): Promise<void> {
    const columns: Record<string, unknown> = {};
    if (change.state !== undefined) columns.state = change.state;
    if (change.stateReason !== undefined) columns.state_reason = change.stateReason;
    if (change.tier !== undefined) columns.tier = change.tier;
    if (change.quotaPolicy !== undefined) columns.quota_policy = change.quotaPolicy;
    if (change.maintenanceMessage !== undefined)
      columns.maintenance_message = change.maintenanceMessage;
    if (change.writeBlocked !== undefined) columns.write_blocked = change.writeBlocked;
    if (change.publicUrl !== undefined) columns.public_url = change.publicUrl;
    if (change.adminUrl !== undefined) columns.admin_url = change.adminUrl;
    if (change.port !== undefined) columns.port = change.port;
    if (change.secrets !== undefined)
      columns.secrets = change.secrets ? this.box.seal(change.secrets) : null;
    if (change.state === 'deleted') columns.deleted_at = new Date();
    const names = Object.keys(columns);
    if (names.length === 0) return;
    const sets = names.map((name, i) => `${name} = $${i + 2}`).join(', ');
    await q.query(`UPDATE registries SET ${sets} WHERE id = $1`, [
      id,
      ...names.map((n) => columns[n]),
    ]);
  }

  private toRecord(row: Row): RegistryRecord {
    return {
      id: row.id,
      orgId: row.org_id,
      orgSlug: row.org_slug,
      name: row.name,
      tier: row.tier,
      quotaPolicy: row.quota_policy,
      state: row.state,
      stateReason: row.state_reason,
      maintenanceMessage: row.maintenance_message,
      writeBlocked: row.write_blocked,
      port: row.port,
      publicUrl: row.public_url,
      adminUrl: row.admin_url,
      createdAt: row.created_at,
      secrets: row.secrets ? this.box.open<TenantSecretRecord>(row.secrets) : null,
    };
  }
}
