import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { JobHandler, QueueService, type JobContext } from '@berth/queue';
import { DataSource } from 'typeorm';
import { CONTROL_PLANE_CONFIG } from '../config/config.tokens';
import type { ControlPlaneConfig } from '../config/control-plane-config';
import { NotificationsService } from '../notifications/notifications.service';
import { MembershipEvents } from '../orgs/membership-events';
import { TENANT_RUNTIME, type TenantDeployment, type TenantRuntime } from '../runtime/runtime.port';
import { TiersService } from '../tiers/tiers.service';
import type { DatabaseProvisioner } from './database-provisioner';
import { DataPlanes } from './data-planes';
import { MemberSyncService } from './member-sync.service';
import { QuotaGates } from './quota-gates';
import { reconcileRegistryJob, syncMembersJob } from './registry-jobs';
import { withRegistryLock } from './registry-lock';
import { RegistryStore } from './registry.store';
import { DATABASE_PROVISIONER } from './registry.tokens';
import { deleteTenantObjects, tenantPrefix } from './tenant-storage';
import type { RegistryRecord } from './registry.types';

const READY_TIMEOUT_MS = 5 * 60_000;

/**
 * Drives each registry through its life: provisioning -> ready | failed, tier changes,
 * suspension, and deletion with its full cascade. All of it is one idempotent job that
 * converges the runtime to the registry's row; at start-up every registry is reconciled
 * again, so an interrupted job resumes and a restarted platform brings its tenants back.
 */
@Injectable()
export class RegistryLifecycle implements OnApplicationBootstrap {
  private readonly logger = new Logger('RegistryLifecycle');

  constructor(
    private readonly db: DataSource,
    private readonly store: RegistryStore,
    private readonly tiers: TiersService,
    private readonly planes: DataPlanes,
    private readonly members: MemberSyncService,
    private readonly gates: QuotaGates,
    private readonly notifications: NotificationsService,
    private readonly queue: QueueService,
    membershipEvents: MembershipEvents,
    @Inject(TENANT_RUNTIME) private readonly runtime: TenantRuntime,
    @Inject(DATABASE_PROVISIONER) private readonly databases: DatabaseProvisioner,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {
    membershipEvents.subscribe(async (orgId) => {
      await this.queue.enqueue(syncMembersJob, { orgId });
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.queue.role === 'worker') return;
    const pending = await this.store.systemInStates([
      'provisioning',
      'ready',
      'suspended',
      'deleting',
    ]);
    for (const registry of pending) {
      await this.queue.enqueue(reconcileRegistryJob, { registryId: registry.id });
    }
    if (pending.length > 0)
      this.logger.log(`reconciling ${pending.length} registries after start-up`);
  }

  @JobHandler(reconcileRegistryJob)
  async reconcileJob(payload: { registryId: string }, job: JobContext): Promise<{ state: string }> {
    try {
      return await withRegistryLock(this.db, payload.registryId, () =>
        this.reconcile(payload.registryId, job),
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      job.log(`attempt ${job.attempt} failed: ${message}`);
      if (job.attempt >= (reconcileRegistryJob.attempts ?? 1)) {
        const registry = await this.store.systemById(payload.registryId);
        if (registry && registry.state === 'provisioning') {
          await this.store.update(registry.id, { state: 'failed', stateReason: message });
          await this.notifications.notify(
            registry.orgId,
            'registry.failed',
            `Registry ${registry.name} failed to provision: ${message}`,
            {
              registry: registry.name,
            },
          );
        }
      }
      throw err;
    }
  }

  @JobHandler(syncMembersJob)
  async syncMembers(payload: { orgId: string }): Promise<{ registries: number }> {
    const registries = (await this.store.systemInStates(['ready'])).filter(
      (r) => r.orgId === payload.orgId,
    );
    for (const registry of registries) {
      await withRegistryLock(this.db, registry.id, async () => {
        const fresh = await this.store.systemById(registry.id);
        if (fresh?.state === 'ready') await this.members.syncRegistry(fresh);
      });
    }
    return { registries: registries.length };
  }

  private async reconcile(registryId: string, job: JobContext): Promise<{ state: string }> {
    const registry = await this.store.systemById(registryId);
    if (!registry) return { state: 'absent' };
    job.log(`reconciling ${registry.name} (${registry.state})`);
    switch (registry.state) {
      case 'deleted':
      case 'failed':
        return { state: registry.state };
      case 'deleting':
        await this.teardown(registry);
        return { state: 'deleted' };
      case 'suspended':
        await this.runtime.apply(await this.deployment(registry, true));
        return { state: 'suspended' };
      case 'provisioning':
      case 'ready':
        await this.bringUp(registry, job);
        return { state: 'ready' };
    }
  }

  private async bringUp(registry: RegistryRecord, job: JobContext): Promise<void> {
    const endpoints = await this.runtime.apply(await this.deployment(registry, false));
    if (endpoints.publicUrl !== registry.publicUrl || endpoints.adminUrl !== registry.adminUrl) {
      await this.store.update(registry.id, {
        publicUrl: endpoints.publicUrl,
        adminUrl: endpoints.adminUrl,
      });
    }
    const withEndpoints = {
      ...registry,
      publicUrl: endpoints.publicUrl,
      adminUrl: endpoints.adminUrl,
    };
    await this.waitReady(withEndpoints, job);
    const client = this.planes.client(withEndpoints);
    const gate = await client.setWriteGate(await this.gates.desired(registry));
    await this.members.syncRegistry(withEndpoints);
    await this.store.update(registry.id, {
      state: 'ready',
      stateReason: null,
      writeBlocked: !gate.writable,
    });
    if (registry.state === 'provisioning') {
      this.logger.log(`registry ${registry.name} ready at ${endpoints.publicUrl}`);
      await this.notifications.notify(
        registry.orgId,
        'registry.ready',
        `Registry ${registry.name} is ready at ${endpoints.publicUrl}`,
        {
          registry: registry.name,
        },
      );
    }
  }

  private async waitReady(registry: RegistryRecord, job: JobContext): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const client = this.planes.client(registry);
    let last = '';
    while (Date.now() < deadline) {
      job.signal.throwIfAborted();
      const status = await this.runtime.status({ registryId: registry.id, name: registry.name });
      if (status.state === 'ready' && (await client.ready())) return;
      if (status.state === 'failed')
        throw new Error(status.message ?? 'the data plane failed to start');
      last = `${status.state}${status.message ? `: ${status.message}` : ''}`;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the data plane did not become ready in time (${last})`);
  }

  /** The full cascade: runtime objects and storage, database and role, secrets, credentials. */
  private async teardown(registry: RegistryRecord): Promise<void> {
    await this.runtime.remove({ registryId: registry.id, name: registry.name });
    // The local runtime removed the tenant's directory; on S3 its prefix goes here.
    if (this.config.tenantS3) {
      await deleteTenantObjects({ ...this.config.tenantS3, prefix: tenantPrefix(registry.id) });
    }
    if (registry.secrets) {
      await this.databases.drop(registry.secrets.databaseName, registry.secrets.databaseRole);
    }
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM registry_members WHERE registry_id = $1', [registry.id]);
      await this.store.update(
        registry.id,
        {
          state: 'deleted',
          secrets: null,
          publicUrl: null,
          adminUrl: null,
          port: null,
          writeBlocked: false,
        },
        tx,
      );
    });
    this.logger.log(`registry ${registry.name} deleted`);
  }

  private async deployment(
    registry: RegistryRecord,
    suspended: boolean,
  ): Promise<TenantDeployment> {
    const secrets = registry.secrets;
    if (!secrets) throw new Error(`registry ${registry.name} has no secrets`);
    const tier = await this.tiers.get(registry.tier);
    const databaseUrl = await this.databases.ensure(
      secrets.databaseName,
      secrets.databaseRole,
      secrets.databasePassword,
    );
    const s3 = this.config.tenantS3;
    return {
      registryId: registry.id,
      name: registry.name,
      organisation: registry.orgSlug,
      tier: tier.name,
      resources: {
        cpuMillis: tier.cpuMillis,
        memoryMiB: tier.memoryMiB,
        diskBytes: tier.diskBytes,
      },
      suspended,
      port: registry.port ?? undefined,
      secrets: {
        databaseUrl,
        adminUser: secrets.adminUser,
        adminPassword: secrets.adminPassword,
        signingKeyPem: secrets.signingKeyPem,
        // On Kubernetes, one bucket with a prefix per tenant (by id: never reused).
        s3: s3 ? { ...s3, prefix: tenantPrefix(registry.id) } : undefined,
      },
    };
  }
}
