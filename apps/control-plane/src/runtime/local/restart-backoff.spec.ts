import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restartDelayMs } from './restart-backoff';

describe('restartDelayMs', () => {
  const policy = { restartInitialDelayMs: 500, restartMaxDelayMs: 30_000, failedAfterCrashes: 5 };

  it('doubles from the initial delay per crash, up to the maximum', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((crash) => restartDelayMs(policy, crash, 0));
    assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('stays at the maximum for huge crash counts', () => {
    assert.equal(restartDelayMs(policy, 10_000, 0), 30_000);
  });

  it('waits the maximum once the tenant counts as failed', () => {
    assert.equal(restartDelayMs(policy, 5, 5), 30_000);
    assert.equal(restartDelayMs(policy, 4, 4), 4000);
  });
});
