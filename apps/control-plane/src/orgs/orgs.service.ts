import { returnedRows } from '../common/sql';
import { Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { PageRequest, Page } from '../common/pagination';
import { toPage } from '../common/pagination';
import { problems } from '../common/problem';
import type { Actor } from '../identity/actor';
import { MembershipEvents } from './membership-events';
import { roleAtLeast, type OrgRole } from './org-roles';
import { grantOrgScope, type OrgScope } from './org-scope';

export interface Organisation {
  id: string;
  slug: string;
  name: string;
  createdAt: string;
  /** The caller's role. */
  role: OrgRole;
}

export interface Member {
  accountId: string;
  email: string;
  name: string;
  role: OrgRole;
  joinedAt: string;
}

export interface Invitation {
  id: string;
  email: string;
  role: OrgRole;
  expiresAt: string;
  acceptedAt: string | null;
  revoked: boolean;
  createdAt: string;
}

const INVITATION_DAYS = 7;

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** Organisations, their members and invitations. Every query is bound to an OrgScope. */
@Injectable()
export class OrgsService {
  constructor(
    private readonly db: DataSource,
    private readonly events: MembershipEvents,
  ) {}

  async create(actor: Actor, input: { slug: string; name: string }): Promise<Organisation> {
    return this.db.transaction(async (tx) => {
      const id = randomUUID();
      const rows: { id: string; slug: string; name: string; created_at: Date }[] = await tx.query(
        `INSERT INTO organisations (id, slug, name) VALUES ($1, $2, $3)
         ON CONFLICT (slug) DO NOTHING RETURNING id, slug, name, created_at`,
        [id, input.slug, input.name],
      );
      const row = rows[0];
      if (!row) throw problems.conflict(`the organisation name ${input.slug} is taken`);
      await tx.query(
        `INSERT INTO memberships (org_id, account_id, role) VALUES ($1, $2, 'owner')`,
        [id, actor.accountId],
      );
      return toOrganisation(row, 'owner');
    });
  }

  /** The organisations the account belongs to. */
  async listFor(actor: Actor, page: PageRequest): Promise<Page<Organisation>> {
    const rows: (OrgRow & { role: OrgRole })[] = await this.db.query(
      `SELECT o.id, o.slug, o.name, o.created_at, m.role FROM organisations o
           JOIN memberships m ON m.org_id = o.id AND m.account_id = $1
          WHERE ($2::text IS NULL OR o.slug > $2) ORDER BY o.slug LIMIT $3`,
      [actor.accountId, page.after, page.limit + 1],
    );
    return toPage(
      rows.map((r) => toOrganisation(r, r.role)),
      page,
      (o) => o.slug,
    );
  }

  async get(scope: OrgScope): Promise<Organisation> {
    const rows: OrgRow[] = await this.db.query(
      'SELECT id, slug, name, created_at FROM organisations WHERE id = $1',
      [scope.orgId],
    );
    const row = rows[0];
    if (!row) throw problems.notFound(`organisation ${scope.slug}`);
    return toOrganisation(row, scope.role);
  }

  async rename(scope: OrgScope, name: string): Promise<Organisation> {
    await this.db.query('UPDATE organisations SET name = $2 WHERE id = $1', [scope.orgId, name]);
    return this.get(scope);
  }

  /** Deletes an organisation that has no registries left (delete them first). */
  async delete(scope: OrgScope): Promise<void> {
    await this.db.transaction(async (tx) => {
      const live: unknown[] = await tx.query(
        `SELECT 1 FROM registries WHERE org_id = $1 AND state <> 'deleted' LIMIT 1`,
        [scope.orgId],
      );
      if (live.length > 0) {
        throw problems.conflict("delete the organisation's registries first");
      }
      await tx.query('DELETE FROM registries WHERE org_id = $1', [scope.orgId]);
      await tx.query('DELETE FROM organisations WHERE id = $1', [scope.orgId]);
    });
  }

  async members(scope: OrgScope, page: PageRequest): Promise<Page<Member>> {
    const rows: MemberRow[] = await this.db.query(
      `${MEMBER_SELECT} WHERE m.org_id = $1 AND ($2::text IS NULL OR a.email > $2)
          ORDER BY a.email LIMIT $3`,
      [scope.orgId, page.after, page.limit + 1],
    );
    return toPage(rows.map(toMember), page, (m) => m.email);
  }

  private async member(scope: OrgScope, accountId: string): Promise<Member> {
    const rows: MemberRow[] = await this.db.query(
      `${MEMBER_SELECT} WHERE m.org_id = $1 AND m.account_id::text = $2`,
      [scope.orgId, accountId],
    );
    if (!rows[0]) throw problems.notFound('member');
    return toMember(rows[0]);
  }

  async changeRole(scope: OrgScope, accountId: string, role: OrgRole): Promise<Member> {
    await this.db.transaction(async (tx) => {
      const current = await this.lockMember(tx, scope, accountId);
      this.assertMayManage(scope, current, role);
      if (current === 'owner' && role !== 'owner')
        await this.assertAnotherOwner(tx, scope, accountId);
      await tx.query('UPDATE memberships SET role = $3 WHERE org_id = $1 AND account_id = $2', [
        scope.orgId,
        accountId,
        role,
      ]);
    });
    await this.events.changed(scope.orgId);
    return this.member(scope, accountId);
  }

  /** Removes a member (or lets a member leave); their registry access ends at once. */
  async removeMember(scope: OrgScope, accountId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const current = await this.lockMember(tx, scope, accountId);
      if (accountId !== scope.accountId) this.assertMayManage(scope, current, current);
      if (current === 'owner') await this.assertAnotherOwner(tx, scope, accountId);
      await tx.query('DELETE FROM memberships WHERE org_id = $1 AND account_id = $2', [
        scope.orgId,
        accountId,
      ]);
    });
    await this.events.changed(scope.orgId);
  }

  async invite(
    scope: OrgScope,
    input: { email: string; role: OrgRole },
  ): Promise<Invitation & { token: string }> {
    if (input.role === 'owner' && scope.role !== 'owner') {
      throw problems.forbidden('only owners may invite owners');
    }
    const token = `bin_${randomBytes(24).toString('base64url')}`;
    const rows: InvitationRow[] = await this.db.query(
      `INSERT INTO invitations (id, org_id, email, role, secret_hash, invited_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7))
       RETURNING id, email, role, expires_at, accepted_at, revoked_at, created_at`,
      [
        randomUUID(),
        scope.orgId,
        input.email.toLowerCase(),
        input.role,
        sha256(token),
        scope.accountId,
        INVITATION_DAYS,
      ],
    );
    return { ...toInvitation(rows[0]), token };
  }

  async invitations(scope: OrgScope, page: PageRequest): Promise<Page<Invitation>> {
    const rows: InvitationRow[] = await this.db.query(
      `SELECT id, email, role, expires_at, accepted_at, revoked_at, created_at FROM invitations
        WHERE org_id = $1 AND ($2::text IS NULL OR id::text > $2) ORDER BY id LIMIT $3`,
      [scope.orgId, page.after, page.limit + 1],
    );
    return toPage(rows.map(toInvitation), page, (i) => i.id);
  }

  async revokeInvitation(scope: OrgScope, id: string): Promise<void> {
    const rows: unknown[] = returnedRows(
      await this.db.query(
        `UPDATE invitations SET revoked_at = coalesce(revoked_at, now())
        WHERE org_id = $1 AND id::text = $2 RETURNING id`,
        [scope.orgId, id],
      ),
    );
    if (rows.length === 0) throw problems.notFound('invitation');
  }

  /** Accepts an invitation addressed to the caller's e-mail address. */
  async accept(actor: Actor, token: string): Promise<Organisation> {
    const org = await this.db.transaction(async (tx) => {
      const rows: {
        id: string;
        org_id: string;
        email: string;
        role: OrgRole;
        slug: string;
        name: string;
        created_at: Date;
      }[] = returnedRows(
        await tx.query(
          `UPDATE invitations i SET accepted_at = now() FROM organisations o
            WHERE i.secret_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL
              AND i.expires_at > now() AND i.email = $2 AND o.id = i.org_id
            RETURNING i.id, i.org_id, i.email, i.role, o.slug, o.name, o.created_at`,
          [sha256(token), actor.email],
        ),
      );
      const row = rows[0];
      if (!row) {
        throw problems.notFound(
          'invitation (it may be used, revoked, expired or for another e-mail address)',
        );
      }
      await tx.query(
        `INSERT INTO memberships (org_id, account_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, account_id) DO UPDATE SET role = EXCLUDED.role`,
        [row.org_id, actor.accountId, row.role],
      );
      return toOrganisation({ ...row, id: row.org_id }, row.role);
    });
    await this.events.changed(org.id);
    return org;
  }

  /** For the first start: an organisation owned by the operator. */
  async ensureOrganisation(ownerId: string, slug: string, name: string): Promise<OrgScope> {
    await this.db.query(
      `INSERT INTO organisations (id, slug, name) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING`,
      [randomUUID(), slug, name],
    );
    const rows: { id: string; slug: string }[] = await this.db.query(
      'SELECT id, slug FROM organisations WHERE slug = $1',
      [slug],
    );
    const org = rows[0];
    await this.db.query(
      `INSERT INTO memberships (org_id, account_id, role) VALUES ($1, $2, 'owner')
       ON CONFLICT DO NOTHING`,
      [org.id, ownerId],
    );
    return grantOrgScope(org, 'owner', ownerId);
  }

  private async lockMember(
    tx: { query: (sql: string, params: unknown[]) => Promise<unknown> },
    scope: OrgScope,
    accountId: string,
  ): Promise<OrgRole> {
    const rows = (await tx.query(
      'SELECT role FROM memberships WHERE org_id = $1 AND account_id::text = $2 FOR UPDATE',
      [scope.orgId, accountId],
    )) as { role: OrgRole }[];
    const row = rows[0];
    if (!row) throw problems.notFound('member');
    return row.role;
  }

  /** Admins manage developers, readers and other admins; only owners touch owners. */
  private assertMayManage(scope: OrgScope, current: OrgRole, next: OrgRole): void {
    if (!roleAtLeast(scope.role, 'admin'))
      throw problems.forbidden('only owners and admins manage members');
    if ((current === 'owner' || next === 'owner') && scope.role !== 'owner') {
      throw problems.forbidden('only owners may change owners');
    }
  }

  private async assertAnotherOwner(
    tx: { query: (sql: string, params: unknown[]) => Promise<unknown> },
    scope: OrgScope,
    accountId: string,
  ): Promise<void> {
    const rows = (await tx.query(
      `SELECT count(*)::int AS n FROM memberships WHERE org_id = $1 AND role = 'owner' AND account_id::text <> $2`,
      [scope.orgId, accountId],
    )) as { n: number }[];
    if ((rows[0]?.n ?? 0) === 0) {
      throw problems.conflict(
        'an organisation needs at least one owner: make someone else owner first',
      );
    }
  }
}

const MEMBER_SELECT = `SELECT m.account_id, a.email, a.name, m.role, m.created_at
  FROM memberships m JOIN accounts a ON a.id = m.account_id`;

interface MemberRow {
  account_id: string;
  email: string;
  name: string;
  role: OrgRole;
  created_at: Date;
}

function toMember(r: MemberRow): Member {
  return {
    accountId: r.account_id,
    email: r.email,
    name: r.name,
    role: r.role,
    joinedAt: r.created_at.toISOString(),
  };
}

interface OrgRow {
  id: string;
  slug: string;
  name: string;
  created_at: Date;
}

function toOrganisation(row: OrgRow, role: OrgRole): Organisation {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    role,
  };
}

interface InvitationRow {
  id: string;
  email: string;
  role: OrgRole;
  expires_at: Date;
  accepted_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

function toInvitation(row: InvitationRow): Invitation {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    expiresAt: row.expires_at.toISOString(),
    acceptedAt: row.accepted_at?.toISOString() ?? null,
    revoked: row.revoked_at !== null,
    createdAt: row.created_at.toISOString(),
  };
}
