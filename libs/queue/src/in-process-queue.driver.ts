import { randomUUID } from 'node:crypto';
import {
  asJson,
  assertValidCron,
  assertValidDelay,
  assertValidJobId,
  errorMessage,
  executeJob,
  historyLimit,
  newestFirst,
  nextCronDate,
} from './driver-support';
import {
  backoffDelayMs,
  jobKey,
  resolveJobOptions,
  type JobDefinition,
  type ResolvedJobOptions,
} from './job-definition';
import {
  QueueDriverStateError,
  UnknownJobError,
  type EnqueueOptions,
  type HistoryFilter,
  type JobHandlerBinding,
  type JobRecord,
  type QueueDriver,
  type QueueRole,
} from './queue-driver';

export interface InProcessQueueDriverOptions {
  /** Jobs run at once per queue: one number for every queue, or per queue name (default 1). */
  concurrency?: number | Readonly<Record<string, number>>;
  /** Job records kept for the history; the oldest finished ones are dropped first (default 1000). */
  historyLimit?: number;
  /** Log lines kept per job (default 100, the most recent). */
  keepLogs?: number;
  /** How long `close()` waits for active jobs before aborting them (default 10 s). */
  closeTimeoutMs?: number;
  /** Errors that have no caller to go to (a scheduled enqueue that failed). Default: console.error. */
  onError?: (error: unknown) => void;
}

interface StoredJob {
  readonly record: JobRecord;
  readonly binding: JobHandlerBinding;
  readonly options: ResolvedJobOptions;
  timer?: NodeJS.Timeout;
}

interface QueueState {
  readonly waiting: StoredJob[];
  active: number;
}

interface RunningJob {
  readonly controller: AbortController;
  done: Promise<void>;
}

/** setTimeout's ceiling (~24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs jobs inside this process: no Redis, nothing survives a restart. For the single-machine
 * quick start and tests. Jobs of one queue run in FIFO order, `concurrency` at a time; failed
 * tries are retried with exponential back-off; cron schedules are timers; the last
 * `historyLimit` job records are kept in memory. Role `producer` never runs jobs (they stay
 * `waiting`), so use `all` with this driver.
 */
export class InProcessQueueDriver implements QueueDriver {
  private readonly concurrency: number | Readonly<Record<string, number>>;
  private readonly historyLimit: number;
  private readonly keepLogs: number;
  private readonly closeTimeoutMs: number;
  private readonly onError: (error: unknown) => void;

  private handlers: ReadonlyMap<string, JobHandlerBinding> | undefined;
  private role: QueueRole = 'all';
  private closing: Promise<void> | undefined;
  /** By `queue\nid`, in creation order. */
  private readonly jobs = new Map<string, StoredJob>();
  private readonly queues = new Map<string, QueueState>();
  private readonly running = new Set<RunningJob>();
  private readonly schedules = new Map<string, NodeJS.Timeout>();

  constructor(options: InProcessQueueDriverOptions = {}) {
    this.concurrency = options.concurrency ?? 1;
    for (const value of typeof this.concurrency === 'number'
      ? [this.concurrency]
      : Object.values(this.concurrency)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new RangeError(`concurrency must be an integer >= 1, got ${value}`);
      }
    }
    this.historyLimit = options.historyLimit ?? 1000;
    this.keepLogs = options.keepLogs ?? 100;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 10_000;
    this.onError = options.onError ?? ((error) => console.error('in-process queue:', error));
  }

  start(handlers: ReadonlyMap<string, JobHandlerBinding>, role: QueueRole): Promise<void> {
    if (this.closing !== undefined) throw new QueueDriverStateError('queue driver is closed');
    if (this.handlers !== undefined)
      throw new QueueDriverStateError('queue driver already started');
    this.handlers = handlers;
    this.role = role;
    return Promise.resolve();
  }

  enqueue<P>(
    definition: JobDefinition<P>,
    payload: NoInfer<P>,
    options: EnqueueOptions = {},
  ): Promise<JobRecord> {
    try {
      return Promise.resolve(snapshot(this.add(definition, payload, options).record));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(errorMessage(error)));
    }
  }

  schedule<P>(definition: JobDefinition<P>, cron: string, payload: NoInfer<P>): Promise<void> {
    try {
      this.bindingFor(definition);
      assertValidCron(cron);
      this.clearSchedule(definition);
      this.arm(definition, cron, asJson(payload), new Date());
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(errorMessage(error)));
    }
  }

  unschedule(definition: JobDefinition<unknown>): Promise<void> {
    this.clearSchedule(definition);
    return Promise.resolve();
  }

  history(filter: HistoryFilter = {}): Promise<JobRecord[]> {
    const limit = historyLimit(filter);
    const records = [...this.jobs.values()]
      .map((job) => job.record)
      .filter(
        (r) =>
          (filter.queue === undefined || r.queue === filter.queue) &&
          (filter.name === undefined || r.name === filter.name),
      )
      .sort(newestFirst)
      .slice(0, limit)
      .map(snapshot);
    return Promise.resolve(records);
  }

  get(id: string): Promise<JobRecord | undefined> {
    for (const job of this.jobs.values()) {
      if (job.record.id === id) return Promise.resolve(snapshot(job.record));
    }
    return Promise.resolve(undefined);
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  // ------------------------------------------------------------------ internals

  private add<P>(definition: JobDefinition<P>, payload: P, options: EnqueueOptions): StoredJob {
    const binding = this.bindingFor(definition);
    assertValidDelay(options.delayMs);
    if (options.jobId !== undefined) assertValidJobId(options.jobId);
    const id = options.jobId ?? randomUUID();
    const key = `${definition.queue}\n${id}`;
    const existing = this.jobs.get(key);
    if (existing !== undefined) return existing;

    const resolved = resolveJobOptions(binding.definition);
    const delayMs = options.delayMs ?? 0;
    const job: StoredJob = {
      binding,
      options: resolved,
      record: {
        id,
        queue: definition.queue,
        name: definition.name,
        state: delayMs > 0 ? 'delayed' : 'waiting',
        attempts: 0,
        maxAttempts: resolved.attempts,
        payload: asJson(payload),
        createdAt: new Date(),
        logs: [],
        progress: 0,
      },
    };
    this.jobs.set(key, job);
    this.trimHistory();
    if (delayMs > 0) this.delay(job, delayMs);
    else this.makeWaiting(job);
    return job;
  }

  private bindingFor(definition: JobDefinition<unknown>): JobHandlerBinding {
    if (this.closing !== undefined) throw new QueueDriverStateError('queue driver is closed');
    if (this.handlers === undefined) {
      throw new QueueDriverStateError('queue driver not started (QueueDriver.start)');
    }
    const binding = this.handlers.get(jobKey(definition));
    if (binding === undefined) throw new UnknownJobError(definition.queue, definition.name);
    return binding;
  }

  private queueState(name: string): QueueState {
    let state = this.queues.get(name);
    if (state === undefined) {
      state = { waiting: [], active: 0 };
      this.queues.set(name, state);
    }
    return state;
  }

  private concurrencyOf(queue: string): number {
    return typeof this.concurrency === 'number' ? this.concurrency : (this.concurrency[queue] ?? 1);
  }

  private delay(job: StoredJob, ms: number): void {
    job.record.state = 'delayed';
    job.timer = setTimeout(
      () => {
        job.timer = undefined;
        this.makeWaiting(job);
      },
      Math.min(ms, MAX_TIMER_MS),
    );
  }

  private makeWaiting(job: StoredJob): void {
    job.record.state = 'waiting';
    this.queueState(job.record.queue).waiting.push(job);
    this.pump(job.record.queue);
  }

  private pump(queue: string): void {
    if (this.closing !== undefined || this.role === 'producer') return;
    const state = this.queueState(queue);
    const limit = this.concurrencyOf(queue);
    while (state.active < limit && state.waiting.length > 0) {
      const job = state.waiting.shift();
      if (job !== undefined) this.run(job, state);
    }
  }

  private run(job: StoredJob, state: QueueState): void {
    state.active += 1;
    const running: RunningJob = { controller: new AbortController(), done: Promise.resolve() };
    this.running.add(running);
    running.done = this.attempt(job, running.controller.signal).finally(() => {
      this.running.delete(running);
      state.active -= 1;
      this.pump(job.record.queue);
    });
  }

  private async attempt(job: StoredJob, signal: AbortSignal): Promise<void> {
    const record = job.record;
    record.state = 'active';
    record.attempts += 1;
    record.startedAt = new Date();
    try {
      const result = await executeJob(job.binding, asJson(record.payload), {
        id: record.id,
        attempt: record.attempts,
        timeoutMs: job.options.timeoutMs,
        signal,
        log: (message) => {
          record.logs.push(message);
          if (record.logs.length > this.keepLogs) record.logs.shift();
        },
        progress: (fraction) => {
          record.progress = fraction;
        },
      });
      const stored = asJson(result);
      if (stored !== undefined && stored !== null) record.result = stored;
      delete record.error;
      record.state = 'completed';
      record.finishedAt = new Date();
    } catch (error) {
      record.error = errorMessage(error);
      if (this.closing === undefined && record.attempts < job.options.attempts) {
        this.delay(job, backoffDelayMs(job.options.backoffMs, record.attempts));
      } else {
        record.state = 'failed';
        record.finishedAt = new Date();
      }
    }
    this.trimHistory();
  }

  /** Drops the oldest finished records beyond `historyLimit` (unfinished ones are kept). */
  private trimHistory(): void {
    let excess = this.jobs.size - this.historyLimit;
    if (excess <= 0) return;
    for (const [key, job] of this.jobs) {
      if (excess <= 0) break;
      if (job.record.state === 'completed' || job.record.state === 'failed') {
        this.jobs.delete(key);
        excess -= 1;
      }
    }
  }

  private arm(
    definition: JobDefinition<unknown>,
    cron: string,
    payload: unknown,
    after: Date,
  ): void {
    const key = jobKey(definition);
    const fireAt = nextCronDate(cron, after);
    const timer = setTimeout(
      () => {
        if (this.schedules.get(key) !== timer) return;
        if (Date.now() < fireAt.getTime() - 1) {
          this.arm(definition, cron, payload, after); // long wait re-armed in steps
          return;
        }
        try {
          this.add(definition, payload, {});
        } catch (error) {
          this.onError(error);
        }
        // Missed fire times (a stalled event loop) are skipped, not caught up.
        this.arm(definition, cron, payload, new Date(Math.max(Date.now(), fireAt.getTime())));
      },
      Math.min(Math.max(0, fireAt.getTime() - Date.now()), MAX_TIMER_MS),
    );
    this.schedules.set(key, timer);
  }

  private clearSchedule(definition: JobDefinition<unknown>): void {
    const key = jobKey(definition);
    const timer = this.schedules.get(key);
    if (timer !== undefined) clearTimeout(timer);
    this.schedules.delete(key);
  }

  private async shutdown(): Promise<void> {
    for (const timer of this.schedules.values()) clearTimeout(timer);
    this.schedules.clear();
    for (const job of this.jobs.values()) {
      if (job.timer !== undefined) clearTimeout(job.timer);
      job.timer = undefined;
    }
    const active = [...this.running];
    if (active.length === 0) return;
    const finished = Promise.allSettled(active.map((r) => r.done)).then(() => true);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.closeTimeoutMs);
    });
    const inTime = await Promise.race([finished, timedOut]);
    clearTimeout(timer);
    if (!inTime) {
      for (const r of active) {
        r.controller.abort(
          new Error(`driver closed: job still running after ${this.closeTimeoutMs} ms`),
        );
      }
      await Promise.allSettled(active.map((r) => r.done));
    }
  }
}

function snapshot(record: JobRecord): JobRecord {
  return structuredClone(record);
}
