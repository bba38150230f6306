/**
 * A named job on a named queue. Declare each job once with `defineJob` (usually next to its
 * handler), list it in `QueueModule.forRoot({ jobs })`, and enqueue it through `QueueService`.
 *
 * `P` is the payload type. It exists only at compile time (see `__payload`); at run time a
 * definition is a plain object. Payloads and results must be JSON-serialisable: the BullMQ
 * driver stores them as JSON in Redis and the in-process driver round-trips them through JSON
 * too, so both drivers hand handlers the same values.
 */
export interface JobDefinition<P = unknown> {
  /** Queue name: letters, digits, `.`, `_`, `-` (no `:`, which Redis keys use). */
  readonly queue: string;
  /** Job name, unique within its queue; same character set as `queue`. */
  readonly name: string;
  /** Total tries, first run included (default `DEFAULT_JOB_ATTEMPTS`). */
  readonly attempts?: number;
  /** Back-off before the 2nd try; doubles for each further try (default `DEFAULT_JOB_BACKOFF_MS`). */
  readonly backoffMs?: number;
  /** A try that runs longer fails with `JobTimeoutError` and its `signal` is aborted (default: none). */
  readonly timeoutMs?: number;
  /** Phantom: carries `P` for type inference. Never set. */
  readonly __payload?: P;
}

/** What a running handler gets besides its payload. */
export interface JobContext {
  /** The job id (stable across retries). */
  readonly id: string;
  /** 1-based number of the current try. */
  readonly attempt: number;
  /** Appends a line to the job's log (visible in the job history). */
  log(message: string): void;
  /** Reports progress as a fraction in [0, 1] (clamped). */
  progress(fraction: number): void;
  /** Aborted when the try times out or the driver shuts down; pass it on to I/O. */
  readonly signal: AbortSignal;
}

export const DEFAULT_JOB_ATTEMPTS = 3;
export const DEFAULT_JOB_BACKOFF_MS = 1000;

/** A definition with every option resolved to its effective value. */
export interface ResolvedJobOptions {
  readonly attempts: number;
  readonly backoffMs: number;
  readonly timeoutMs: number | undefined;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * Declares a job. Validates the names and options so that a bad definition fails where it is
 * written (module load) instead of when the first job runs.
 *
 * @example
 *   export const sendMailJob = defineJob<{ to: string }>({ queue: 'mail', name: 'send', attempts: 5 });
 */
export function defineJob<P>(definition: JobDefinition<P>): JobDefinition<P> {
  const where = `job ${JSON.stringify(definition.queue)}/${JSON.stringify(definition.name)}`;
  if (!NAME_PATTERN.test(definition.queue)) {
    throw new TypeError(`${where}: queue name must match ${String(NAME_PATTERN)}`);
  }
  if (!NAME_PATTERN.test(definition.name)) {
    throw new TypeError(`${where}: job name must match ${String(NAME_PATTERN)}`);
  }
  if (
    definition.attempts !== undefined &&
    (!Number.isInteger(definition.attempts) || definition.attempts < 1)
  ) {
    throw new TypeError(`${where}: attempts must be an integer >= 1`);
  }
  if (
    definition.backoffMs !== undefined &&
    (!Number.isFinite(definition.backoffMs) || definition.backoffMs < 0)
  ) {
    throw new TypeError(`${where}: backoffMs must be a finite number >= 0`);
  }
  if (
    definition.timeoutMs !== undefined &&
    (!Number.isFinite(definition.timeoutMs) || definition.timeoutMs <= 0)
  ) {
    throw new TypeError(`${where}: timeoutMs must be a finite number > 0`);
  }
  return Object.freeze({ ...definition });
}

/** The key a job is known by in registries and handler maps: `queue/name`. */
export function jobKey(definition: Pick<JobDefinition, 'queue' | 'name'>): string {
  return `${definition.queue}/${definition.name}`;
}

export function resolveJobOptions(definition: JobDefinition<unknown>): ResolvedJobOptions {
  return {
    attempts: definition.attempts ?? DEFAULT_JOB_ATTEMPTS,
    backoffMs: definition.backoffMs ?? DEFAULT_JOB_BACKOFF_MS,
    timeoutMs: definition.timeoutMs,
  };
}

/** Exponential back-off before try `failedAttempt + 1` (same formula as BullMQ's `exponential`). */
export function backoffDelayMs(backoffMs: number, failedAttempt: number): number {
  return Math.round(backoffMs * 2 ** (failedAttempt - 1));
}
