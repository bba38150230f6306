import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { OrgRole } from './org-roles';
import { grantOrgScope, type OrgScope } from './org-scope';

/** Resolves an organisation slug and a caller into an OrgScope (used by the access guard). */
@Injectable()
export class OrgDirectory {
  constructor(private readonly db: DataSource) {}

  async membership(
    slug: string,
    accountId: string,
  ): Promise<{ role: OrgRole; scope: OrgScope } | null> {
    const rows: { id: string; slug: string; role: OrgRole }[] = await this.db.query(
      `SELECT o.id, o.slug, m.role FROM organisations o
         JOIN memberships m ON m.org_id = o.id
        WHERE o.slug = $1 AND m.account_id = $2`,
      [slug, accountId],
    );
    const row = rows[0];
    return row ? { role: row.role, scope: grantOrgScope(row, row.role, accountId) } : null;
  }

  /** A scope for platform jobs acting for an organisation (no caller). */
  async systemScope(orgId: string): Promise<OrgScope> {
    const rows: { id: string; slug: string }[] = await this.db.query(
      'SELECT id, slug FROM organisations WHERE id = $1',
      [orgId],
    );
    const row = rows[0];
    if (!row) throw new Error(`organisation ${orgId} does not exist`);
    return grantOrgScope(row, 'owner', null);
  }
}
