import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBlob } from '../testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';

/**
 * Uploads hashed on a worker thread, end to end. On two cores the default is no worker (see
 * `defaultHashWorkers`), so the other suites hash on the event loop; this one asks for a
 * worker and sends bodies above the inline threshold (4 MiB) or of unknown length.
 */
describe('uploads hashed on a worker thread (real PostgreSQL and filesystem)', () => {
  let registry: TestRegistry;
  const call = (method: string, path: string, init: RequestInit = {}) =>
    fetch(`${registry.url}${path}`, { method, ...init });

  before(async () => {
    registry = await startTestRegistry({ REGISTRY_HASH_WORKERS: '1' });
  });
  after(async () => {
    await registry.close();
  });

  it('verifies a large monolithic push and refuses one whose digest does not match', async () => {
    const blob = randomBlob(6 * 1024 * 1024);
    const pushed = await call('POST', `/v2/worker/app/blobs/uploads/?digest=${blob.digest}`, {
      body: blob.data,
    });
    assert.equal(pushed.status, 201);
    const pulled = await call('GET', `/v2/worker/app/blobs/${blob.digest}`);
    assert.equal(pulled.status, 200);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(blob.data));

    const other = randomBlob(5 * 1024 * 1024);
    const wrong = await call('POST', `/v2/worker/app/blobs/uploads/?digest=${blob.digest}`, {
      body: other.data,
    });
    assert.equal(wrong.status, 400);
    assert.equal(
      ((await wrong.json()) as { errors: { code: string }[] }).errors[0]?.code,
      'DIGEST_INVALID',
    );
  });

  it('carries the running hash across chunks, one of them of unknown length', async () => {
    const blob = randomBlob(9 * 1024 * 1024);
    const started = await call('POST', '/v2/worker/chunks/blobs/uploads/');
    assert.equal(started.status, 202);
    let location = started.headers.get('location') ?? '';
    const first = await call('PATCH', location, {
      body: blob.data.subarray(0, 5 * 1024 * 1024),
      headers: { 'Content-Range': `0-${5 * 1024 * 1024 - 1}` },
    });
    assert.equal(first.status, 202);
    location = first.headers.get('location') ?? '';
    // A streamed body: no Content-Length, so the hasher cannot know it is small.
    const rest = blob.data.subarray(5 * 1024 * 1024);
    const streamed = await call('PATCH', location, {
      body: new ReadableStream({
        start(controller) {
          for (let at = 0; at < rest.length; at += 1024 * 1024) {
            controller.enqueue(rest.subarray(at, at + 1024 * 1024));
          }
          controller.close();
        },
      }),
      duplex: 'half',
    });
    assert.equal(streamed.status, 202);
    location = streamed.headers.get('location') ?? '';
    const separator = location.includes('?') ? '&' : '?';
    const done = await call('PUT', `${location}${separator}digest=${blob.digest}`);
    assert.equal(done.status, 201);
    const head = await call('HEAD', `/v2/worker/chunks/blobs/${blob.digest}`);
    assert.equal(head.headers.get('content-length'), String(blob.data.length));
  });
});
