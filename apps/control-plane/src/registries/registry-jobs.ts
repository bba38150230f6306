import { defineJob } from '@berth/queue';

/**
 * Converges one registry to the state its row asks for (provisioned and ready, suspended, or
 * deleted). Idempotent: it reads the row and repeats whichever steps are not done yet, so a
 * job interrupted by a crash simply runs again.
 */
export const reconcileRegistryJob = defineJob<{ registryId: string }>({
  queue: 'registries',
  name: 'reconcile',
  attempts: 5,
  backoffMs: 2000,
  timeoutMs: 10 * 60_000,
});

/** Provisions an organisation's members into each of its registries with their roles. */
export const syncMembersJob = defineJob<{ orgId: string }>({
  queue: 'registries',
  name: 'sync-members',
  attempts: 5,
  backoffMs: 2000,
  timeoutMs: 5 * 60_000,
});

export const CONTROL_PLANE_JOBS = [reconcileRegistryJob, syncMembersJob];
