import { Inject, Injectable } from '@nestjs/common';
import { QueueService } from '@berth/queue';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { toPage, type Page, type PageRequest } from '../common/pagination';
import { problems } from '../common/problem';
import { CONTROL_PLANE_CONFIG } from '../config/config.tokens';
import type { ControlPlaneConfig } from '../config/control-plane-config';
import type { OrgScope } from '../orgs/org-scope';
import { allocatePort } from '../runtime/local/port-allocator';
import { TiersService } from '../tiers/tiers.service';
import { reconcileRegistryJob } from './registry-jobs';
import { switchTierPeriod } from './tier-periods';
import { RegistryStore } from './registry.store';
import type {
  QuotaPolicy,
  RegistryRecord,
  RegistryUsageView,
  RegistryView,
  TenantSecretRecord,
} from './registry.types';

export interface CreateRegistryInput {
  name: string;
  tier: string;
  quotaPolicy?: QuotaPolicy;
}

export interface UpdateRegistryInput {
  tier?: string;
  quotaPolicy?: QuotaPolicy;
  /** A message turns the maintenance switch on; null turns it off. */
  maintenanceMessage?: string | null;
}

/** Registries of an organisation: what the REST API does, the runtime work left to jobs. */
@Injectable()
export class RegistriesService {
  constructor(
    private readonly db: DataSource,
    private readonly store: RegistryStore,
    private readonly tiers: TiersService,
    private readonly queue: QueueService,
    @Inject(CONTROL_PLANE_CONFIG) private readonly config: ControlPlaneConfig,
  ) {}

  async create(scope: OrgScope, input: CreateRegistryInput, port?: number): Promise<RegistryView> {
    const tier = await this.tiers.get(input.tier);
    if (!tier.available)
      throw problems.unprocessable(`tier ${tier.name} is not available for new registries`);
    const id = randomUUID();
    const secrets = newTenantSecrets(input.name);
    const chosenPort =
      this.config.runtime === 'local' ? (port ?? (await this.allocatePort())) : null;
    try {
      await this.db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO registries (id, org_id, name, tier, quota_policy, state, port, secrets)
           VALUES ($1, $2, $3, $4, $5, 'provisioning', $6, $7)`,
          [
            id,
            scope.orgId,
            input.name,
            tier.name,
            input.quotaPolicy ?? 'read_only',
            chosenPort,
            this.store.seal(secrets),
          ],
        );
        await tx.query(
          `INSERT INTO registry_tier_periods (registry_id, tier, starts_at, reason)
           VALUES ($1, $2, now(), 'created')`,
          [id, tier.name],
        );
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw problems.conflict(
          `the registry name ${input.name} is taken (names are unique on the platform)`,
        );
      }
      throw err;
    }
    await this.queue.enqueue(reconcileRegistryJob, { registryId: id });
    return this.get(scope, input.name);
  }

  async list(scope: OrgScope, page: PageRequest): Promise<Page<RegistryView>> {
    const records = await this.store.listInOrg(scope, page.after, page.limit + 1);
    const views = await Promise.all(records.map((r) => this.view(r)));
    return toPage(views, page, (r) => r.name);
  }

  async get(scope: OrgScope, name: string): Promise<RegistryView> {
    return this.view(await this.require(scope, name));
  }

  async require(scope: OrgScope, name: string): Promise<RegistryRecord> {
    const record = await this.store.inOrg(scope, name);
    if (!record) throw problems.notFound(`registry ${name}`);
    return record;
  }

  async update(scope: OrgScope, name: string, input: UpdateRegistryInput): Promise<RegistryView> {
    const registry = await this.require(scope, name);
    if (registry.state === 'deleting') throw problems.conflict(`registry ${name} is being deleted`);
    if (input.tier !== undefined && input.tier !== registry.tier) {
      const tier = await this.tiers.get(input.tier);
      if (!tier.available) throw problems.unprocessable(`tier ${tier.name} is not available`);
      const usage = await this.usageOf(registry.id);
      if (usage !== null && usage >= tier.diskBytes) {
        throw problems.unprocessable(
          `registry ${name} uses ${usage} bytes, more than tier ${tier.name}'s disk (${tier.diskBytes}); free space first`,
        );
      }
      await this.changeTier(registry, tier.name, 'changed');
    }
    await this.store.update(registry.id, {
      quotaPolicy: input.quotaPolicy,
      maintenanceMessage: input.maintenanceMessage,
    });
    await this.queue.enqueue(reconcileRegistryJob, { registryId: registry.id });
    return this.get(scope, name);
  }

  async suspend(scope: OrgScope, name: string): Promise<RegistryView> {
    const registry = await this.require(scope, name);
    if (registry.state !== 'ready' && registry.state !== 'failed') {
      throw problems.conflict(
        `registry ${name} is ${registry.state}; only ready registries can be suspended`,
      );
    }
    await this.store.update(registry.id, {
      state: 'suspended',
      stateReason: 'suspended by a member',
    });
    await this.queue.enqueue(reconcileRegistryJob, { registryId: registry.id });
    return this.get(scope, name);
  }

  /** Resumes a suspended registry, or retries a failed one. */
  async resume(scope: OrgScope, name: string): Promise<RegistryView> {
    const registry = await this.require(scope, name);
    if (registry.state !== 'suspended' && registry.state !== 'failed') {
      throw problems.conflict(`registry ${name} is ${registry.state}, not suspended or failed`);
    }
    await this.store.update(registry.id, { state: 'provisioning', stateReason: null });
    await this.queue.enqueue(reconcileRegistryJob, { registryId: registry.id });
    return this.get(scope, name);
  }

  /** Starts the deletion cascade; billing stops now. */
  async delete(scope: OrgScope, name: string): Promise<RegistryView> {
    const registry = await this.require(scope, name);
    await this.db.transaction(async (tx) => {
      await this.store.update(
        registry.id,
        { state: 'deleting', stateReason: 'deletion requested' },
        tx,
      );
      await tx.query(
        `UPDATE registry_tier_periods SET ends_at = greatest(now(), starts_at + interval '1 millisecond')
          WHERE registry_id = $1 AND ends_at IS NULL`,
        [registry.id],
      );
    });
    await this.queue.enqueue(reconcileRegistryJob, { registryId: registry.id });
    return this.get(scope, name);
  }

  async view(record: RegistryRecord): Promise<RegistryView> {
    const tier = await this.tiers.get(record.tier);
    const rows: { total_bytes: string; measured_at: Date }[] = await this.db.query(
      'SELECT total_bytes, measured_at FROM registry_usage WHERE registry_id = $1',
      [record.id],
    );
    const row = rows[0];
    const usage: RegistryUsageView | null = row
      ? {
          totalBytes: Number(row.total_bytes),
          limitBytes: tier.diskBytes,
          percent: Math.round((Number(row.total_bytes) / tier.diskBytes) * 1000) / 10,
          measuredAt: row.measured_at.toISOString(),
        }
      : null;
    return {
      id: record.id,
      organisation: record.orgSlug,
      name: record.name,
      tier: record.tier,
      quotaPolicy: record.quotaPolicy,
      state: record.state,
      stateReason: record.stateReason,
      maintenanceMessage: record.maintenanceMessage,
      writeBlocked: record.writeBlocked || record.maintenanceMessage !== null,
      host: record.publicUrl ? new URL(record.publicUrl).host : null,
      endpoint: record.publicUrl,
      usage,
      createdAt: record.createdAt.toISOString(),
    };
  }

  private async changeTier(registry: RegistryRecord, tier: string, reason: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      await switchTierPeriod(tx, registry.id, tier, reason);
      await this.store.update(registry.id, { tier }, tx);
    });
  }

  private async usageOf(registryId: string): Promise<number | null> {
    const rows: { total_bytes: string }[] = await this.db.query(
      'SELECT total_bytes FROM registry_usage WHERE registry_id = $1',
      [registryId],
    );
    return rows[0] ? Number(rows[0].total_bytes) : null;
  }

  /** A free port of the local runtime's range, not used by another registry. */
  private async allocatePort(): Promise<number> {
    const { portRangeStart: start, portRangeEnd: end, bindHost } = this.config.local;
    try {
      return await allocatePort(await this.store.usedPorts(), { start, end }, bindHost);
    } catch (err) {
      throw problems.unavailable(
        `no free port left for another registry on this machine (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  }
}

/** Fresh secrets for a tenant: nothing shared with any other. */
export function newTenantSecrets(name: string): TenantSecretRecord {
  const ident = `tenant_${name.replace(/-/g, '_')}_${randomBytes(3).toString('hex')}`;
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    databaseName: ident,
    databaseRole: ident,
    databasePassword: randomBytes(24).toString('base64url'),
    adminUser: 'berth-control-plane',
    adminPassword: randomBytes(24).toString('base64url'),
    signingKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
