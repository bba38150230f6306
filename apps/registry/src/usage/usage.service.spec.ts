import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DataSource } from 'typeorm';
import { UsageService, type StorageUsage } from './usage.service';

interface Row {
  blob_bytes: string;
  blobs: string;
  upload_bytes: string;
  uploads: string;
}

/** A database whose counting queries answer when the test says so. */
class FakeDatabase {
  readonly waiting: ((row: Row) => void)[] = [];
  queries = 0;

  query(): Promise<Row[]> {
    this.queries++;
    return new Promise((resolve) => this.waiting.push((row) => resolve([row])));
  }

  /** Answers the oldest waiting query; waits a turn first so the query has been sent. */
  async answer(blobBytes: number, blobs: number, uploadBytes = 0, uploads = 0): Promise<void> {
    await new Promise((r) => setImmediate(r));
    const next = this.waiting.shift();
    assert.ok(next, 'no query is waiting');
    next({
      blob_bytes: String(blobBytes),
      blobs: String(blobs),
      upload_bytes: String(uploadBytes),
      uploads: String(uploads),
    });
  }
}

function service(): { usage: UsageService; db: FakeDatabase } {
  const db = new FakeDatabase();
  return { usage: new UsageService(db as unknown as DataSource), db };
}

describe('storage usage cache', () => {
  it('follows this process changes between recounts without a query', async () => {
    const { usage, db } = service();
    const counted = usage.recount();
    await db.answer(1000, 2);
    assert.equal((await counted).totalBytes, 1000);
    usage.uploadStarted();
    usage.uploadGrew(300);
    assert.deepEqual(usage.cached(), {
      blobBytes: 1000,
      uploadBytes: 300,
      totalBytes: 1300,
      blobs: 2,
      uploads: 1,
    });
    usage.uploadEnded(300);
    usage.blobStored(300);
    assert.deepEqual(usage.cached(), {
      blobBytes: 1300,
      uploadBytes: 0,
      totalBytes: 1300,
      blobs: 3,
      uploads: 0,
    });
    assert.equal(db.queries, 1);
  });

  it('adds changes made while a count runs to its result', async () => {
    const { usage, db } = service();
    const counted = usage.recount();
    await new Promise((r) => setImmediate(r));
    usage.blobStored(50);
    await db.answer(1000, 1);
    assert.equal((await counted).totalBytes, 1050);
    assert.equal(usage.cached().totalBytes, 1050);
  });

  it('runs one count at a time and queues one more for callers during a count', async () => {
    const { usage, db } = service();
    const seen: StorageUsage[] = [];
    usage.onRecount((u) => seen.push(u));
    const first = usage.recount();
    await new Promise((r) => setImmediate(r));
    const second = usage.recount();
    const third = usage.recount();
    assert.equal(second, third, 'callers during a count share the next one');
    assert.equal(db.queries, 1);
    await db.answer(10, 1);
    assert.equal((await first).totalBytes, 10);
    // The queued count starts only now, so it sees what committed during the first one.
    await db.answer(20, 2);
    assert.equal((await second).totalBytes, 20);
    assert.equal(db.queries, 2);
    assert.deepEqual(
      seen.map((u) => u.totalBytes),
      [10, 20],
    );
  });
});
