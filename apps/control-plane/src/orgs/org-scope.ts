import type { OrgRole } from './org-roles';

declare const orgScopeBrand: unique symbol;

/**
 * Proof that the caller may act in one organisation. Every query on organisation data takes
 * one as a required argument and filters by its `orgId`, so a query cannot forget the
 * tenant boundary. Only the access guard (after checking membership) and system jobs (acting
 * for the platform) create scopes.
 */
export interface OrgScope {
  readonly orgId: string;
  readonly slug: string;
  /** The caller's role; `owner` for system jobs. */
  readonly role: OrgRole;
  /** The calling account; null for system jobs. */
  readonly accountId: string | null;
  readonly [orgScopeBrand]: true;
}

export function grantOrgScope(
  org: { id: string; slug: string },
  role: OrgRole,
  accountId: string | null,
): OrgScope {
  return { orgId: org.id, slug: org.slug, role, accountId } as OrgScope;
}
