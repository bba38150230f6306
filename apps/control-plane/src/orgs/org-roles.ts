import type { RegistryRole } from '@berth/platform-contracts';

/**
 * Organisation roles (product brief): Owner (everything, billing, owners, deleting the
 * organisation), Admin (members except owners, registries, policies, invoices), Developer
 * (push and pull, view), Reader (pull, view).
 */
export type OrgRole = 'owner' | 'admin' | 'developer' | 'reader';
export const ORG_ROLES: readonly OrgRole[] = ['owner', 'admin', 'developer', 'reader'];

const RANK: Record<OrgRole, number> = { reader: 0, developer: 1, admin: 2, owner: 3 };

export function roleAtLeast(have: OrgRole, need: OrgRole): boolean {
  return RANK[have] >= RANK[need];
}

/** The registry role a member of the organisation gets in each of its registries. */
export function registryRoleFor(role: OrgRole): RegistryRole {
  return role;
}
