import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { randomBlob } from './testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from './testing/test-registry';

const BIN = join(__dirname, '..', '..', '..', 'bin', 'berth.js');

/** A PATCH whose body trickles in over `ms`, so that it is in flight when shutdown starts. */
function slowPatch(
  registry: TestRegistry,
  path: string,
  data: Buffer,
  ms: number,
  finish = true,
): Promise<number> {
  const { port } = new URL(registry.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'PATCH',
        headers: { 'Content-Length': data.length },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    const parts = 10;
    const size = Math.ceil(data.length / parts);
    let i = 0;
    const timer = setInterval(() => {
      if (i === parts - 1 && !finish) return; // never send the last part
      req.write(data.subarray(i * size, (i + 1) * size));
      if (++i === parts) {
        clearInterval(timer);
        req.end();
      }
    }, ms / parts);
    req.on('close', () => clearInterval(timer));
  });
}

describe('registry lifecycle', () => {
  it('finishes in-flight uploads on shutdown', async () => {
    const registry = await startTestRegistry({ SHUTDOWN_GRACE_MS: '5000' });
    const start = await fetch(`${registry.url}/v2/life/app/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    const blob = randomBlob(100_000);
    const patch = slowPatch(registry, location, blob.data, 1000);
    await new Promise((r) => setTimeout(r, 350)); // request received, body still arriving
    const closing = registry.running.close();
    assert.equal(await patch, 202);
    await closing;
    await registry.close();
  });

  it('abandons uploads that outlast the grace period, cleanly', async () => {
    const registry = await startTestRegistry({ SHUTDOWN_GRACE_MS: '300' });
    const start = await fetch(`${registry.url}/v2/life/app/blobs/uploads/`, { method: 'POST' });
    const location = start.headers.get('location') ?? '';
    const patch = slowPatch(registry, location, randomBlob(100_000).data, 1000, false).catch(
      () => 'aborted',
    );
    await new Promise((r) => setTimeout(r, 350)); // request received, body still arriving
    const began = Date.now();
    await registry.running.close();
    assert.ok(Date.now() - began < 3000, 'shutdown waited past the grace period');
    assert.equal(await patch, 'aborted');
    await registry.close();
  });

  it('refuses a wrong configuration at start with a readable message and a non-zero exit', () => {
    const result = spawnSync(process.execPath, [BIN, 'registry', 'serve'], {
      env: { ...process.env, PORT: 'http', STORAGE_DRIVER: 'tape', DATABASE_URL: '' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /PORT="http" is not a whole number/);
    assert.match(result.stderr, /STORAGE_DRIVER="tape" is not one of: filesystem, s3/);
  });

  it('collects garbage from the command line, dry run first', async () => {
    const registry = await startTestRegistry();
    const orphan = randomBlob(2048);
    const pushed = await fetch(
      `${registry.url}/v2/cli/app/blobs/uploads/?digest=${orphan.digest}`,
      {
        method: 'POST',
        body: orphan.data,
      },
    );
    assert.equal(pushed.status, 201);
    const env = {
      ...process.env,
      DATABASE_URL: registry.databaseUrl,
      DATA_DIR: registry.dataDir,
      REGISTRY_GC_GRACE_SECONDS: '0',
    };
    const dry = spawnSync(process.execPath, [BIN, 'registry', 'gc', '--dry-run'], {
      env,
      encoding: 'utf8',
    });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /would free 1 blobs \(2\.0 KiB\)/);
    assert.equal(
      (await fetch(`${registry.url}/v2/cli/app/blobs/${orphan.digest}`, { method: 'HEAD' })).status,
      200,
    );
    const real = spawnSync(process.execPath, [BIN, 'registry', 'gc'], { env, encoding: 'utf8' });
    assert.equal(real.status, 0, real.stderr);
    assert.match(real.stdout, /freed 1 blobs \(2\.0 KiB\)/);
    assert.equal(
      (await fetch(`${registry.url}/v2/cli/app/blobs/${orphan.digest}`, { method: 'HEAD' })).status,
      404,
    );
    const retention = spawnSync(process.execPath, [BIN, 'registry', 'retention', '--dry-run'], {
      env,
      encoding: 'utf8',
    });
    assert.equal(retention.status, 0, retention.stderr);
    assert.match(retention.stdout, /0 tags would be deleted/);
    await registry.close();
  });

  it('prints help for operators', () => {
    const result = spawnSync(process.execPath, [BIN, 'registry', 'serve', '--help'], {
      encoding: 'utf8',
    });
    assert.equal(result.status, 0);
    assert.match(result.stdout, /serve the OCI Distribution API/);
  });
});
