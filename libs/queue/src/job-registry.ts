import { jobKey, resolveJobOptions, type JobDefinition } from './job-definition';
import { UnknownJobError, type JobHandlerBinding } from './queue-driver';

/** Start-up check failures; the message lists every problem found. */
export class JobRegistryError extends Error {
  override readonly name = 'JobRegistryError';
  constructor(readonly problems: readonly string[]) {
    super(
      `queue start-up failed, ${problems.length} problem(s) with job handlers:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

/**
 * The declared jobs and their handlers, checked at start-up. The constructor throws
 * `JobRegistryError` when a job is declared twice (with different options), a declared job
 * has no handler or more than one, or a handler names a job that was not declared, so a
 * misconfigured process never starts taking jobs.
 */
export class JobRegistry {
  private readonly declared = new Map<string, JobDefinition<unknown>>();
  private readonly bindings = new Map<string, JobHandlerBinding>();

  constructor(jobs: readonly JobDefinition<unknown>[], handlers: readonly JobHandlerBinding[]) {
    const problems: string[] = [];
    for (const job of jobs) {
      const key = jobKey(job);
      const previous = this.declared.get(key);
      if (previous === undefined) this.declared.set(key, job);
      else if (!sameOptions(previous, job)) {
        problems.push(`job ${key} is declared twice with different options`);
      }
    }

    const byJob = new Map<string, JobHandlerBinding[]>();
    for (const handler of handlers) {
      const key = jobKey(handler.definition);
      const declared = this.declared.get(key);
      if (declared === undefined) {
        problems.push(
          `${handler.source} handles job ${key}, which is not declared in ` +
            'QueueModule.forRoot({ jobs })',
        );
        continue;
      }
      if (!sameOptions(declared, handler.definition)) {
        problems.push(
          `${handler.source} handles job ${key} with options that differ from its declaration ` +
            '(use the same defineJob() constant in both places)',
        );
      }
      byJob.set(key, [...(byJob.get(key) ?? []), handler]);
    }

    for (const [key, definition] of this.declared) {
      const found = byJob.get(key) ?? [];
      if (found.length === 0) {
        problems.push(`job ${key} has no handler: add @JobHandler(...) to one provider method`);
      } else if (found.length > 1) {
        problems.push(
          `job ${key} has ${found.length} handlers (${found.map((h) => h.source).join(', ')}); ` +
            'exactly one is allowed',
        );
      } else {
        const [handler] = found;
        this.bindings.set(key, {
          definition,
          source: handler.source,
          handle: (payload, context) => handler.handle(payload, context),
        });
      }
    }
    if (problems.length > 0) throw new JobRegistryError(problems);
  }

  /** One handler per declared job, keyed by `jobKey`: what `QueueDriver.start` takes. */
  get handlers(): ReadonlyMap<string, JobHandlerBinding> {
    return this.bindings;
  }

  /** The declared jobs, in declaration order. */
  get jobs(): JobDefinition<unknown>[] {
    return [...this.declared.values()];
  }

  find(queue: string, name: string): JobDefinition<unknown> | undefined {
    return this.declared.get(jobKey({ queue, name }));
  }

  /** The declared definition for `queue`/`name`; throws `UnknownJobError` if there is none. */
  require(queue: string, name: string): JobDefinition<unknown> {
    const found = this.find(queue, name);
    if (found === undefined) throw new UnknownJobError(queue, name);
    return found;
  }
}

function sameOptions(a: JobDefinition<unknown>, b: JobDefinition<unknown>): boolean {
  if (a === b) return true;
  const ra = resolveJobOptions(a);
  const rb = resolveJobOptions(b);
  return (
    ra.attempts === rb.attempts && ra.backoffMs === rb.backoffMs && ra.timeoutMs === rb.timeoutMs
  );
}
