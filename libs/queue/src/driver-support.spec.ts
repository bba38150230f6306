import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertValidCron, executeJob, nextCronDate } from './driver-support';
import { backoffDelayMs, defineJob } from './job-definition';
import { JobTimeoutError, type JobHandlerBinding } from './queue-driver';

describe('cron helpers', () => {
  it('accepts 5- and 6-field expressions with lists, ranges and steps', () => {
    for (const cron of [
      '* * * * *',
      '*/15 9-17 * * 1-5',
      '0 3 1,15 * *',
      '*/1 * * * * *',
      '30 0 4 * * 0',
    ]) {
      assert.doesNotThrow(() => assertValidCron(cron), cron);
    }
    assert.throws(() => assertValidCron('* * * *'), /must have 5 fields/);
    assert.throws(() => assertValidCron('* * * * * * *'), /must have 5 fields/);
    assert.throws(() => assertValidCron('60 * * * *'), /invalid cron expression/);
    assert.throws(() => assertValidCron('* * * 13 *'), /invalid cron expression/);
  });

  it('computes the next fire time strictly after a date', () => {
    const base = new Date(2030, 0, 1, 10, 7, 30, 500); // local time, like the drivers
    assert.deepEqual(nextCronDate('*/15 * * * *', base), new Date(2030, 0, 1, 10, 15, 0, 0));
    assert.deepEqual(nextCronDate('*/10 * * * * *', base), new Date(2030, 0, 1, 10, 7, 40, 0));
    assert.deepEqual(nextCronDate('0 3 * * *', base), new Date(2030, 0, 2, 3, 0, 0, 0));
  });

  it('backs off exponentially like BullMQ', () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((n) => backoffDelayMs(100, n)),
      [100, 200, 400, 800],
    );
  });
});

describe('executeJob', () => {
  const job = defineJob<null>({ queue: 'q', name: 'n' });
  const bind = (handle: JobHandlerBinding['handle']): JobHandlerBinding => ({
    definition: job,
    source: 'test',
    handle,
  });
  const execution = {
    id: 'j1',
    attempt: 1,
    timeoutMs: undefined,
    log: () => undefined,
    progress: () => undefined,
  };

  it('passes the context and returns the result', async () => {
    const logs: string[] = [];
    const progress: number[] = [];
    const result = await executeJob(
      bind((_payload, context) => {
        context.log('hi');
        context.progress(2);
        context.progress(-1);
        return Promise.resolve(`${context.id}#${context.attempt}`);
      }),
      null,
      { ...execution, log: (m) => logs.push(m), progress: (f) => progress.push(f) },
    );
    assert.equal(result, 'j1#1');
    assert.deepEqual(logs, ['hi']);
    assert.deepEqual(progress, [1, 0]);
  });

  it('rejects with JobTimeoutError and aborts the signal on timeout', async () => {
    let signal: AbortSignal | undefined;
    await assert.rejects(
      executeJob(
        bind((_payload, context) => {
          signal = context.signal;
          return new Promise(() => undefined);
        }),
        null,
        { ...execution, timeoutMs: 50 },
      ),
      JobTimeoutError,
    );
    assert.equal(signal?.aborted, true);
  });

  it('rejects at once when the driver aborts', async () => {
    const controller = new AbortController();
    const running = executeJob(
      bind(() => new Promise(() => undefined)),
      null,
      {
        ...execution,
        signal: controller.signal,
      },
    );
    controller.abort(new Error('shutting down'));
    await assert.rejects(running, /shutting down/);
  });
});
