import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  WRITE_BLOCKED_ERROR_CODE,
  WRITE_BLOCKED_REASON_HEADER,
  type WriteGateStatus,
} from '@berth/platform-contracts';
import { GarbageCollector } from '../gc/garbage-collector';
import {
  OCI_MANIFEST,
  imageManifest,
  jsonBlob,
  randomBlob,
  sha256,
  type Blob,
} from '../testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';
import { TEST_ADMIN, TOKEN_AUTH_ENV, TokenClient } from '../testing/token-client';
import { QUOTA_RETRY_AFTER_SECONDS, MAINTENANCE_RETRY_AFTER_SECONDS } from './write-gate-policy';

interface ErrorBody {
  errors: { code: string; message: string }[];
}

/** Pushes through one repository with an admin token covering it and `from` (for mounts). */
async function pusher(registry: TestRegistry, repo: string, from = 'wg/other') {
  const client = new TokenClient(registry);
  const auth = await client.bearer(
    [`repository:${repo}:pull,push,delete`, `repository:${from}:pull,push,delete`],
    TEST_ADMIN,
  );
  return {
    client,
    auth,
    call: (method: string, path: string, body?: Buffer, headers: Record<string, string> = {}) =>
      client.call(method, path, auth, body, headers),
    pushBlob: (blob: Blob, into = repo) =>
      client.call('POST', `/v2/${into}/blobs/uploads/?digest=${blob.digest}`, auth, blob.data),
    pushManifest: (ref: string, body: Buffer) =>
      client.call('PUT', `/v2/${repo}/manifests/${ref}`, auth, body, {
        'Content-Type': OCI_MANIFEST,
      }),
    status: async (): Promise<WriteGateStatus> => {
      const res = await client.admin('GET', '/write-gate');
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as WriteGateStatus;
    },
    setGate: async (settings: unknown): Promise<WriteGateStatus> => {
      const res = await client.admin('PUT', '/write-gate', settings);
      assert.equal(res.status, 200, await res.clone().text());
      return (await res.json()) as WriteGateStatus;
    },
  };
}

/** A 503 of the write gate: OCI body, reason header, Retry-After. Returns the reason. */
async function assertRefused(res: Response, retryAfter: number): Promise<string> {
  assert.equal(res.status, 503, `expected 503, got ${res.status}`);
  const body = (await res.json()) as ErrorBody;
  assert.equal(body.errors[0]?.code, WRITE_BLOCKED_ERROR_CODE);
  const reason = res.headers.get(WRITE_BLOCKED_REASON_HEADER);
  assert.ok(reason, 'the reason header is missing');
  assert.equal(body.errors[0]?.message, reason);
  assert.equal(res.headers.get('retry-after'), String(retryAfter));
  // The status line carries it too, for clients that print only that (containers/image).
  assert.equal(res.statusText, `Service Unavailable: ${reason}`);
  return reason;
}

function collectGarbage(registry: TestRegistry): Promise<unknown> {
  return registry.running.app
    .get(GarbageCollector)
    .run({ graceSeconds: 0, untaggedGraceSeconds: 0 });
}

describe('write gate: disk quota with hysteresis', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry(TOKEN_AUTH_ENV);
  });
  after(async () => {
    await registry.close();
  });

  it('refuses pushes at the threshold, serves pulls and deletes, and resumes only at the resume threshold', async () => {
    const p = await pusher(registry, 'wg/app');
    const config = jsonBlob({ os: 'linux', quota: true });
    const [l1, l2, l3] = [randomBlob(3000), randomBlob(3000), randomBlob(3000)];
    const quota = { limitBytes: 10_000, blockAtBytes: 9000, resumeAtBytes: 6000 };
    const set = await p.setGate({ quota, maintenance: null });
    assert.deepEqual(
      { writable: set.writable, reason: set.reason, total: set.usage.totalBytes },
      { writable: true, reason: null, total: 0 },
    );

    for (const b of [config, l1, l2]) assert.equal((await p.pushBlob(b)).status, 201);
    const v1 = imageManifest(config, [l1]);
    const v2 = imageManifest(config, [l2]);
    assert.equal((await p.pushManifest('v1', v1)).status, 201);
    assert.equal((await p.pushManifest('v2', v2)).status, 201);
    // Two uploads open before the gate closes: one to cancel, one with a chunk to complete.
    const cancelled = await p.call('POST', '/v2/wg/app/blobs/uploads/');
    assert.equal(cancelled.status, 202);
    const open = await p.call('POST', '/v2/wg/app/blobs/uploads/');
    const openLocation = open.headers.get('location') ?? '';
    const tail = randomBlob(500);
    assert.equal((await p.call('PATCH', openLocation, tail.data)).status, 202);
    // This push crosses the threshold: accepted (it was checked before its bytes came).
    assert.equal((await p.pushBlob(l3)).status, 201);
    const used = config.data.length + 9000 + tail.data.length;

    const blocked = await p.status();
    assert.equal(blocked.writable, false);
    assert.equal(blocked.usage.totalBytes, used);
    assert.match(
      blocked.reason ?? '',
      /^storage quota reached: 9\.\d kB of 10 kB used \(9\d%\); pushes resume at 6 kB or less/,
    );

    // Every way of adding bytes is refused.
    const reason = await assertRefused(
      await p.call('POST', '/v2/wg/app/blobs/uploads/'),
      QUOTA_RETRY_AFTER_SECONDS,
    );
    assert.equal(reason, blocked.reason);
    await assertRefused(await p.pushBlob(randomBlob(10)), QUOTA_RETRY_AFTER_SECONDS);
    await assertRefused(
      await p.call('PATCH', cancelled.headers.get('location') ?? '', randomBlob(10).data),
      QUOTA_RETRY_AFTER_SECONDS,
    );
    const late = randomBlob(10);
    await assertRefused(
      await p.call('PUT', `${openLocation}?digest=${late.digest}`, late.data),
      QUOTA_RETRY_AFTER_SECONDS,
    );
    await assertRefused(
      await p.pushManifest('v3', imageManifest(config, [l3])),
      QUOTA_RETRY_AFTER_SECONDS,
    );

    // Adding no bytes is allowed: finishing an upload without a chunk, a mount, a cancel.
    const finished = await p.call('PUT', `${openLocation}?digest=${tail.digest}`);
    assert.equal(finished.status, 201);
    const mounted = await p.call(
      'POST',
      `/v2/wg/other/blobs/uploads/?mount=${l1.digest}&from=wg/app`,
    );
    assert.equal(mounted.status, 201);
    assert.equal((await p.call('DELETE', cancelled.headers.get('location') ?? '')).status, 204);
    assert.equal((await p.status()).usage.totalBytes, used);

    // Pulls, HEADs and listings keep working.
    const pulled = await p.call('GET', '/v2/wg/app/manifests/v1', undefined, {
      Accept: OCI_MANIFEST,
    });
    assert.equal(pulled.status, 200);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(v1));
    const layer = await p.call('GET', `/v2/wg/app/blobs/${l1.digest}`);
    assert.ok(Buffer.from(await layer.arrayBuffer()).equals(l1.data));
    assert.equal((await p.call('HEAD', `/v2/wg/app/blobs/${l2.digest}`)).status, 200);
    assert.equal((await p.call('GET', '/v2/wg/app/tags/list')).status, 200);

    // Deleting l3 and collecting it leaves usage above the resume threshold: still blocked.
    assert.equal((await p.call('DELETE', `/v2/wg/app/blobs/${l3.digest}`)).status, 202);
    assert.equal((await p.call('DELETE', `/v2/wg/app/blobs/${tail.digest}`)).status, 202);
    await collectGarbage(registry);
    const between = await p.status();
    assert.equal(between.usage.totalBytes, config.data.length + 6000);
    assert.ok(between.usage.totalBytes > quota.resumeAtBytes);
    assert.ok(between.usage.totalBytes < quota.blockAtBytes);
    assert.equal(between.writable, false, 'hysteresis: still blocked between the thresholds');
    await assertRefused(await p.pushBlob(randomBlob(10)), QUOTA_RETRY_AFTER_SECONDS);

    // Deleting v2 (and so l2) brings usage to the resume threshold or below: pushes resume.
    assert.equal((await p.call('DELETE', `/v2/wg/app/manifests/${sha256(v2)}`)).status, 202);
    await collectGarbage(registry);
    const resumed = await p.status();
    assert.equal(resumed.usage.totalBytes, config.data.length + 3000);
    assert.deepEqual(
      { writable: resumed.writable, reason: resumed.reason },
      {
        writable: true,
        reason: null,
      },
    );
    assert.equal((await p.pushBlob(randomBlob(100))).status, 201);
    assert.equal((await p.pushManifest('v4', imageManifest(config, [l1]))).status, 201);
  });

  it('decides on fresh usage: a push that reaches the threshold blocks the next one', async () => {
    const p = await pusher(registry, 'wg/exact');
    const start = (await p.status()).usage.totalBytes;
    await p.setGate({
      quota: { limitBytes: start + 2000, blockAtBytes: start + 1000, resumeAtBytes: start },
      maintenance: null,
    });
    const pushes: number[] = [];
    for (let i = 0; i < 5; i++) pushes.push((await p.pushBlob(randomBlob(400))).status);
    // 400, 800, 1200 bytes: the third push reaches the threshold, the fourth is refused.
    assert.deepEqual(pushes, [201, 201, 201, 503, 503]);
    await p.setGate({ quota: null, maintenance: null });
    assert.equal((await p.pushBlob(randomBlob(10))).status, 201);
  });

  it('validates settings with a clear 400 and records changes in the audit log', async () => {
    const p = await pusher(registry, 'wg/audit');
    const bad = await p.client.admin('PUT', '/write-gate', {
      quota: { limitBytes: 100, blockAtBytes: 90, resumeAtBytes: 95 },
      maintenance: null,
    });
    assert.equal(bad.status, 400);
    assert.match(
      ((await bad.json()) as ErrorBody).errors[0]?.message ?? '',
      /resumeAtBytes must not exceed quota.blockAtBytes/,
    );
    const anonymous = await p.client.call('PUT', '/admin/v1/write-gate', undefined, '{}', {
      'Content-Type': 'application/json',
    });
    assert.equal(anonymous.status, 401);
    await p.setGate({ quota: null, maintenance: { message: 'audited maintenance' } });
    await p.setGate({ quota: null, maintenance: null });
    const audit = await p.client.admin('GET', '/audit?action=admin.change');
    const events = ((await audit.json()) as { events: { detail: Record<string, unknown> }[] })
      .events;
    const changes = events.filter((e) => e.detail.change === 'write-gate.set');
    assert.ok(changes.some((e) => JSON.stringify(e.detail).includes('audited maintenance')));
  });
});

describe('write gate: maintenance switch', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry(TOKEN_AUTH_ENV);
  });
  after(async () => {
    await registry.close();
  });

  it('refuses pushes with the operator message while pulls work, until cleared', async () => {
    const p = await pusher(registry, 'mt/app');
    const config = jsonBlob({ os: 'linux', maintenance: true });
    const layer = randomBlob(1000);
    for (const b of [config, layer]) assert.equal((await p.pushBlob(b)).status, 201);
    const manifest = imageManifest(config, [layer]);
    assert.equal((await p.pushManifest('v1', manifest)).status, 201);

    const message = 'Registry upgrade in progress until 10:30 UTC; pulls keep working.';
    const status = await p.setGate({ quota: null, maintenance: { message } });
    assert.deepEqual(
      { writable: status.writable, reason: status.reason },
      {
        writable: false,
        reason: message,
      },
    );
    const refused = await assertRefused(
      await p.call('POST', '/v2/mt/app/blobs/uploads/'),
      MAINTENANCE_RETRY_AFTER_SECONDS,
    );
    assert.equal(refused, message);
    await assertRefused(await p.pushManifest('v2', manifest), MAINTENANCE_RETRY_AFTER_SECONDS);
    const pulled = await p.call('GET', '/v2/mt/app/manifests/v1', undefined, {
      Accept: OCI_MANIFEST,
    });
    assert.equal(pulled.status, 200);
    assert.equal((await p.call('GET', `/v2/mt/app/blobs/${layer.digest}`)).status, 200);
    assert.equal((await p.call('DELETE', '/v2/mt/app/manifests/v1')).status, 202);

    const cleared = await p.setGate({ quota: null, maintenance: null });
    assert.deepEqual(
      { writable: cleared.writable, reason: cleared.reason },
      {
        writable: true,
        reason: null,
      },
    );
    assert.equal((await p.pushManifest('v2', manifest)).status, 201);
  });
});

describe('write gate: state across a restart', () => {
  let registry: TestRegistry;
  before(async () => {
    registry = await startTestRegistry(TOKEN_AUTH_ENV);
  });
  after(async () => {
    await registry.close();
  });

  it('keeps the settings and the blocked state between the thresholds', async () => {
    let p = await pusher(registry, 'rs/app');
    const config = jsonBlob({ os: 'linux', restart: true });
    const [a, b] = [randomBlob(3000), randomBlob(3000)];
    for (const blob of [config, a, b]) assert.equal((await p.pushBlob(blob)).status, 201);
    const second = imageManifest(config, [b]);
    assert.equal((await p.pushManifest('v1', imageManifest(config, [a]))).status, 201);
    assert.equal((await p.pushManifest('v2', second)).status, 201);
    // A quota set over the usage blocks at once.
    const quota = { limitBytes: 7000, blockAtBytes: 5000, resumeAtBytes: 1000 };
    const set = await p.setGate({ quota, maintenance: null });
    assert.equal(set.writable, false);
    // Down to the config and one layer: between the thresholds, so still blocked.
    assert.equal((await p.call('DELETE', `/v2/rs/app/manifests/${sha256(second)}`)).status, 202);
    await collectGarbage(registry);
    const beforeRestart = await p.status();
    assert.deepEqual(
      { writable: beforeRestart.writable, total: beforeRestart.usage.totalBytes },
      { writable: false, total: config.data.length + 3000 },
    );

    await registry.restart();
    p = await pusher(registry, 'rs/app');
    const afterRestart = await p.status();
    assert.deepEqual(afterRestart.quota, quota);
    assert.equal(afterRestart.maintenance, null);
    assert.equal(afterRestart.writable, false, 'the blocked state survived the restart');
    assert.equal(afterRestart.reason, beforeRestart.reason);
    await assertRefused(await p.pushBlob(randomBlob(10)), QUOTA_RETRY_AFTER_SECONDS);

    const message = 'moving to new storage';
    await p.setGate({ quota: null, maintenance: { message } });
    await registry.restart();
    p = await pusher(registry, 'rs/app');
    const restarted = await p.status();
    assert.deepEqual(
      { quota: restarted.quota, maintenance: restarted.maintenance, reason: restarted.reason },
      { quota: null, maintenance: { message }, reason: message },
    );
    await assertRefused(await p.pushBlob(randomBlob(10)), MAINTENANCE_RETRY_AFTER_SECONDS);
  });
});
