import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBlob } from '../testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';

const ADMIN = 'Basic ' + Buffer.from('admin:admin-password-1').toString('base64');

for (const driver of ['in-process', 'bullmq'] as const) {
  describe(`background jobs through the admin API (${driver} queue)`, () => {
    let registry: TestRegistry;
    before(async () => {
      if (driver === 'bullmq' && !process.env.REDIS_URL) {
        throw new Error(
          'REDIS_URL is not set: start Redis with `eval "$(scripts/redis-server.sh start)"`',
        );
      }
      registry = await startTestRegistry({
        REGISTRY_AUTH: 'token',
        REGISTRY_ADMIN_PASSWORD: 'admin-password-1',
        REGISTRY_GC_GRACE_SECONDS: '0',
        ...(driver === 'bullmq'
          ? {
              REDIS_URL: process.env.REDIS_URL ?? '',
              REGISTRY_QUEUE_PREFIX: `berth-test-${Date.now()}`,
            }
          : {}),
      });
    });
    after(async () => {
      await registry.close();
    });

    async function admin(method: string, path: string, body?: unknown): Promise<Response> {
      return fetch(`${registry.url}/admin/v1${path}`, {
        method,
        headers: { Authorization: ADMIN, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    }

    it('runs garbage collection on demand and shows it in the job history', async () => {
      const token = (
        (await (
          await fetch(`${registry.url}/auth/token?scope=repository:jobs/app:push,pull`, {
            headers: { Authorization: ADMIN },
          })
        ).json()) as { token: string }
      ).token;
      const orphan = randomBlob(4096);
      const pushed = await fetch(
        `${registry.url}/v2/jobs/app/blobs/uploads/?digest=${orphan.digest}`,
        {
          method: 'POST',
          body: orphan.data,
          headers: { Authorization: `Bearer ${token}` },
        },
      );
      assert.equal(pushed.status, 201);
      const definitions = (await (await admin('GET', '/jobs/definitions')).json()) as {
        name: string;
      }[];
      assert.deepEqual(
        definitions.map((d) => d.name),
        ['gc', 'retention'],
      );
      const triggered = await admin('POST', '/jobs/maintenance/gc', { dryRun: false });
      assert.equal(triggered.status, 201, await triggered.clone().text());
      const job = (await triggered.json()) as { id: string };
      let record:
        | { id: string; state: string; result?: { blobs: { count: number; bytes: number } } }
        | undefined;
      for (let i = 0; i < 100; i++) {
        const history = (await (
          await admin('GET', '/jobs?queue=maintenance&name=gc')
        ).json()) as (typeof record)[];
        record = history.find((r) => r?.id === job.id);
        if (record?.state === 'completed' || record?.state === 'failed') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(record?.state, 'completed', JSON.stringify(record));
      assert.equal(record?.result?.blobs.count, 1);
      assert.equal(record?.result?.blobs.bytes, 4096);
      const head = await fetch(`${registry.url}/v2/jobs/app/blobs/${orphan.digest}`, {
        method: 'HEAD',
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(head.status, 404);
      assert.equal((await admin('POST', '/jobs/maintenance/nope', {})).status, 404);
    });
  });
}
