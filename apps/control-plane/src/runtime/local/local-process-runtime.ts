import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  RuntimeStatus,
  TenantDeployment,
  TenantEndpoints,
  TenantRef,
  TenantRuntime,
} from '../runtime.port';
import {
  resolveLocalRuntimeConfig,
  type LocalRuntimeConfig,
  type ResolvedLocalRuntimeConfig,
} from './local-runtime.config';
import { stopOrphan } from './process-control';
import { tenantDir, tenantProcessSpec } from './tenant-process-spec';
import { TenantSupervisor } from './tenant-supervisor';

/**
 * The local adapter of the runtime port: every tenant's data plane is a supervised child
 * process of the control plane (`berth registry serve`) on its own port, with its data, log and
 * pid file in `<dataDir>/<name>`. See docs/local-runtime.md.
 *
 * One instance per data directory. Operations on one tenant run one after the other; different
 * tenants proceed in parallel.
 */
export class LocalProcessRuntime implements TenantRuntime {
  readonly kind = 'local' as const;
  private readonly config: ResolvedLocalRuntimeConfig;
  private readonly supervisors = new Map<string, TenantSupervisor>();
  /** The tail of each tenant's chain of operations. */
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(config: LocalRuntimeConfig) {
    this.config = resolveLocalRuntimeConfig(config);
    if (this.config.dieWithParent && this.config.setpriv === undefined) {
      this.config.logger.warn(
        {},
        'local runtime: setpriv (util-linux) not found; data planes outlive a control plane that is killed',
      );
    }
  }

  async apply(tenant: TenantDeployment): Promise<TenantEndpoints> {
    this.assertOpen();
    const spec = tenantProcessSpec(tenant, this.config);
    return await this.serialize(tenant.name, async () => {
      const supervisor = this.supervisor(tenant.name, spec.dir);
      if (tenant.suspended) {
        await supervisor.suspend();
        // A data plane a previous control plane left running must stop too.
        await this.stopOrphan(tenant.name, spec.dir);
      } else {
        this.assertPortFree(tenant.name, spec.port);
        await supervisor.run(spec);
      }
      return spec.endpoints;
    });
  }

  status(tenant: TenantRef): Promise<RuntimeStatus> {
    return new Promise((resolve) => {
      tenantDir(this.config, tenant.name); // throws on a bad name: a rejection
      const supervisor = this.supervisors.get(tenant.name);
      resolve(supervisor?.status() ?? { state: 'absent', message: null });
    });
  }

  async remove(tenant: TenantRef): Promise<void> {
    this.assertOpen();
    const dir = tenantDir(this.config, tenant.name);
    await this.serialize(tenant.name, async () => {
      const supervisor = this.supervisors.get(tenant.name);
      if (supervisor !== undefined) {
        await supervisor.stop('removed');
        this.supervisors.delete(tenant.name);
      }
      await this.stopOrphan(tenant.name, dir);
      await rm(dir, { recursive: true, force: true });
    });
  }

  /** Stops every data plane gracefully (their data stays); later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      [...this.supervisors.values()].map((supervisor) =>
        this.serialize(supervisor.name, () => supervisor.stop('control plane closing')),
      ),
    );
    this.supervisors.clear();
  }

  /** The pid of a tenant's running data plane (operators, tests); undefined when none runs. */
  pid(tenant: TenantRef): number | undefined {
    return this.supervisors.get(tenant.name)?.pid;
  }

  private supervisor(name: string, dir: string): TenantSupervisor {
    let supervisor = this.supervisors.get(name);
    if (supervisor === undefined) {
      supervisor = new TenantSupervisor(name, dir, this.config);
      this.supervisors.set(name, supervisor);
    }
    return supervisor;
  }

  private async stopOrphan(name: string, dir: string): Promise<void> {
    const orphan = await stopOrphan(
      join(dir, 'registry.pid'),
      dir,
      this.config.command,
      this.config.stopTimeoutMs,
    );
    if (orphan !== undefined) {
      this.config.logger.warn(
        { tenant: name, pid: orphan.pid, how: orphan.how },
        'local runtime: stopped a data plane left running by a previous control plane',
      );
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('local runtime: closed');
  }

  /** Two running tenants on one port would fail in a loop; say so at once instead. */
  private assertPortFree(name: string, port: number): void {
    for (const other of this.supervisors.values()) {
      if (other.name !== name && other.currentSpec?.port === port) {
        throw new Error(`local runtime: port ${port} of ${name} is already used by ${other.name}`);
      }
    }
  }

  /** Runs `work` after every earlier operation on the same tenant has finished. */
  private serialize<T>(name: string, work: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(name, tail);
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name);
    });
    return result;
  }
}
