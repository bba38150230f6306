import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InProcessQueueDriver } from './in-process-queue.driver';
import {
  SuiteProbe,
  runQueueDriverSuite,
  suiteJobs,
  waitFor,
  waitForState,
} from './testing/queue-driver.suite';

runQueueDriverSuite('in-process', () =>
  Promise.resolve({ driver: new InProcessQueueDriver(), cleanup: () => Promise.resolve() }),
);

describe('InProcessQueueDriver', () => {
  it('runs jobs of one queue in parallel up to its concurrency', async () => {
    const probe = new SuiteProbe();
    const driver = new InProcessQueueDriver({ concurrency: { 'suite-slow': 2 } });
    try {
      await driver.start(probe.handlers(), 'all');
      const jobs = await Promise.all(
        ['c1', 'c2', 'c3'].map((key) => driver.enqueue(suiteJobs.gated, { key })),
      );
      await waitFor('two jobs to start', () =>
        probe.started.has('c1') && probe.started.has('c2') ? true : undefined,
      );
      assert.equal((await driver.get(jobs[2].id))?.state, 'waiting');
      probe.open('c1');
      await waitFor('the third job to start', () => (probe.started.has('c3') ? true : undefined));
      probe.open('c2');
      probe.open('c3');
      for (const job of jobs) await waitForState(driver, job.id, ['completed']);
    } finally {
      await driver.close();
    }
  });

  it('keeps only the last historyLimit finished jobs', async () => {
    const driver = new InProcessQueueDriver({ historyLimit: 5 });
    try {
      await driver.start(new SuiteProbe().handlers(), 'all');
      const ids: string[] = [];
      for (let i = 0; i < 8; i++) {
        const job = await driver.enqueue(suiteJobs.echo, { text: `n${i}` });
        ids.push(job.id);
        await waitForState(driver, job.id, ['completed']);
      }
      const history = await driver.history({ limit: 1000 });
      assert.deepEqual(
        history.map((r) => r.id),
        ids.slice(3).reverse(),
      );
      assert.equal(await driver.get(ids[0]), undefined);
    } finally {
      await driver.close();
    }
  });

  it('close() aborts jobs still running after closeTimeoutMs', async () => {
    const probe = new SuiteProbe();
    const driver = new InProcessQueueDriver({ closeTimeoutMs: 100 });
    await driver.start(probe.handlers(), 'all');
    const job = await driver.enqueue(suiteJobs.gated, { key: 'stuck' });
    await waitFor('the job to start', () => (probe.started.has('stuck') ? true : undefined));
    const started = Date.now();
    await driver.close();
    assert.ok(Date.now() - started < 1000, 'close() did not hang on a stuck job');
    const record = await driver.get(job.id);
    assert.equal(record?.state, 'failed');
    assert.match(record.error ?? '', /driver closed/);
    probe.open('stuck');
  });

  it('does not run jobs in the producer role', async () => {
    const probe = new SuiteProbe();
    const driver = new InProcessQueueDriver();
    try {
      await driver.start(probe.handlers(), 'producer');
      const job = await driver.enqueue(suiteJobs.quick, { key: 'p' });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal((await driver.get(job.id))?.state, 'waiting');
    } finally {
      await driver.close();
    }
  });

  it('refuses to be used before start()', async () => {
    const driver = new InProcessQueueDriver();
    await assert.rejects(driver.enqueue(suiteJobs.echo, { text: 'x' }), /not started/);
    await driver.close();
  });
});
