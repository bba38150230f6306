import { type JobContext, type JobDefinition } from './job-definition';

/**
 * Which half of the queue this process runs.
 * - `all`: produce and run jobs (single process, the quick start and tests);
 * - `producer`: enqueue, schedule and read history only (the API process);
 * - `worker`: run jobs (the separate worker process, built from the same code).
 */
export type QueueRole = 'all' | 'producer' | 'worker';

export type JobState = 'waiting' | 'active' | 'completed' | 'failed' | 'delayed';

/** One job as the history shows it. Dates are absolute; `payload` and `result` are JSON values. */
export interface JobRecord {
  /** Unique within its queue (the `jobId` passed to `enqueue`, else generated). */
  id: string;
  queue: string;
  name: string;
  state: JobState;
  /** Tries started so far. */
  attempts: number;
  /** The definition's `attempts` at enqueue time. */
  maxAttempts: number;
  payload: unknown;
  /** The handler's return value once `completed` (absent when it returned null/undefined). */
  result?: unknown;
  /** The last failure's message (set on `failed`, and while a retry is pending). */
  error?: string;
  createdAt: Date;
  /** When the latest try started. */
  startedAt?: Date;
  finishedAt?: Date;
  logs: string[];
  /** Fraction in [0, 1] last reported through `JobContext.progress`. */
  progress: number;
}

/** A job's handler, bound to its instance. Built by `JobRegistry` from the discovered methods. */
export interface JobHandlerBinding {
  readonly definition: JobDefinition<unknown>;
  /** Where it was declared, for messages: `ClassName.method`. */
  readonly source: string;
  handle(payload: unknown, context: JobContext): Promise<unknown>;
}

export interface EnqueueOptions {
  /**
   * De-duplication key: while a job with this id is still kept by the driver (waiting, active,
   * delayed or in the bounded history), enqueueing it again returns the existing job and does
   * not run it again. Must not contain `:` and must not be an integer (a BullMQ rule, applied
   * by both drivers).
   */
  jobId?: string;
  /** Run no earlier than this many milliseconds from now (state `delayed` until then). */
  delayMs?: number;
}

export interface HistoryFilter {
  queue?: string;
  name?: string;
  /** Most recent first; default 100, at most 1000. */
  limit?: number;
}

/**
 * The queue port. Drivers: `InProcessQueueDriver` (single machine, no Redis) and
 * `BullmqQueueDriver` (Redis; producers and workers in separate processes). Both pass
 * `testing/queue-driver.suite.ts`.
 *
 * Delivery is at-least-once: a job can run more than once (retries, a worker that dies mid-job),
 * so handlers must be idempotent.
 */
export interface QueueDriver {
  /**
   * Called once, after the registry validated the handlers (keyed by `jobKey`). Workers
   * (role `worker` or `all`) start taking jobs from the handlers' queues. Every other method
   * except `close` throws before `start`.
   */
  start(handlers: ReadonlyMap<string, JobHandlerBinding>, role: QueueRole): Promise<void>;
  /** Adds a job. Throws `UnknownJobError` for a job without a handler in the map given to `start`. */
  enqueue<P>(
    definition: JobDefinition<P>,
    payload: NoInfer<P>,
    options?: EnqueueOptions,
  ): Promise<JobRecord>;
  /**
   * Creates or replaces the repeatable schedule of `definition` (one per job). `cron` has 5
   * fields (minute precision) or 6 with seconds first (`*\/10 * * * * *`); times are the
   * server's local time.
   */
  schedule<P>(definition: JobDefinition<P>, cron: string, payload: NoInfer<P>): Promise<void>;
  /** Removes the schedule of `definition`; no-op if there is none. */
  unschedule(definition: JobDefinition<unknown>): Promise<void>;
  /** Recent jobs, newest first (by `createdAt`). */
  history(filter?: HistoryFilter): Promise<JobRecord[]>;
  /** A job by id (first match over the known queues), or undefined. */
  get(id: string): Promise<JobRecord | undefined>;
  /**
   * Stops taking jobs and schedules, waits for active jobs (up to the driver's close timeout,
   * then aborts their signals) and releases connections and timers. Idempotent.
   */
  close(): Promise<void>;
}

export class QueueDriverStateError extends Error {
  override readonly name = 'QueueDriverStateError';
}

export class UnknownJobError extends Error {
  override readonly name = 'UnknownJobError';
  constructor(
    readonly queue: string,
    readonly job: string,
  ) {
    super(
      `job ${queue}/${job} is not registered: declare it in QueueModule.forRoot({ jobs }) and ` +
        'give it exactly one @JobHandler',
    );
  }
}

export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`job timed out after ${timeoutMs} ms`);
  }
}

export const DEFAULT_HISTORY_LIMIT = 100;
export const MAX_HISTORY_LIMIT = 1000;
