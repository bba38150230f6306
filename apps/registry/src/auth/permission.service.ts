import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { REPOSITORY_ACTIONS } from './access-scope';
import type { RepositoryAction } from './auth.decorators';
import type { Principal, Role } from './principal.service';
import { RepositoryPattern, mostSpecific } from './repository-pattern';
import { badRequest } from '../admin/admin-errors';

export interface Grant {
  pattern: string;
  actions: RepositoryAction[];
}

export interface PublicAccess {
  /** Every repository may be pulled anonymously. */
  registryPublic: boolean;
  /** Repository patterns that may be pulled anonymously. */
  patterns: string[];
}

const ROLE_ACTIONS: Record<Role, readonly RepositoryAction[]> = {
  owner: REPOSITORY_ACTIONS,
  admin: REPOSITORY_ACTIONS,
  developer: ['pull', 'push'],
  reader: ['pull'],
  none: [],
};

const PUBLIC_CACHE_MS = 2000;

/**
 * Who may do what to which repository. A principal's role gives its default actions on every
 * repository; its grants (repository patterns with actions) override the default where they
 * match, the most specific matching pattern winning (see `RepositoryPattern`). Owners and
 * Admins always have every action. Public patterns, or a public registry, add anonymous
 * `pull`, for everyone. Pushes and deletes always need a principal.
 */
@Injectable()
export class PermissionService {
  private publicCache?: { at: number; access: PublicAccess; patterns: RepositoryPattern[] };

  constructor(private readonly db: DataSource) {}

  async allowedActions(
    principal: Principal | undefined,
    repository: string,
  ): Promise<Set<RepositoryAction>> {
    const allowed = new Set<RepositoryAction>();
    if (await this.isPublic(repository)) allowed.add('pull');
    if (!principal || principal.disabled) return allowed;
    if (principal.role === 'owner' || principal.role === 'admin') {
      for (const a of REPOSITORY_ACTIONS) allowed.add(a);
      return allowed;
    }
    const grants = await this.grants(principal.id);
    const match = mostSpecific(
      grants.map((g) => ({ pattern: new RepositoryPattern(g.pattern), actions: g.actions })),
      repository,
    );
    for (const a of match ? match.actions : ROLE_ACTIONS[principal.role]) allowed.add(a);
    return allowed;
  }

  /** A predicate for listing many repositories (the catalog) with one grants lookup. */
  async pullFilter(principal: Principal | undefined): Promise<(repository: string) => boolean> {
    const publicAccess = await this.publicAccess();
    const isPublic = (name: string): boolean =>
      publicAccess.access.registryPublic || publicAccess.patterns.some((p) => p.matches(name));
    if (!principal || principal.disabled) return isPublic;
    if (principal.role === 'owner' || principal.role === 'admin') return () => true;
    const grants = (await this.grants(principal.id)).map((g) => ({
      pattern: new RepositoryPattern(g.pattern),
      actions: g.actions,
    }));
    const roleCanPull = ROLE_ACTIONS[principal.role].includes('pull');
    return (name) => {
      if (isPublic(name)) return true;
      const match = mostSpecific(grants, name);
      return match ? match.actions.includes('pull') : roleCanPull;
    };
  }

  async isPublic(repository: string): Promise<boolean> {
    const { access, patterns } = await this.publicAccess();
    return access.registryPublic || patterns.some((p) => p.matches(repository));
  }

  async grants(principalId: string): Promise<Grant[]> {
    const rows: { pattern: string; actions: RepositoryAction[] }[] = await this.db.query(
      'SELECT pattern, actions FROM grants WHERE principal_id = $1 ORDER BY pattern',
      [principalId],
    );
    return rows.map((r) => ({ pattern: r.pattern, actions: r.actions }));
  }

  /** Replaces a principal's whole access matrix row. */
  async setGrants(principalId: string, grants: Grant[]): Promise<Grant[]> {
    for (const g of grants) validateGrant(g);
    await this.db.transaction(async (m) => {
      await m.query('DELETE FROM grants WHERE principal_id = $1', [principalId]);
      for (const g of grants) {
        await m.query(
          'INSERT INTO grants (id, principal_id, pattern, actions) VALUES ($1, $2, $3, $4)',
          [randomUUID(), principalId, g.pattern, [...new Set(g.actions)]],
        );
      }
    });
    return this.grants(principalId);
  }

  async getPublicAccess(): Promise<PublicAccess> {
    return (await this.publicAccess(true)).access;
  }

  async setPublicAccess(access: PublicAccess): Promise<PublicAccess> {
    for (const p of access.patterns) {
      if (!RepositoryPattern.isValid(p))
        throw badRequest(`invalid repository pattern ${JSON.stringify(p)}`);
    }
    await this.db.transaction(async (m) => {
      await m.query('DELETE FROM public_patterns');
      for (const p of new Set(access.patterns))
        await m.query('INSERT INTO public_patterns (pattern) VALUES ($1)', [p]);
      await m.query(
        `INSERT INTO registry_settings (key, value) VALUES ('public', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
        [JSON.stringify(access.registryPublic)],
      );
    });
    this.publicCache = undefined;
    return this.getPublicAccess();
  }

  /** Public settings, cached for a moment (they are read on every anonymous request). */
  private async publicAccess(
    fresh = false,
  ): Promise<{ access: PublicAccess; patterns: RepositoryPattern[] }> {
    const cached = this.publicCache;
    if (!fresh && cached && Date.now() - cached.at < PUBLIC_CACHE_MS) return cached;
    const [patternRows, settingRows] = await Promise.all([
      this.db.query<{ pattern: string }[]>('SELECT pattern FROM public_patterns ORDER BY pattern'),
      this.db.query<{ value: boolean }[]>(
        `SELECT value FROM registry_settings WHERE key = 'public'`,
      ),
    ]);
    const access = {
      registryPublic: settingRows[0]?.value === true,
      patterns: patternRows.map((r) => r.pattern),
    };
    const entry = {
      at: Date.now(),
      access,
      patterns: access.patterns.map((p) => new RepositoryPattern(p)),
    };
    this.publicCache = entry;
    return entry;
  }
}

function validateGrant(grant: Grant): void {
  if (!RepositoryPattern.isValid(grant.pattern)) {
    throw badRequest(`invalid repository pattern ${JSON.stringify(grant.pattern)}`);
  }
  if (!Array.isArray(grant.actions) || grant.actions.some((a) => !REPOSITORY_ACTIONS.includes(a))) {
    throw badRequest(`actions must be a list of ${REPOSITORY_ACTIONS.join(', ')}`);
  }
}
