import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { allocatePort, isPortBindable } from './port-allocator';

function listen(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('allocatePort', () => {
  let busy: Server;
  let busyPort = 0;

  before(async () => {
    busy = await listen(0);
    const address = busy.address();
    assert.ok(address !== null && typeof address === 'object');
    busyPort = address.port;
  });
  after(() => new Promise<void>((resolve) => busy.close(() => resolve())));

  it('skips the ports of other registries', async () => {
    // Start above the busy port so the range holds no port in use by other programs.
    const free = await allocatePort(new Set(), { start: busyPort + 1, end: busyPort + 50 });
    const next = await allocatePort(new Set([free]), { start: free, end: free + 50 });
    assert.notEqual(next, free);
    assert.ok(next > free && next <= free + 50);
  });

  it('skips a port another program listens on', async () => {
    assert.equal(await isPortBindable(busyPort), false);
    const port = await allocatePort(new Set(), { start: busyPort, end: busyPort + 50 });
    assert.notEqual(port, busyPort);
    assert.equal(await isPortBindable(port), true);
  });

  it('fails with the reason when the range is exhausted', async () => {
    await assert.rejects(
      allocatePort(new Set([busyPort + 1]), { start: busyPort, end: busyPort + 1 }),
      /no free port in \d+-\d+: 1 held by registries, 1 in use by other programs/,
    );
  });

  it('refuses an empty or invalid range', async () => {
    await assert.rejects(allocatePort(new Set(), { start: 5010, end: 5000 }), /is empty/);
    await assert.rejects(allocatePort(new Set(), { start: 0, end: 10 }), /not within 1-65535/);
  });
});
