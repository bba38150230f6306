import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { FaultyStorage } from '../testing/faulty-storage';
import { randomBlob } from '../testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';

let registry: TestRegistry;
let storage: FaultyStorage | undefined;

async function call(method: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${registry.url}${path}`, { method, ...init });
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const client = new Client({ connectionString: registry.databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ n: string }>(sql, params);
    return Number(result.rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

/** Sends a request whose body stops after `sent` of `declared` bytes, then drops the connection. */
async function sendTruncated(
  method: string,
  path: string,
  declared: number,
  sent: Buffer,
): Promise<void> {
  const { port } = new URL(registry.url);
  await new Promise<void>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n` +
          `Content-Length: ${declared}\r\n\r\n`,
      );
      socket.write(sent, () => setTimeout(() => socket.destroy(), 100));
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  // Give the server a moment to notice the abort and roll the chunk back.
  await new Promise((r) => setTimeout(r, 300));
}

async function startUpload(repo: string): Promise<string> {
  const res = await call('POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(res.status, 202);
  return res.headers.get('location') ?? '';
}

describe('uploads under faults (real PostgreSQL and filesystem, injected storage failures)', () => {
  before(async () => {
    registry = await startTestRegistry(
      {},
      {
        decorateStorage: (driver) => (storage = new FaultyStorage(driver)),
      },
    );
  });
  after(async () => {
    await registry.close();
  });

  it('answers 5xx and records nothing when storage fails to commit a blob', async () => {
    const blob = randomBlob(50_000);
    storage?.arm('commitUpload');
    const res = await call('POST', `/v2/faults/app/blobs/uploads/?digest=${blob.digest}`, {
      body: blob.data,
    });
    storage?.disarm();
    assert.equal(res.status, 500);
    assert.equal((await call('HEAD', `/v2/faults/app/blobs/${blob.digest}`)).status, 404);
    assert.equal(
      await count('SELECT count(*) AS n FROM blobs WHERE digest = $1', [blob.digest]),
      0,
    );
    const retry = await call('POST', `/v2/faults/app/blobs/uploads/?digest=${blob.digest}`, {
      body: blob.data,
    });
    assert.equal(retry.status, 201);
  });

  it('keeps an upload usable after a storage failure in the middle of a chunk', async () => {
    const blob = randomBlob(200_000);
    const location = await startUpload('faults/chunks');
    const first = await call('PATCH', location, {
      body: blob.data.subarray(0, 100_000),
      headers: { 'Content-Range': '0-99999' },
    });
    assert.equal(first.status, 202);
    storage?.arm('midWrite');
    const failed = await call('PATCH', location, {
      body: blob.data.subarray(100_000),
      headers: { 'Content-Range': '100000-199999' },
    });
    storage?.disarm();
    assert.ok(failed.status >= 500, `status ${failed.status}`);
    const status = await call('GET', location);
    assert.equal(status.headers.get('range'), '0-99999');
    const retry = await call('PATCH', location, {
      body: blob.data.subarray(100_000),
      headers: { 'Content-Range': '100000-199999' },
    });
    assert.equal(retry.status, 202);
    const done = await call('PUT', `${location}?digest=${blob.digest}`);
    assert.equal(done.status, 201);
    const pulled = Buffer.from(
      await (await call('GET', `/v2/faults/chunks/blobs/${blob.digest}`)).arrayBuffer(),
    );
    assert.deepEqual(pulled, blob.data);
  });

  it('rolls back a chunk whose client disconnects half way', async () => {
    const blob = randomBlob(300_000);
    const location = await startUpload('faults/disconnect');
    const first = await call('PATCH', location, {
      body: blob.data.subarray(0, 100_000),
      headers: { 'Content-Range': '0-99999' },
    });
    assert.equal(first.status, 202);
    await sendTruncated('PATCH', location, 200_000, blob.data.subarray(100_000, 150_000));
    const status = await call('GET', location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-99999');
    const rest = await call('PATCH', location, { body: blob.data.subarray(100_000) });
    assert.equal(rest.status, 202);
    const done = await call('PUT', `${location}?digest=${blob.digest}`);
    assert.equal(done.status, 201);
    const pulled = Buffer.from(
      await (await call('GET', `/v2/faults/disconnect/blobs/${blob.digest}`)).arrayBuffer(),
    );
    assert.deepEqual(pulled, blob.data);
  });

  it('never makes a truncated monolithic push visible', async () => {
    const blob = randomBlob(120_000);
    await sendTruncated(
      'POST',
      `/v2/faults/truncated/blobs/uploads/?digest=${blob.digest}`,
      blob.data.length,
      blob.data.subarray(0, 60_000),
    );
    assert.equal((await call('HEAD', `/v2/faults/truncated/blobs/${blob.digest}`)).status, 404);
    assert.equal(
      await count('SELECT count(*) AS n FROM blobs WHERE digest = $1', [blob.digest]),
      0,
    );
  });

  it('refuses a body shorter than its Content-Range without committing it', async () => {
    const blob = randomBlob(1000);
    const location = await startUpload('faults/short');
    const res = await call('PATCH', location, {
      body: blob.data.subarray(0, 500),
      headers: { 'Content-Range': '0-999' },
    });
    assert.equal(res.status, 416);
    const status = await call('GET', location);
    assert.equal(status.headers.get('range'), '0-0');
  });
});
