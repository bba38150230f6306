import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BullmqQueueDriver, type BullmqQueueDriverOptions } from './bullmq-queue.driver';
import {
  SuiteProbe,
  runQueueDriverSuite,
  suiteJobs,
  waitFor,
  waitForState,
} from './testing/queue-driver.suite';

const url = process.env['REDIS_URL'];

if (url === undefined || url === '') {
  describe('BullmqQueueDriver', () => {
    it('needs a Redis server', () => {
      assert.fail(
        'REDIS_URL is not set: start a local Redis first with\n' +
          '  eval "$(scripts/redis-server.sh start)"\n' +
          'which exports REDIS_URL=redis://127.0.0.1:56379 (stop it with scripts/redis-server.sh stop).',
      );
    });
  });
} else {
  /** Deletes every key under `prefix:` (the test's private namespace). */
  const dropPrefix = async (prefix: string): Promise<void> => {
    const redis = new Redis(url);
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      await redis.quit();
    }
  };
  const freshPrefix = (): string => `berth-test:${randomUUID().slice(0, 8)}`;
  const makeDriver = (
    prefix: string,
    extra: Partial<BullmqQueueDriverOptions> = {},
  ): BullmqQueueDriver => new BullmqQueueDriver({ url, prefix, ...extra });

  runQueueDriverSuite('bullmq', () => {
    const prefix = freshPrefix();
    return Promise.resolve({ driver: makeDriver(prefix), cleanup: () => dropPrefix(prefix) });
  });

  describe('BullmqQueueDriver', () => {
    const prefix = freshPrefix();
    after(() => dropPrefix(prefix));

    it('runs jobs enqueued by a producer process in a separate worker process', async () => {
      const producerProbe = new SuiteProbe();
      const workerProbe = new SuiteProbe();
      const producer = makeDriver(prefix);
      const worker = makeDriver(prefix);
      try {
        await producer.start(producerProbe.handlers(), 'producer');
        await worker.start(workerProbe.handlers(), 'worker');
        const job = await producer.enqueue(suiteJobs.quick, { key: 'split' });
        const done = await waitForState(producer, job.id, ['completed', 'failed']);
        assert.equal(done.state, 'completed', done.error);
        assert.ok(workerProbe.finished.has('split'), 'the worker ran it');
        assert.ok(!producerProbe.finished.has('split'), 'the producer did not');
      } finally {
        await worker.close();
        await producer.close();
      }
    });

    it('isolates registries that share one Redis by key prefix', async () => {
      const otherPrefix = freshPrefix();
      const mine = makeDriver(prefix);
      const other = makeDriver(otherPrefix);
      try {
        await mine.start(new SuiteProbe().handlers(), 'producer');
        await other.start(new SuiteProbe().handlers(), 'producer');
        const job = await mine.enqueue(suiteJobs.echo, { text: 'private' }, { jobId: 'shared-id' });
        assert.equal((await mine.get('shared-id'))?.id, job.id);
        assert.equal(await other.get('shared-id'), undefined);
        assert.deepEqual(await other.history({ queue: 'suite-main' }), []);
      } finally {
        await mine.close();
        await other.close();
        await dropPrefix(otherPrefix);
      }
    });

    it('keeps at most keepCompleted finished jobs per queue in Redis', async () => {
      const boundedPrefix = freshPrefix();
      const driver = makeDriver(boundedPrefix, { keepCompleted: 3 });
      try {
        await driver.start(new SuiteProbe().handlers(), 'all');
        const ids: string[] = [];
        for (let i = 0; i < 6; i++) {
          const job = await driver.enqueue(suiteJobs.echo, { text: `b${i}` });
          ids.push(job.id);
          await waitForState(driver, job.id, ['completed']);
        }
        await waitFor('trimming', async () =>
          (await driver.history({ queue: 'suite-main' })).length === 3 ? true : undefined,
        );
        assert.deepEqual(
          (await driver.history({ queue: 'suite-main' })).map((r) => r.id),
          ids.slice(3).reverse(),
        );
      } finally {
        await driver.close();
        await dropPrefix(boundedPrefix);
      }
    });

    it('close() aborts jobs still running after closeTimeoutMs', async () => {
      const probe = new SuiteProbe();
      const driver = makeDriver(prefix, { closeTimeoutMs: 100 });
      const reader = makeDriver(prefix);
      try {
        await driver.start(probe.handlers(), 'all');
        await reader.start(probe.handlers(), 'producer');
        const job = await driver.enqueue(suiteJobs.gated, { key: 'stuck' });
        await waitFor('the job to start', () => (probe.started.has('stuck') ? true : undefined));
        const started = Date.now();
        await driver.close();
        assert.ok(Date.now() - started < 2000, 'close() did not hang on a stuck job');
        const record = await waitForState(reader, job.id, ['failed']);
        assert.match(record.error ?? '', /driver closed/);
      } finally {
        probe.open('stuck');
        await driver.close();
        await reader.close();
      }
    });

    it('fails start() with a clear error when Redis is unreachable', async () => {
      const driver = new BullmqQueueDriver({
        url: 'redis://127.0.0.1:1',
        connectTimeoutMs: 500,
        onError: () => undefined,
      });
      await assert.rejects(
        driver.start(new SuiteProbe().handlers(), 'all'),
        /cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
      );
    });
  });

  describe('Redis for the tests', () => {
    let redis: Redis | undefined;
    before(() => {
      redis = new Redis(url, { lazyConnect: true });
    });
    after(async () => {
      await redis?.quit();
    });
    it('uses maxmemory-policy noeviction (BullMQ requirement)', async () => {
      await redis?.connect();
      const policy = await redis?.config('GET', 'maxmemory-policy');
      assert.deepEqual(policy, ['maxmemory-policy', 'noeviction']);
    });
  });
}
