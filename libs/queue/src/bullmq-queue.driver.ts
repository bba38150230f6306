import {
  Queue,
  UnrecoverableError,
  Worker,
  type Job,
  type JobsOptions,
  type JobType,
} from 'bullmq';
import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import {
  assertValidCron,
  assertValidDelay,
  assertValidJobId,
  clampProgress,
  executeJob,
  historyLimit,
  newestFirst,
} from './driver-support';
import { jobKey, resolveJobOptions, type JobDefinition } from './job-definition';
import {
  QueueDriverStateError,
  UnknownJobError,
  type EnqueueOptions,
  type HistoryFilter,
  type JobHandlerBinding,
  type JobRecord,
  type JobState,
  type QueueDriver,
  type QueueRole,
} from './queue-driver';

export interface BullmqQueueDriverOptions {
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  url: string;
  /**
   * Key prefix for every key this driver writes (default `berth`). Give each registry its own,
   * e.g. `berth:<tenant>`, to share one Redis without collisions.
   */
  prefix?: string;
  /** Jobs run at once per queue by this process's workers: one number, or per queue (default 1). */
  concurrency?: number | Readonly<Record<string, number>>;
  /** Completed jobs kept per queue for the history (default 1000); older ones are deleted. */
  keepCompleted?: number;
  /** Failed jobs kept per queue (default 5000). */
  keepFailed?: number;
  /** Log lines kept per job (default 100). */
  keepLogs?: number;
  /** How long `close()` waits for active jobs before aborting them (default 10 s). */
  closeTimeoutMs?: number;
  /** How long `start()` waits for Redis before failing (default 10 s). */
  connectTimeoutMs?: number;
  /** Connection and worker errors that have no caller to go to. Default: console.error. */
  onError?: (error: Error) => void;
}

/** The BullMQ states each `JobState` is read from. */
const STATE_SOURCES: ReadonlyArray<readonly [JobState, JobType[]]> = [
  // In lifecycle order: a job that moves on while the lists are read is seen twice (the later
  // sighting wins), not missed.
  ['delayed', ['delayed']],
  ['waiting', ['waiting', 'prioritized', 'waiting-children']],
  ['active', ['active']],
  ['completed', ['completed']],
  ['failed', ['failed']],
];

/**
 * The production driver: BullMQ on Redis. One `Queue` per queue name produces; with role
 * `worker` or `all` one `Worker` per queue with handlers runs jobs, dispatching by job name.
 * Retries use BullMQ's exponential back-off, schedules are BullMQ job schedulers (cron
 * `pattern`), and finished jobs are trimmed to `keepCompleted`/`keepFailed` per queue so Redis
 * stays bounded. Producer and worker processes share the data through Redis; give them the same
 * `url` and `prefix`.
 */
export class BullmqQueueDriver implements QueueDriver {
  private readonly url: string;
  private readonly prefix: string;
  private readonly concurrency: number | Readonly<Record<string, number>>;
  private readonly keepCompleted: number;
  private readonly keepFailed: number;
  private readonly keepLogs: number;
  private readonly closeTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly onError: (error: Error) => void;

  private handlers: ReadonlyMap<string, JobHandlerBinding> | undefined;
  private producerConnection: Redis | undefined;
  private workerConnection: Redis | undefined;
  private readonly queues = new Map<string, Queue>();
  private readonly workers: Worker[] = [];
  private closing: Promise<void> | undefined;

  constructor(options: BullmqQueueDriverOptions) {
    if (options.url === '') throw new TypeError('BullmqQueueDriver: url is required');
    this.url = options.url;
    this.prefix = options.prefix ?? 'berth';
    this.concurrency = options.concurrency ?? 1;
    this.keepCompleted = options.keepCompleted ?? 1000;
    this.keepFailed = options.keepFailed ?? 5000;
    this.keepLogs = options.keepLogs ?? 100;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.onError = options.onError ?? ((error) => console.error('bullmq queue:', error));
  }

  async start(handlers: ReadonlyMap<string, JobHandlerBinding>, role: QueueRole): Promise<void> {
    if (this.closing !== undefined) throw new QueueDriverStateError('queue driver is closed');
    if (this.handlers !== undefined)
      throw new QueueDriverStateError('queue driver already started');
    this.handlers = handlers;
    try {
      this.producerConnection = this.connect('producer', { maxRetriesPerRequest: 20 });
      const queueNames = [...new Set([...handlers.values()].map((h) => h.definition.queue))];
      for (const name of queueNames) this.queueFor(name);
      await this.withConnectTimeout(
        Promise.all([...this.queues.values()].map((q) => q.waitUntilReady())),
      );
      if (role === 'worker' || role === 'all') {
        // BullMQ workers need maxRetriesPerRequest: null (blocking commands must not give up).
        const connection = this.connect('worker', { maxRetriesPerRequest: null });
        this.workerConnection = connection;
        for (const name of queueNames) {
          const worker = new Worker(
            name,
            async (job: Job, _token?: string, signal?: AbortSignal) => this.process(job, signal),
            {
              connection,
              prefix: this.prefix,
              concurrency: this.concurrencyOf(name),
              removeOnComplete: { count: this.keepCompleted },
              removeOnFail: { count: this.keepFailed },
            },
          );
          worker.on('error', (error) => this.onError(error));
          this.workers.push(worker);
        }
        await this.withConnectTimeout(Promise.all(this.workers.map((w) => w.waitUntilReady())));
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  async enqueue<P>(
    definition: JobDefinition<P>,
    payload: NoInfer<P>,
    options: EnqueueOptions = {},
  ): Promise<JobRecord> {
    const binding = this.bindingFor(definition);
    assertValidDelay(options.delayMs);
    if (options.jobId !== undefined) assertValidJobId(options.jobId);
    const jobId = options.jobId ?? randomUUID();
    const queue = this.queueFor(definition.queue);
    await queue.add(definition.name, payload, {
      ...this.jobOptions(binding.definition),
      jobId,
      ...(options.delayMs !== undefined && options.delayMs > 0 ? { delay: options.delayMs } : {}),
    });
    // Read it back: with a duplicate jobId, BullMQ keeps (and returns the id of) the existing job.
    const stored = await this.readJob(queue, jobId);
    if (stored === undefined) {
      // Already run and trimmed (keepCompleted 0); report what was added.
      return {
        id: jobId,
        queue: definition.queue,
        name: definition.name,
        state: 'completed',
        attempts: 0,
        maxAttempts: resolveJobOptions(binding.definition).attempts,
        payload,
        createdAt: new Date(),
        logs: [],
        progress: 0,
      };
    }
    return stored;
  }

  async schedule<P>(
    definition: JobDefinition<P>,
    cron: string,
    payload: NoInfer<P>,
  ): Promise<void> {
    const binding = this.bindingFor(definition);
    assertValidCron(cron);
    await this.queueFor(definition.queue).upsertJobScheduler(
      definition.name,
      { pattern: cron },
      { name: definition.name, data: payload, opts: this.jobOptions(binding.definition) },
    );
  }

  async unschedule(definition: JobDefinition<unknown>): Promise<void> {
    this.bindingFor(definition);
    await this.queueFor(definition.queue).removeJobScheduler(definition.name);
  }

  async history(filter: HistoryFilter = {}): Promise<JobRecord[]> {
    this.assertUsable();
    const limit = historyLimit(filter);
    // With a name filter, read deeper: the other jobs of the queue are skipped.
    const depth = filter.name === undefined ? limit : Math.max(limit, this.keepCompleted, 1000);
    const queues =
      filter.queue === undefined ? [...this.queues.values()] : [this.queueFor(filter.queue)];
    const records = new Map<string, JobRecord>();
    for (const queue of queues) {
      for (const [state, types] of STATE_SOURCES) {
        const jobs = await queue.getJobs(types, 0, depth - 1, false);
        const wanted = jobs.filter((j) => filter.name === undefined || j.name === filter.name);
        for (const record of await Promise.all(wanted.map((j) => this.toRecord(queue, j, state)))) {
          records.set(`${record.queue}\n${record.id}`, record);
        }
      }
    }
    return [...records.values()].sort(newestFirst).slice(0, limit);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    this.assertUsable();
    for (const queue of this.queues.values()) {
      const record = await this.readJob(queue, id);
      if (record !== undefined) return record;
    }
    return undefined;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ------------------------------------------------------------------ internals

  private connect(role: string, options: { maxRetriesPerRequest: number | null }): Redis {
    const connection = new Redis(this.url, {
      ...options,
      connectionName: `berth-queue-${role}`,
    });
    connection.on('error', (error: Error) => this.onError(error));
    return connection;
  }

  private async withConnectTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `cannot reach Redis at ${redactUrl(this.url)} within ${this.connectTimeoutMs} ms`,
            ),
          ),
        this.connectTimeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private assertUsable(): void {
    if (this.closing !== undefined) throw new QueueDriverStateError('queue driver is closed');
    if (this.handlers === undefined || this.producerConnection === undefined) {
      throw new QueueDriverStateError('queue driver not started (QueueDriver.start)');
    }
  }

  private bindingFor(definition: JobDefinition<unknown>): JobHandlerBinding {
    this.assertUsable();
    const binding = this.handlers?.get(jobKey(definition));
    if (binding === undefined) throw new UnknownJobError(definition.queue, definition.name);
    return binding;
  }

  private queueFor(name: string): Queue {
    let queue = this.queues.get(name);
    if (queue === undefined) {
      const connection = this.producerConnection;
      if (connection === undefined) throw new QueueDriverStateError('queue driver not started');
      queue = new Queue(name, { connection, prefix: this.prefix });
      queue.on('error', (error) => this.onError(error));
      this.queues.set(name, queue);
    }
    return queue;
  }

  private concurrencyOf(queue: string): number {
    return typeof this.concurrency === 'number' ? this.concurrency : (this.concurrency[queue] ?? 1);
  }

  private jobOptions(definition: JobDefinition<unknown>): Omit<JobsOptions, 'jobId' | 'delay'> {
    const resolved = resolveJobOptions(definition);
    return {
      attempts: resolved.attempts,
      backoff: { type: 'exponential', delay: resolved.backoffMs },
      removeOnComplete: { count: this.keepCompleted },
      removeOnFail: { count: this.keepFailed },
      keepLogs: this.keepLogs,
    };
  }

  private async process(job: Job, signal: AbortSignal | undefined): Promise<unknown> {
    const binding = this.handlers?.get(jobKey({ queue: job.queueName, name: job.name }));
    if (binding === undefined) {
      throw new UnrecoverableError(
        `no handler for job ${job.queueName}/${job.name} in this worker (deploy the worker with ` +
          'the same jobs as the producer)',
      );
    }
    const writes: Array<Promise<unknown>> = [];
    try {
      return await executeJob(binding, job.data, {
        id: job.id ?? '',
        attempt: job.attemptsMade + 1,
        timeoutMs: resolveJobOptions(binding.definition).timeoutMs,
        signal,
        log: (message) => writes.push(job.log(message)),
        progress: (fraction) => writes.push(job.updateProgress(fraction)),
      });
    } finally {
      // Logs and progress are persisted before the job is marked finished.
      await Promise.allSettled(writes);
    }
  }

  /**
   * One job with a consistent state: the state is read first, then the job hash, which a
   * state change updates atomically; reading the other way round can pair a finished state
   * with the data of the previous try.
   */
  private async readJob(queue: Queue, id: string): Promise<JobRecord | undefined> {
    const state = await queue.getJobState(id);
    if (state === 'unknown') return undefined;
    const job = await queue.getJob(id);
    return job === undefined ? undefined : this.toRecord(queue, job, toJobState(state));
  }

  private async toRecord(queue: Queue, job: Job, state: JobState): Promise<JobRecord> {
    const id = job.id ?? '';
    const { logs } = await queue.getJobLogs(id, 0, this.keepLogs - 1, true);
    const result: unknown = job.returnvalue;
    const record: JobRecord = {
      id,
      queue: job.queueName,
      name: job.name,
      state,
      attempts: Math.max(job.attemptsStarted, job.attemptsMade),
      maxAttempts: job.opts.attempts ?? 1,
      payload: job.data as unknown,
      createdAt: new Date(job.timestamp),
      logs,
      progress: typeof job.progress === 'number' ? clampProgress(job.progress) : 0,
    };
    if (state === 'completed' && result !== undefined && result !== null) record.result = result;
    if (job.failedReason !== undefined && job.failedReason !== '' && state !== 'completed') {
      record.error = job.failedReason;
    }
    if (typeof job.processedOn === 'number') {
      record.startedAt = new Date(job.processedOn);
    }
    if ((state === 'completed' || state === 'failed') && typeof job.finishedOn === 'number') {
      record.finishedAt = new Date(job.finishedOn);
    }
    return record;
  }

  private async shutdown(): Promise<void> {
    const workers = [...this.workers];
    if (workers.length > 0) {
      const closed = Promise.allSettled(workers.map((w) => w.close())).then(() => true);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), this.closeTimeoutMs);
      });
      const inTime = await Promise.race([closed, timedOut]);
      clearTimeout(timer);
      if (!inTime) {
        // Abort the handlers' signals; their tries fail and are retried by another worker.
        for (const worker of workers) {
          worker.cancelAllJobs(`driver closed: job still running after ${this.closeTimeoutMs} ms`);
        }
        await closed;
      }
    }
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    for (const connection of [this.workerConnection, this.producerConnection]) {
      if (connection === undefined) continue;
      try {
        await connection.quit();
      } catch (_error) {
        connection.disconnect();
      }
    }
  }
}

function toJobState(state: string): JobState {
  switch (state) {
    case 'active':
    case 'completed':
    case 'failed':
    case 'delayed':
      return state;
    default:
      return 'waiting';
  }
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch (_error) {
    return '<invalid url>';
  }
}
