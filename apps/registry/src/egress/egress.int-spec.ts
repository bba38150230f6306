import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ANONYMOUS_PRINCIPAL, type EgressReport } from '@berth/platform-contracts';
import { OCI_MANIFEST, imageManifest, jsonBlob, randomBlob } from '../testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';
import { TEST_ADMIN, TOKEN_AUTH_ENV, TokenClient } from '../testing/token-client';
import { hourOf } from './egress-hour';

interface Totals {
  bytes: number;
  requests: number;
}

/** Totals per `repository principal`, summed over hours (a run may straddle an hour). */
function totals(report: EgressReport): Map<string, Totals> {
  const sums = new Map<string, Totals>();
  for (const r of report.records) {
    const key = `${r.repository} ${r.principal}`;
    const sum = sums.get(key) ?? { bytes: 0, requests: 0 };
    sum.bytes += r.bytes;
    sum.requests += r.requests;
    sums.set(key, sum);
  }
  return sums;
}

async function report(client: TokenClient, since: string): Promise<EgressReport> {
  const res = await client.admin('GET', `/egress?since=${encodeURIComponent(since)}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as EgressReport;
}

/** Reads the first chunk of a download, then drops the connection. */
function abortedDownload(registry: TestRegistry, path: string, auth: string): Promise<number> {
  const { port } = new URL(registry.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers: { Authorization: auth } },
      (res) => {
        res.once('data', (chunk: Buffer) => {
          req.destroy();
          resolve(chunk.length);
        });
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET') reject(err);
    });
    req.end();
  });
}

describe('egress metering', () => {
  let registry: TestRegistry;
  let client: TokenClient;
  const since = new Date(hourOf(Date.now())).toISOString();
  before(async () => {
    registry = await startTestRegistry(TOKEN_AUTH_ENV);
    client = new TokenClient(registry);
  });
  after(async () => {
    await registry.close();
  });

  it('counts blob and manifest bytes served per repository and principal, HEAD as nothing', async () => {
    const push = await client.bearer(['repository:eg/app:pull,push'], TEST_ADMIN);
    const config = jsonBlob({ os: 'linux', egress: true });
    const layer = randomBlob(5000);
    for (const b of [config, layer]) {
      const res = await client.call(
        'POST',
        `/v2/eg/app/blobs/uploads/?digest=${b.digest}`,
        push,
        b.data,
      );
      assert.equal(res.status, 201);
    }
    const manifest = imageManifest(config, [layer]);
    const pushed = await client.call('PUT', '/v2/eg/app/manifests/v1', push, manifest, {
      'Content-Type': OCI_MANIFEST,
    });
    assert.equal(pushed.status, 201);
    assert.equal(
      (await client.admin('PUT', '/public', { registryPublic: false, patterns: ['eg/**'] })).status,
      200,
    );

    const reader = await client.createPrincipal('puller', 'reader');
    const pull = await client.bearer(['repository:eg/app:pull'], reader);
    const anonymous = await client.bearer(['repository:eg/app:pull']);

    const m = await client.call('GET', '/v2/eg/app/manifests/v1', pull, undefined, {
      Accept: OCI_MANIFEST,
    });
    assert.equal(Buffer.from(await m.arrayBuffer()).length, manifest.length);
    const full = await client.call('GET', `/v2/eg/app/blobs/${layer.digest}`, pull);
    assert.ok(Buffer.from(await full.arrayBuffer()).equals(layer.data));
    const ranged = await client.call('GET', `/v2/eg/app/blobs/${layer.digest}`, pull, undefined, {
      Range: 'bytes=100-199',
    });
    assert.equal(ranged.status, 206);
    assert.equal(Buffer.from(await ranged.arrayBuffer()).length, 100);
    const suffix = await client.call('GET', `/v2/eg/app/blobs/${layer.digest}`, pull, undefined, {
      Range: 'bytes=-10',
    });
    assert.equal(Buffer.from(await suffix.arrayBuffer()).length, 10);
    // HEADs serve no body and are not metered.
    assert.equal((await client.call('HEAD', `/v2/eg/app/blobs/${layer.digest}`, pull)).status, 200);
    const head = await client.call('HEAD', '/v2/eg/app/manifests/v1', pull, undefined, {
      Accept: OCI_MANIFEST,
    });
    assert.equal(head.status, 200);
    // A refused download serves nothing.
    assert.equal(
      (await client.call('GET', `/v2/eg/app/blobs/${randomBlob(1).digest}`, pull)).status,
      404,
    );
    const anon = await client.call('GET', `/v2/eg/app/blobs/${config.digest}`, anonymous);
    assert.equal(Buffer.from(await anon.arrayBuffer()).length, config.data.length);

    const first = await report(client, since);
    assert.deepEqual(Object.fromEntries(totals(first)), {
      'eg/app puller': { bytes: manifest.length + 5000 + 100 + 10, requests: 4 },
      [`eg/app ${ANONYMOUS_PRINCIPAL}`]: { bytes: config.data.length, requests: 1 },
    });
    for (const r of first.records) {
      assert.equal(r.hour, new Date(hourOf(Date.parse(r.hour))).toISOString());
      assert.ok(r.hour >= since);
    }
    // Absolute totals: the same report twice, then totals that include everything since.
    assert.deepEqual(await report(client, since), first);
    await (await client.call('GET', `/v2/eg/app/blobs/${layer.digest}`, pull)).arrayBuffer();
    assert.deepEqual(totals(await report(client, since)).get('eg/app puller'), {
      bytes: manifest.length + 5000 + 100 + 10 + 5000,
      requests: 5,
    });
    // A later hour holds nothing yet.
    const nextHour = new Date(hourOf(Date.now()) + 3_600_000).toISOString();
    assert.deepEqual(await report(client, nextHour), { records: [] });
  });

  it('counts the bytes an aborted download really sent', async () => {
    const push = await client.bearer(['repository:eg/big:pull,push'], TEST_ADMIN);
    const big = randomBlob(32 * 1024 * 1024);
    const pushed = await client.call(
      'POST',
      `/v2/eg/big/blobs/uploads/?digest=${big.digest}`,
      push,
      big.data,
    );
    assert.equal(pushed.status, 201);
    const received = await abortedDownload(registry, `/v2/eg/big/blobs/${big.digest}`, push);
    assert.ok(received > 0);
    // The server notices the dropped connection on its own schedule: wait for the record.
    let sent: Totals | undefined;
    while (!sent) {
      sent = totals(await report(client, since)).get(`eg/big ${TEST_ADMIN.user}`);
      if (!sent) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(sent.requests, 1);
    assert.ok(sent.bytes >= received, `${sent.bytes} bytes counted, ${received} received`);
    assert.ok(sent.bytes < big.data.length, `${sent.bytes} bytes counted for an aborted download`);
  });

  it('writes pending counters at shutdown', async () => {
    const pull = await client.bearer(['repository:eg/app:pull'], TEST_ADMIN);
    const before = totals(await report(client, since)).get(`eg/app ${TEST_ADMIN.user}`);
    assert.equal(before, undefined);
    const res = await client.call('GET', '/v2/eg/app/manifests/v1', pull, undefined, {
      Accept: OCI_MANIFEST,
    });
    const length = Buffer.from(await res.arrayBuffer()).length;
    await registry.restart();
    client = new TokenClient(registry);
    assert.deepEqual(totals(await report(client, since)).get(`eg/app ${TEST_ADMIN.user}`), {
      bytes: length,
      requests: 1,
    });
  });

  it('refuses a missing or malformed since with a clear 400', async () => {
    for (const [query, message] of [
      ['', /since is required/],
      ['?since=yesterday', /not an ISO 8601 timestamp/],
      ['?since=2026-11-23T09:15:00Z', /not the start of a UTC hour/],
      ['?since=2026-02-30T09:00:00Z', /not a valid date/],
    ] as const) {
      const res = await client.admin('GET', `/egress${query}`);
      assert.equal(res.status, 400, query);
      const body = (await res.json()) as { errors: { message: string }[] };
      assert.match(body.errors[0]?.message ?? '', message);
    }
    assert.equal((await client.call('GET', `/admin/v1/egress?since=${since}`)).status, 401);
  });
});

describe('egress metering with presigned S3 redirects', () => {
  let registry: TestRegistry;
  before(async () => {
    if (!process.env.S3_ENDPOINT) {
      throw new Error(
        'S3_ENDPOINT is not set: start MinIO with `eval "$(scripts/s3-server.sh start)"`',
      );
    }
    registry = await startTestRegistry({
      ...TOKEN_AUTH_ENV,
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: process.env.S3_ENDPOINT,
      S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID ?? '',
      S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY ?? '',
      S3_REGION: process.env.S3_REGION ?? 'us-east-1',
      S3_BUCKET: `berth-egress-${Date.now()}`,
      S3_PRESIGNED_REDIRECT: 'true',
    });
  });
  after(async () => {
    await registry?.close();
  });

  it('counts the whole blob for a redirect (its bytes leave our bucket)', async () => {
    const client = new TokenClient(registry);
    const since = new Date(hourOf(Date.now())).toISOString();
    const auth = await client.bearer(['repository:s3/app:pull,push'], TEST_ADMIN);
    const blob = randomBlob(7000);
    const pushed = await client.call(
      'POST',
      `/v2/s3/app/blobs/uploads/?digest=${blob.digest}`,
      auth,
      blob.data,
    );
    assert.equal(pushed.status, 201);
    const redirect = await client.call('GET', `/v2/s3/app/blobs/${blob.digest}`, auth);
    assert.equal(redirect.status, 307);
    const fromS3 = await fetch(redirect.headers.get('location') ?? '');
    assert.ok(Buffer.from(await fromS3.arrayBuffer()).equals(blob.data));
    assert.deepEqual(totals(await report(client, since)).get(`s3/app ${TEST_ADMIN.user}`), {
      bytes: 7000,
      requests: 1,
    });
  });
});
