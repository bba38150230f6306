import { CronExpressionParser } from 'cron-parser';
import { type JobContext } from './job-definition';
import {
  DEFAULT_HISTORY_LIMIT,
  JobTimeoutError,
  MAX_HISTORY_LIMIT,
  type HistoryFilter,
  type JobHandlerBinding,
  type JobRecord,
} from './queue-driver';

/** Helpers shared by the drivers (not part of the public API). */

export interface JobExecution {
  id: string;
  attempt: number;
  timeoutMs: number | undefined;
  /** Aborted by the driver (shutdown); the try then fails at once with the abort reason. */
  signal?: AbortSignal;
  log(message: string): void;
  progress(fraction: number): void;
}

/**
 * Runs one try of a handler. The handler's `signal` is aborted on timeout or when the driver's
 * signal aborts; the returned promise then rejects at once, whether or not the handler honours
 * the signal (its late settlement is ignored).
 */
export async function executeJob(
  binding: JobHandlerBinding,
  payload: unknown,
  execution: JobExecution,
): Promise<unknown> {
  const controller = new AbortController();
  const cleanups: Array<() => void> = [];
  const interruptions: Array<Promise<never>> = [];

  const outer = execution.signal;
  if (outer !== undefined) {
    interruptions.push(
      new Promise<never>((_, reject) => {
        const onAbort = (): void => {
          const reason: unknown = outer.reason;
          controller.abort(reason);
          reject(
            reason instanceof Error
              ? reason
              : new Error(typeof reason === 'string' ? reason : 'job interrupted: driver closing'),
          );
        };
        if (outer.aborted) onAbort();
        else {
          outer.addEventListener('abort', onAbort, { once: true });
          cleanups.push(() => outer.removeEventListener('abort', onAbort));
        }
      }),
    );
  }
  const timeoutMs = execution.timeoutMs;
  if (timeoutMs !== undefined) {
    interruptions.push(
      new Promise<never>((_, reject) => {
        const timer = setTimeout(() => {
          const error = new JobTimeoutError(timeoutMs);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
        cleanups.push(() => clearTimeout(timer));
      }),
    );
  }

  const context: JobContext = {
    id: execution.id,
    attempt: execution.attempt,
    signal: controller.signal,
    log: (message) => execution.log(String(message)),
    progress: (fraction) => execution.progress(clampProgress(fraction)),
  };
  const work = Promise.resolve().then(() => binding.handle(payload, context));
  try {
    return interruptions.length === 0 ? await work : await Promise.race([work, ...interruptions]);
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}

export function clampProgress(fraction: number): number {
  if (!Number.isFinite(fraction)) return 0;
  return Math.min(1, Math.max(0, fraction));
}

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** BullMQ's rules for custom job ids, applied by both drivers so they behave alike. */
export function assertValidJobId(jobId: string): void {
  if (jobId === '') throw new TypeError('jobId must not be empty');
  if (jobId.includes(':'))
    throw new TypeError(`jobId ${JSON.stringify(jobId)} must not contain ':'`);
  if (/^-?\d+$/.test(jobId)) {
    throw new TypeError(`jobId ${JSON.stringify(jobId)} must not be an integer`);
  }
}

export function assertValidDelay(delayMs: number | undefined): void {
  if (delayMs !== undefined && (!Number.isFinite(delayMs) || delayMs < 0)) {
    throw new RangeError(`delayMs must be a finite number >= 0, got ${delayMs}`);
  }
}

/**
 * Validates a 5-field (minute precision) or 6-field (seconds first) cron expression with the
 * same parser BullMQ uses, so both drivers accept and reject the same patterns.
 */
export function assertValidCron(cron: string): void {
  const fields = cron.trim().split(/\s+/).length;
  if (fields !== 5 && fields !== 6) {
    throw new TypeError(
      `cron expression ${JSON.stringify(cron)} must have 5 fields (minute hour day month weekday) ` +
        'or 6 (second first)',
    );
  }
  try {
    CronExpressionParser.parse(cron);
  } catch (error) {
    throw new TypeError(`invalid cron expression ${JSON.stringify(cron)}: ${errorMessage(error)}`);
  }
}

/** The first fire time of `cron` strictly after `after` (server local time). */
export function nextCronDate(cron: string, after: Date): Date {
  return CronExpressionParser.parse(cron, { currentDate: after }).next().toDate();
}

export function historyLimit(filter: HistoryFilter): number {
  const limit = filter.limit ?? DEFAULT_HISTORY_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`history limit must be an integer >= 1, got ${limit}`);
  }
  return Math.min(limit, MAX_HISTORY_LIMIT);
}

export function newestFirst(a: JobRecord, b: JobRecord): number {
  return b.createdAt.getTime() - a.createdAt.getTime();
}

/** JSON round trip: what a handler receives from, and the history shows after, Redis. */
export function asJson(value: unknown): unknown {
  if (value === undefined) return undefined;
  const text = JSON.stringify(value);
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}
