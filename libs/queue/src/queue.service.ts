import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { type JobDefinition } from './job-definition';
import { JobHandlerExplorer } from './job-handler.explorer';
import { JobRegistry } from './job-registry';
import { QUEUE_MODULE_OPTIONS, type QueueModuleOptions } from './queue-module.options';
import {
  QueueDriverStateError,
  type EnqueueOptions,
  type HistoryFilter,
  type JobRecord,
  type QueueRole,
} from './queue-driver';

/**
 * The application's handle on the queue (provided globally by `QueueModule`). At module init it
 * discovers the `@JobHandler` methods, checks them against the declared jobs (init fails with a
 * `JobRegistryError` on a missing, duplicate or undeclared handler) and starts the driver; it
 * closes the driver before application shutdown, waiting for active jobs.
 */
@Injectable()
export class QueueService implements OnModuleInit, BeforeApplicationShutdown {
  private registry: JobRegistry | undefined;

  constructor(
    @Inject(QUEUE_MODULE_OPTIONS) private readonly options: QueueModuleOptions,
    private readonly explorer: JobHandlerExplorer,
  ) {}

  async onModuleInit(): Promise<void> {
    this.registry = new JobRegistry(this.options.jobs, this.explorer.explore());
    await this.options.driver.start(this.registry.handlers, this.role);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.options.driver.close();
  }

  get role(): QueueRole {
    return this.options.role ?? 'all';
  }

  /** The declared jobs (for an admin API listing what can be triggered). */
  get jobs(): JobDefinition<unknown>[] {
    return this.started().jobs;
  }

  enqueue<P>(
    definition: JobDefinition<P>,
    payload: NoInfer<P>,
    options?: EnqueueOptions,
  ): Promise<JobRecord> {
    const declared = this.started().require(definition.queue, definition.name);
    return this.options.driver.enqueue(declared, payload, options);
  }

  /**
   * Manual trigger by name, for the admin API: enqueues `queue`/`name` with an untyped payload
   * (validate it in the controller). Throws `UnknownJobError` for an undeclared job.
   */
  trigger(
    queue: string,
    name: string,
    payload: unknown,
    options?: EnqueueOptions,
  ): Promise<JobRecord> {
    const declared = this.started().require(queue, name);
    return this.options.driver.enqueue(declared, payload, options);
  }

  /** Creates or replaces the cron schedule of a job (see `QueueDriver.schedule`). */
  schedule<P>(definition: JobDefinition<P>, cron: string, payload: NoInfer<P>): Promise<void> {
    const declared = this.started().require(definition.queue, definition.name);
    return this.options.driver.schedule(declared, cron, payload);
  }

  unschedule(definition: JobDefinition<unknown>): Promise<void> {
    const declared = this.started().require(definition.queue, definition.name);
    return this.options.driver.unschedule(declared);
  }

  history(filter?: HistoryFilter): Promise<JobRecord[]> {
    this.started();
    return this.options.driver.history(filter);
  }

  get(id: string): Promise<JobRecord | undefined> {
    this.started();
    return this.options.driver.get(id);
  }

  private started(): JobRegistry {
    if (this.registry === undefined) {
      throw new QueueDriverStateError('QueueService used before QueueModule initialised');
    }
    return this.registry;
  }
}
