import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { defineJob, type JobContext, type JobDefinition } from '../job-definition';
import { JobRegistry } from '../job-registry';
import {
  UnknownJobError,
  type JobHandlerBinding,
  type JobRecord,
  type JobState,
  type QueueDriver,
} from '../queue-driver';

/**
 * The contract every `QueueDriver` must pass. Test-only: imports `node:test`, so it is not
 * exported from the package index; spec files import it by path. `makeDriver` returns a fresh,
 * unstarted driver isolated from every other one it returned (own Redis key prefix, own
 * process state); the suite calls it twice (the shared driver and one to test `close()`).
 */
export interface QueueDriverFixture {
  driver: QueueDriver;
  cleanup(): Promise<void>;
}

// --------------------------------------------------------------------------- jobs of the suite

export const suiteJobs = {
  echo: defineJob<{ text: string }>({ queue: 'suite-main', name: 'echo', attempts: 1 }),
  flaky: defineJob<{ key: string; failTimes: number }>({
    queue: 'suite-main',
    name: 'flaky',
    attempts: 3,
    backoffMs: 150,
  }),
  sleepy: defineJob<{ key: string }>({
    queue: 'suite-main',
    name: 'sleepy',
    attempts: 1,
    timeoutMs: 200,
  }),
  counted: defineJob<{ key: string }>({ queue: 'suite-main', name: 'counted', attempts: 1 }),
  tick: defineJob<{ key: string }>({ queue: 'suite-cron', name: 'tick', attempts: 1 }),
  gated: defineJob<{ key: string }>({ queue: 'suite-slow', name: 'gated', attempts: 1 }),
  quick: defineJob<{ key: string }>({ queue: 'suite-fast', name: 'quick', attempts: 1 }),
  slow: defineJob<{ key: string; ms: number }>({ queue: 'suite-close', name: 'slow', attempts: 1 }),
} as const;

/** What the suite's handlers observed, by payload key. */
export class SuiteProbe {
  readonly runs = new Map<string, number>();
  readonly attempts = new Map<string, Array<{ attempt: number; at: number }>>();
  readonly started = new Set<string>();
  readonly finished = new Set<string>();
  readonly aborted = new Set<string>();
  private readonly gates = new Map<string, () => void>();
  private readonly gatePromises = new Map<string, Promise<void>>();

  count(key: string): number {
    return this.runs.get(key) ?? 0;
  }

  hit(key: string): number {
    const n = this.count(key) + 1;
    this.runs.set(key, n);
    return n;
  }

  gate(key: string): Promise<void> {
    let promise = this.gatePromises.get(key);
    if (promise === undefined) {
      promise = new Promise<void>((resolve) => this.gates.set(key, resolve));
      this.gatePromises.set(key, promise);
    }
    return promise;
  }

  open(key: string): void {
    void this.gate(key);
    this.gates.get(key)?.();
  }

  /** The handlers of `suiteJobs`, checked by a `JobRegistry` like a real start-up. */
  handlers(): ReadonlyMap<string, JobHandlerBinding> {
    const bind = <P>(
      definition: JobDefinition<P>,
      handle: (payload: P, context: JobContext) => Promise<unknown>,
    ): JobHandlerBinding => ({
      definition,
      source: `suite.${definition.name}`,
      handle: (payload, context) => handle(payload as P, context),
    });
    const jobs = suiteJobs;
    return new JobRegistry(Object.values(jobs), [
      bind(jobs.echo, async (p, job) => {
        job.log(`echo ${p.text}`);
        job.progress(0.5);
        await sleep(5);
        job.progress(1);
        return { echoed: p.text, attempt: job.attempt, id: job.id };
      }),
      bind(jobs.flaky, async (p, job) => {
        this.hit(p.key);
        this.attempts.set(p.key, [
          ...(this.attempts.get(p.key) ?? []),
          { attempt: job.attempt, at: Date.now() },
        ]);
        if (job.attempt <= p.failTimes)
          throw new Error(`flaky ${p.key} failed on try ${job.attempt}`);
        await Promise.resolve();
        return { okOnTry: job.attempt };
      }),
      bind(jobs.sleepy, async (p, job) => {
        this.started.add(p.key);
        await new Promise<void>((resolve) => {
          job.signal.addEventListener('abort', () => resolve(), { once: true });
        });
        this.aborted.add(p.key);
        return 'never reported';
      }),
      bind(jobs.counted, async (p) => {
        this.hit(p.key);
        await sleep(20);
        return this.count(p.key);
      }),
      bind(jobs.tick, async (p) => {
        await Promise.resolve();
        return this.hit(p.key);
      }),
      bind(jobs.gated, async (p) => {
        this.started.add(p.key);
        await this.gate(p.key);
        this.finished.add(p.key);
        return 'released';
      }),
      bind(jobs.quick, async (p) => {
        await Promise.resolve();
        this.finished.add(p.key);
        return 'quick';
      }),
      bind(jobs.slow, async (p) => {
        this.started.add(p.key);
        await sleep(p.ms);
        this.finished.add(p.key);
        return 'slow done';
      }),
    ]).handlers;
  }
}

// --------------------------------------------------------------------------- helpers

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

export async function waitForState(
  driver: Pick<QueueDriver, 'get'>,
  id: string,
  states: readonly JobState[],
  timeoutMs = 10_000,
): Promise<JobRecord> {
  let last: JobRecord | undefined;
  try {
    return await waitFor(
      `job ${id} to be ${states.join('|')}`,
      async () => {
        last = await driver.get(id);
        return last !== undefined && states.includes(last.state) ? last : undefined;
      },
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${JSON.stringify(last)}`);
  }
}

// --------------------------------------------------------------------------- the suite

export function runQueueDriverSuite(
  name: string,
  makeDriver: () => Promise<QueueDriverFixture>,
): void {
  describe(`QueueDriver contract: ${name}`, () => {
    let fixture: QueueDriverFixture | undefined;
    const probe = new SuiteProbe();
    const driver = (): QueueDriver => {
      if (fixture === undefined) throw new Error('driver fixture not created');
      return fixture.driver;
    };
    const key = (label: string): string => `${label}-${randomUUID().slice(0, 8)}`;

    before(async () => {
      fixture = await makeDriver();
      await fixture.driver.start(probe.handlers(), 'all');
    });

    after(async () => {
      if (fixture === undefined) return;
      await fixture.driver.close();
      await fixture.cleanup();
    });

    it('runs an enqueued job with its payload and keeps the result in the history', async () => {
      const enqueued = await driver().enqueue(suiteJobs.echo, { text: 'hello' });
      assert.equal(enqueued.queue, 'suite-main');
      assert.equal(enqueued.name, 'echo');
      assert.ok(['waiting', 'active', 'completed'].includes(enqueued.state), enqueued.state);
      assert.deepEqual(enqueued.payload, { text: 'hello' });
      assert.equal(enqueued.maxAttempts, 1);
      assert.ok(enqueued.createdAt instanceof Date);

      const done = await waitForState(driver(), enqueued.id, ['completed', 'failed']);
      assert.equal(done.state, 'completed', done.error);
      assert.deepEqual(done.result, { echoed: 'hello', attempt: 1, id: enqueued.id });
      assert.equal(done.attempts, 1);
      assert.deepEqual(done.logs, ['echo hello']);
      assert.equal(done.progress, 1);
      assert.equal(done.error, undefined);
      assert.ok(done.finishedAt instanceof Date && done.startedAt instanceof Date);
      assert.ok(done.finishedAt.getTime() >= done.createdAt.getTime());

      const history = await driver().history({ queue: 'suite-main', name: 'echo' });
      const listed = history.find((r) => r.id === enqueued.id);
      assert.ok(listed, 'the job is in the history');
      assert.equal(listed.state, 'completed');
      assert.deepEqual(listed.result, done.result);
    });

    it('lists the history newest first, filtered by queue and name, limited', async () => {
      const ids: string[] = [];
      for (const text of ['h1', 'h2', 'h3']) {
        ids.push((await driver().enqueue(suiteJobs.echo, { text })).id);
        await sleep(5);
      }
      for (const id of ids) await waitForState(driver(), id, ['completed']);
      const limited = await driver().history({ queue: 'suite-main', name: 'echo', limit: 2 });
      assert.equal(limited.length, 2);
      assert.deepEqual(
        limited.map((r) => r.id),
        [ids[2], ids[1]],
      );
      const all = await driver().history({});
      assert.ok(all.length >= 3);
      for (let i = 1; i < all.length; i++) {
        assert.ok(all[i - 1].createdAt.getTime() >= all[i].createdAt.getTime(), 'newest first');
      }
      assert.deepEqual(await driver().history({ queue: 'suite-fast', name: 'echo' }), []);
      assert.equal(await driver().get('no-such-job'), undefined);
    });

    it('retries a failing job with back-off and succeeds on the second try', async () => {
      const k = key('flaky-once');
      const job = await driver().enqueue(suiteJobs.flaky, { key: k, failTimes: 1 });
      const done = await waitForState(driver(), job.id, ['completed', 'failed']);
      assert.equal(done.state, 'completed', done.error);
      assert.deepEqual(done.result, { okOnTry: 2 });
      assert.equal(done.attempts, 2);
      const tries = probe.attempts.get(k) ?? [];
      assert.deepEqual(
        tries.map((t) => t.attempt),
        [1, 2],
      );
      const gap = tries[1].at - tries[0].at;
      assert.ok(gap >= 140, `waited ${gap} ms before the retry (back-off 150 ms)`);
    });

    it('marks a job failed with its error after the last try, backing off exponentially', async () => {
      const k = key('flaky-always');
      const job = await driver().enqueue(suiteJobs.flaky, { key: k, failTimes: 99 });
      const done = await waitForState(driver(), job.id, ['failed', 'completed']);
      assert.equal(done.state, 'failed');
      assert.equal(done.attempts, 3);
      assert.equal(done.maxAttempts, 3);
      assert.match(done.error ?? '', new RegExp(`flaky ${k} failed on try 3`));
      assert.equal(done.result, undefined);
      assert.ok(done.finishedAt instanceof Date);
      const tries = probe.attempts.get(k) ?? [];
      assert.equal(tries.length, 3);
      const first = tries[1].at - tries[0].at;
      const second = tries[2].at - tries[1].at;
      assert.ok(first >= 140, `first back-off ${first} ms (150 expected)`);
      assert.ok(second >= 290, `second back-off ${second} ms (300 expected)`);
      const failed = (await driver().history({ queue: 'suite-main', name: 'flaky' })).find(
        (r) => r.id === job.id,
      );
      assert.equal(failed?.state, 'failed');
      assert.equal(failed.error, done.error);
    });

    it('fails a try that exceeds timeoutMs and aborts its signal', async () => {
      const k = key('sleepy');
      const job = await driver().enqueue(suiteJobs.sleepy, { key: k });
      const done = await waitForState(driver(), job.id, ['failed', 'completed']);
      assert.equal(done.state, 'failed');
      assert.match(done.error ?? '', /timed out after 200 ms/);
      await waitFor('the handler to see the abort', () =>
        probe.aborted.has(k) ? true : undefined,
      );
    });

    it('delays a job by delayMs', async () => {
      const started = Date.now();
      const job = await driver().enqueue(suiteJobs.echo, { text: 'later' }, { delayMs: 400 });
      assert.equal(job.state, 'delayed');
      const done = await waitForState(driver(), job.id, ['completed']);
      assert.ok(
        done.finishedAt!.getTime() - started >= 390,
        `ran ${done.finishedAt!.getTime() - started} ms after enqueue`,
      );
    });

    it('runs a job once when it is enqueued twice with the same jobId', async () => {
      const k = key('dedupe');
      const jobId = `dedupe-${k}`;
      const first = await driver().enqueue(suiteJobs.counted, { key: k }, { jobId });
      const second = await driver().enqueue(suiteJobs.counted, { key: k }, { jobId });
      assert.equal(first.id, jobId);
      assert.equal(second.id, jobId);
      await waitForState(driver(), jobId, ['completed']);
      const third = await driver().enqueue(suiteJobs.counted, { key: k }, { jobId });
      assert.equal(third.state, 'completed');
      await sleep(200);
      assert.equal(probe.count(k), 1);
      const listed = (await driver().history({ queue: 'suite-main', name: 'counted' })).filter(
        (r) => r.id === jobId,
      );
      assert.equal(listed.length, 1);
    });

    it('rejects undeclared jobs, bad job ids and bad cron expressions', async () => {
      const undeclared = defineJob<{ x: number }>({ queue: 'suite-main', name: 'undeclared' });
      await assert.rejects(driver().enqueue(undeclared, { x: 1 }), UnknownJobError);
      await assert.rejects(driver().schedule(undeclared, '* * * * *', { x: 1 }), UnknownJobError);
      await assert.rejects(
        driver().enqueue(suiteJobs.echo, { text: 'x' }, { jobId: 'a:b' }),
        /must not contain ':'/,
      );
      await assert.rejects(
        driver().enqueue(suiteJobs.echo, { text: 'x' }, { jobId: '42' }),
        /must not be an integer/,
      );
      await assert.rejects(
        driver().schedule(suiteJobs.tick, '* * *', { key: 'x' }),
        /must have 5 fields/,
      );
      await assert.rejects(
        driver().schedule(suiteJobs.tick, '61 * * * *', { key: 'x' }),
        /invalid cron expression/,
      );
    });

    it('fires a cron schedule, replaces it on re-schedule and stops on unschedule', async () => {
      const a = key('tick-a');
      const b = key('tick-b');
      await driver().schedule(suiteJobs.tick, '*/1 * * * * *', { key: a });
      await waitFor(
        'the schedule to fire once',
        () => (probe.count(a) >= 1 ? true : undefined),
        5000,
      );
      await driver().schedule(suiteJobs.tick, '*/1 * * * * *', { key: b });
      await waitFor(
        'the new schedule to fire twice',
        () => (probe.count(b) >= 2 ? true : undefined),
        6000,
      );
      const aAfterReplace = probe.count(a);
      await driver().unschedule(suiteJobs.tick);
      await sleep(300); // a job already handed to the worker may still finish
      const bAfterStop = probe.count(b);
      await sleep(2200);
      assert.equal(probe.count(b), bAfterStop, 'no fire after unschedule');
      assert.ok(probe.count(a) <= aAfterReplace + 1, 'the replaced schedule no longer fires');
      const ticks = await driver().history({ queue: 'suite-cron', name: 'tick', limit: 1000 });
      assert.ok(ticks.filter((r) => r.state === 'completed').length >= 3);
      await driver().unschedule(suiteJobs.tick); // idempotent
    });

    it('runs queues independently, one job at a time per queue by default', async () => {
      const g1 = key('gate-1');
      const g2 = key('gate-2');
      const q = key('quick');
      const first = await driver().enqueue(suiteJobs.gated, { key: g1 });
      await waitFor('the gated job to start', () => (probe.started.has(g1) ? true : undefined));
      const second = await driver().enqueue(suiteJobs.gated, { key: g2 });
      const quick = await driver().enqueue(suiteJobs.quick, { key: q });
      await waitForState(driver(), quick.id, ['completed']);
      assert.equal((await driver().get(first.id))?.state, 'active');
      await sleep(100);
      assert.equal((await driver().get(second.id))?.state, 'waiting');
      assert.ok(!probe.started.has(g2), 'the second job of the busy queue has not started');
      probe.open(g1);
      probe.open(g2);
      await waitForState(driver(), first.id, ['completed']);
      const secondDone = await waitForState(driver(), second.id, ['completed']);
      assert.equal(secondDone.result, 'released');
    });

    it('close() waits for the active job and then refuses new work', async () => {
      const own = await makeDriver();
      try {
        await own.driver.start(probe.handlers(), 'all');
        const k = key('slow');
        const job = await own.driver.enqueue(suiteJobs.slow, { key: k, ms: 600 });
        await waitFor('the slow job to start', () => (probe.started.has(k) ? true : undefined));
        await own.driver.close();
        assert.ok(probe.finished.has(k), 'close() returned before the active job finished');
        await assert.rejects(own.driver.enqueue(suiteJobs.slow, { key: k, ms: 1 }), /closed/);
        await own.driver.close(); // idempotent
        assert.ok(job.id);
      } finally {
        await own.driver.close();
        await own.cleanup();
      }
    });
  });
}
