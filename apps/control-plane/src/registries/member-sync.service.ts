import { Injectable, Logger } from '@nestjs/common';
import { PRINCIPAL_NAME_PATTERN, type RegistryRole } from '@berth/platform-contracts';
import { DataSource } from 'typeorm';
import { registryRoleFor, type OrgRole } from '../orgs/org-roles';
import { DataPlaneError } from './data-plane.client';
import { DataPlanes } from './data-planes';
import type { RegistryRecord } from './registry.types';

/** The registry user name of an organisation member: their e-mail address, `@` as `_`. */
export function principalNameFor(email: string): string {
  const name = email
    .toLowerCase()
    .replace('@', '_')
    .replace(/[^a-z0-9._-]/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
  if (!PRINCIPAL_NAME_PATTERN.test(name)) throw new Error(`no registry user name for ${email}`);
  return name;
}

/**
 * Keeps each registry's users equal to its organisation's members: a member gets a registry
 * user with the matching role; a member who leaves loses it, and with it every token.
 */
@Injectable()
export class MemberSyncService {
  private readonly logger = new Logger('MemberSync');

  constructor(
    private readonly db: DataSource,
    private readonly planes: DataPlanes,
  ) {}

  async syncRegistry(registry: RegistryRecord): Promise<void> {
    const client = this.planes.client(registry);
    const members: { account_id: string; email: string; role: OrgRole }[] = await this.db.query(
      `SELECT m.account_id, a.email, m.role FROM memberships m JOIN accounts a ON a.id = m.account_id
        WHERE m.org_id = $1 AND NOT a.disabled`,
      [registry.orgId],
    );
    const existing: {
      account_id: string;
      principal_id: string;
      principal_name: string;
      role: RegistryRole;
    }[] = await this.db.query(
      'SELECT account_id, principal_id, principal_name, role FROM registry_members WHERE registry_id = $1',
      [registry.id],
    );
    const byAccount = new Map(existing.map((e) => [e.account_id, e]));
    let principals: Map<string, string> | undefined;
    for (const member of members) {
      const role = registryRoleFor(member.role);
      const have = byAccount.get(member.account_id);
      byAccount.delete(member.account_id);
      if (have) {
        if (have.role !== role) {
          await client.updatePrincipal(have.principal_id, { role });
          await this.db.query(
            'UPDATE registry_members SET role = $3 WHERE registry_id = $1 AND account_id = $2',
            [registry.id, member.account_id, role],
          );
        }
        continue;
      }
      const name = principalNameFor(member.email);
      let principalId: string;
      try {
        principalId = (await client.createPrincipal({ kind: 'user', name, role })).id;
      } catch (err) {
        // Created by an earlier run that crashed before recording it: adopt it.
        if (!(err instanceof DataPlaneError) || err.status !== 409) throw err;
        principals ??= new Map((await client.principals()).map((p) => [p.name, p.id]));
        const id = principals.get(name);
        if (!id) throw err;
        principalId = id;
        await client.updatePrincipal(id, { role, disabled: false });
      }
      await this.db.query(
        `INSERT INTO registry_members (registry_id, account_id, principal_id, principal_name, role)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (registry_id, account_id) DO UPDATE SET principal_id = EXCLUDED.principal_id,
           principal_name = EXCLUDED.principal_name, role = EXCLUDED.role`,
        [registry.id, member.account_id, principalId, name, role],
      );
    }
    for (const gone of byAccount.values()) {
      await client.deletePrincipal(gone.principal_id);
      await this.db.query(
        'DELETE FROM registry_members WHERE registry_id = $1 AND account_id = $2',
        [registry.id, gone.account_id],
      );
      this.logger.log(`removed ${gone.principal_name} from registry ${registry.name}`);
    }
  }

  /** The caller's registry user, provisioning it first when the sync has not run yet. */
  async principalOf(
    registry: RegistryRecord,
    accountId: string,
  ): Promise<{ principalId: string; principalName: string } | null> {
    const find = async (): Promise<
      { principal_id: string; principal_name: string } | undefined
    > => {
      const rows: { principal_id: string; principal_name: string }[] = await this.db.query(
        'SELECT principal_id, principal_name FROM registry_members WHERE registry_id = $1 AND account_id = $2',
        [registry.id, accountId],
      );
      return rows[0];
    };
    let row = await find();
    if (!row) {
      await this.syncRegistry(registry);
      row = await find();
    }
    return row ? { principalId: row.principal_id, principalName: row.principal_name } : null;
  }
}
