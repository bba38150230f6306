import { defineJob } from '@berth/queue';

/** Garbage collection (see gc/garbage-collector.ts), nightly by default and on demand. */
export const gcJob = defineJob<{ dryRun: boolean; graceSeconds?: number }>({
  queue: 'maintenance',
  name: 'gc',
  attempts: 3,
  backoffMs: 60_000,
  timeoutMs: 6 * 3600_000,
});

/** Retention policies (see retention/retention-evaluator.ts), daily by default and on demand. */
export const retentionJob = defineJob<{ dryRun: boolean }>({
  queue: 'maintenance',
  name: 'retention',
  attempts: 3,
  backoffMs: 60_000,
  timeoutMs: 3600_000,
});

/** Every job the data plane declares; start-up fails unless each has exactly one handler. */
export const REGISTRY_JOBS = [gcJob, retentionJob];
