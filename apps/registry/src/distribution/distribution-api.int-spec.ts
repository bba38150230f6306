import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';
import {
  OCI_INDEX,
  OCI_MANIFEST,
  imageManifest,
  jsonBlob,
  randomBlob,
  sha256,
  sha512,
  type Blob,
} from '../testing/oci-fixtures';

let registry: TestRegistry;

async function call(method: string, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${registry.url}${path}`, { method, redirect: 'manual', ...init });
}

async function errorCode(response: Response): Promise<string | undefined> {
  const body = (await response.json()) as { errors?: { code: string }[] };
  return body.errors?.[0]?.code;
}

async function pushBlob(repo: string, blob: Blob): Promise<void> {
  const res = await call('POST', `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`, {
    body: blob.data,
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  assert.equal(res.status, 201, await res.text());
}

async function pushImage(
  repo: string,
  tag: string,
  layers = 2,
): Promise<{ digest: string; body: Buffer; blobs: Blob[] }> {
  const config = jsonBlob({ architecture: 'amd64', os: 'linux', nonce: randomBlob(8).digest });
  const blobs = Array.from({ length: layers }, () => randomBlob(1024));
  for (const b of [config, ...blobs]) await pushBlob(repo, b);
  const body = imageManifest(config, blobs);
  const res = await call('PUT', `/v2/${repo}/manifests/${tag}`, {
    body,
    headers: { 'Content-Type': OCI_MANIFEST },
  });
  assert.equal(res.status, 201, await res.text());
  return { digest: sha256(body), body, blobs: [config, ...blobs] };
}

describe('OCI distribution API (in-process registry, PostgreSQL, filesystem)', () => {
  before(async () => {
    registry = await startTestRegistry();
  });
  after(async () => {
    await registry.close();
  });

  it('answers GET /v2/ with the API version header', async () => {
    const res = await call('GET', '/v2/');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  });

  it('pushes monolithically and pulls a blob with HEAD, GET and ranges', async () => {
    const blob = randomBlob(10_000);
    await pushBlob('team/app', blob);
    const head = await call('HEAD', `/v2/team/app/blobs/${blob.digest}`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '10000');
    assert.equal(head.headers.get('docker-content-digest'), blob.digest);
    const get = await call('GET', `/v2/team/app/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
    const ranged = await call('GET', `/v2/team/app/blobs/${blob.digest}`, {
      headers: { Range: 'bytes=100-199' },
    });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get('content-range'), 'bytes 100-199/10000');
    assert.deepEqual(Buffer.from(await ranged.arrayBuffer()), blob.data.subarray(100, 200));
    const suffix = await call('GET', `/v2/team/app/blobs/${blob.digest}`, {
      headers: { Range: 'bytes=-10' },
    });
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), blob.data.subarray(9990));
    const bad = await call('GET', `/v2/team/app/blobs/${blob.digest}`, {
      headers: { Range: 'bytes=20000-' },
    });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), 'bytes */10000');
  });

  it('serves a blob only through repositories that have it', async () => {
    const blob = randomBlob(100);
    await pushBlob('only/here', blob);
    const elsewhere = await call('GET', `/v2/other/repo/blobs/${blob.digest}`);
    assert.equal(elsewhere.status, 404);
    assert.equal(await errorCode(elsewhere), 'BLOB_UNKNOWN');
  });

  it('refuses a monolithic push whose bytes do not match the digest and keeps nothing', async () => {
    const blob = randomBlob(500);
    const wrong = sha256('something else');
    const res = await call('POST', `/v2/team/app/blobs/uploads/?digest=${wrong}`, {
      body: blob.data,
    });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'DIGEST_INVALID');
    assert.equal((await call('HEAD', `/v2/team/app/blobs/${wrong}`)).status, 404);
    assert.equal((await call('HEAD', `/v2/team/app/blobs/${blob.digest}`)).status, 404);
  });

  it('uploads in chunks, refuses an out-of-order chunk with 416 and stays usable', async () => {
    const blob = randomBlob(300_000);
    const start = await call('POST', '/v2/chunked/app/blobs/uploads/');
    assert.equal(start.status, 202);
    const location = start.headers.get('location');
    assert.ok(location);
    const first = await call('PATCH', location, {
      body: blob.data.subarray(0, 100_000),
      headers: { 'Content-Range': '0-99999', 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(first.status, 202);
    assert.equal(first.headers.get('range'), '0-99999');
    const skipped = await call('PATCH', location, {
      body: blob.data.subarray(200_000),
      headers: { 'Content-Range': '200000-299999' },
    });
    assert.equal(skipped.status, 416);
    const status = await call('GET', location);
    assert.equal(status.status, 204);
    assert.equal(status.headers.get('range'), '0-99999');
    const second = await call('PATCH', location, {
      body: blob.data.subarray(100_000, 200_000),
      headers: { 'Content-Range': '100000-199999' },
    });
    assert.equal(second.status, 202);
    // streamed PATCH without Content-Range, then PUT with no body
    const third = await call('PATCH', location, { body: blob.data.subarray(200_000) });
    assert.equal(third.status, 202);
    assert.equal(third.headers.get('range'), '0-299999');
    const done = await call('PUT', `${location}?digest=${blob.digest}`);
    assert.equal(done.status, 201, await done.text());
    assert.equal(done.headers.get('docker-content-digest'), blob.digest);
    const get = await call('GET', `/v2/chunked/app/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
    const gone = await call('GET', location);
    assert.equal(gone.status, 404);
    assert.equal(await errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('verifies sha512 digests', async () => {
    const data = randomBlob(4096).data;
    const digest = sha512(data);
    const start = await call('POST', '/v2/sha/app/blobs/uploads/');
    const location = start.headers.get('location') ?? '';
    const put = await call('PUT', `${location}?digest=${digest}`, { body: data });
    assert.equal(put.status, 201, await put.text());
    const get = await call('GET', `/v2/sha/app/blobs/${digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), data);
  });

  it('cancels an upload', async () => {
    const start = await call('POST', '/v2/cancel/app/blobs/uploads/');
    const location = start.headers.get('location') ?? '';
    assert.equal((await call('DELETE', location)).status, 204);
    assert.equal((await call('GET', location)).status, 404);
    assert.equal((await call('DELETE', location)).status, 404);
  });

  it('mounts across repositories and falls back to an upload when the source lacks the blob', async () => {
    const blob = randomBlob(2048);
    await pushBlob('mount/src', blob);
    const mounted = await call(
      'POST',
      `/v2/mount/dst/blobs/uploads/?mount=${blob.digest}&from=mount/src`,
    );
    assert.equal(mounted.status, 201);
    assert.equal(mounted.headers.get('location'), `/v2/mount/dst/blobs/${blob.digest}`);
    assert.equal((await call('HEAD', `/v2/mount/dst/blobs/${blob.digest}`)).status, 200);
    const fallback = await call(
      'POST',
      `/v2/mount/dst/blobs/uploads/?mount=${sha256('absent')}&from=mount/src`,
    );
    assert.equal(fallback.status, 202);
  });

  it('pushes, pulls and deletes manifests with exact bytes and headers', async () => {
    const image = await pushImage('apps/web', 'v1');
    for (const ref of ['v1', image.digest]) {
      const res = await call('GET', `/v2/apps/web/manifests/${ref}`, {
        headers: { Accept: OCI_MANIFEST },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
      assert.equal(res.headers.get('docker-content-digest'), image.digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), image.body);
      const head = await call('HEAD', `/v2/apps/web/manifests/${ref}`);
      assert.equal(head.headers.get('content-length'), String(image.body.length));
    }
    assert.equal((await call('DELETE', `/v2/apps/web/manifests/v1`)).status, 202);
    assert.equal((await call('GET', `/v2/apps/web/manifests/v1`)).status, 404);
    assert.equal((await call('GET', `/v2/apps/web/manifests/${image.digest}`)).status, 200);
    assert.equal((await call('DELETE', `/v2/apps/web/manifests/${image.digest}`)).status, 202);
    const gone = await call('GET', `/v2/apps/web/manifests/${image.digest}`);
    assert.equal(gone.status, 404);
    assert.equal(await errorCode(gone), 'MANIFEST_UNKNOWN');
  });

  it('refuses manifests that reference missing blobs, are malformed, too large or schema1', async () => {
    const config = jsonBlob({ os: 'linux' });
    await pushBlob('strict/app', config);
    const missing = imageManifest(config, [randomBlob(10)]);
    const res = await call('PUT', '/v2/strict/app/manifests/t', {
      body: missing,
      headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
    assert.equal((await call('GET', '/v2/strict/app/manifests/t')).status, 404);
    const malformed = await call('PUT', '/v2/strict/app/manifests/t', {
      body: '{not json',
      headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(await errorCode(malformed), 'MANIFEST_INVALID');
    const schema1 = await call('PUT', '/v2/strict/app/manifests/t', {
      body: JSON.stringify({ schemaVersion: 1, name: 'strict/app', tag: 't', fsLayers: [] }),
      headers: { 'Content-Type': 'application/vnd.docker.distribution.manifest.v1+prettyjws' },
    });
    assert.equal(schema1.status, 400);
    const huge = await call('PUT', '/v2/strict/app/manifests/t', {
      body: Buffer.alloc(5 * 1024 * 1024, 0x20),
      headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(huge.status, 413);
    const mismatch = await call('PUT', '/v2/strict/app/manifests/t', {
      body: imageManifest(config, []),
      headers: { 'Content-Type': OCI_INDEX },
    });
    assert.equal(await errorCode(mismatch), 'MANIFEST_INVALID');
    const wrongDigest = await call('PUT', `/v2/strict/app/manifests/${sha256('x')}`, {
      body: imageManifest(config, []),
      headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(await errorCode(wrongDigest), 'DIGEST_INVALID');
  });

  it('refuses an index whose child manifests are missing', async () => {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: sha256('nope'), size: 4 }],
      }),
    );
    const res = await call('PUT', '/v2/strict/index/manifests/multi', {
      body: index,
      headers: { 'Content-Type': OCI_INDEX },
    });
    assert.equal(res.status, 400);
    assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  });

  it('validates names, digests and tags with spec error codes', async () => {
    const badName = await call('GET', '/v2/Bad_Name/tags/list');
    assert.equal(badName.status, 400);
    assert.equal(await errorCode(badName), 'NAME_INVALID');
    const badDigest = await call('GET', '/v2/team/app/blobs/sha256:xyz');
    assert.equal(badDigest.status, 400);
    assert.equal(await errorCode(badDigest), 'DIGEST_INVALID');
    const unknownRepo = await call('GET', '/v2/no/such/repo/tags/list');
    assert.equal(unknownRepo.status, 404);
    assert.equal(await errorCode(unknownRepo), 'NAME_UNKNOWN');
    const unknownUpload = await call('GET', '/v2/team/app/blobs/uploads/not-a-uuid');
    assert.equal(await errorCode(unknownUpload), 'BLOB_UPLOAD_UNKNOWN');
  });

  it('lists tags and the catalog in order with n/last pagination and Link headers', async () => {
    const image = await pushImage('paged/app', 'a');
    const tags = ['b', 'c', 'd', 'e'];
    for (const tag of tags) {
      const res = await call('PUT', `/v2/paged/app/manifests/${tag}`, {
        body: image.body,
        headers: { 'Content-Type': OCI_MANIFEST },
      });
      assert.equal(res.status, 201);
    }
    const first = await call('GET', '/v2/paged/app/tags/list?n=2');
    assert.deepEqual(await first.json(), { name: 'paged/app', tags: ['a', 'b'] });
    assert.equal(first.headers.get('link'), '</v2/paged/app/tags/list?n=2&last=b>; rel="next"');
    const second = await call('GET', '/v2/paged/app/tags/list?n=2&last=b');
    assert.deepEqual(((await second.json()) as { tags: string[] }).tags, ['c', 'd']);
    const all = await call('GET', '/v2/paged/app/tags/list');
    assert.deepEqual(((await all.json()) as { tags: string[] }).tags, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(all.headers.get('link'), null);
    const catalog = await call('GET', '/v2/_catalog?n=1');
    const body = (await catalog.json()) as { repositories: string[] };
    assert.equal(body.repositories.length, 1);
    assert.match(catalog.headers.get('link') ?? '', /last=/);
  });

  it('orders listings by bytes and answers past the end with an empty page', async () => {
    const image = await pushImage('order/app', 'a');
    for (const tag of ['_z', 'B', '9', 'a-1', 'a.1']) {
      const res = await call('PUT', `/v2/order/app/manifests/${tag}`, {
        body: image.body,
        headers: { 'Content-Type': OCI_MANIFEST },
      });
      assert.equal(res.status, 201);
    }
    const all = await call('GET', '/v2/order/app/tags/list');
    assert.deepEqual(((await all.json()) as { tags: string[] }).tags, [
      '9',
      'B',
      '_z',
      'a',
      'a-1',
      'a.1',
    ]);
    const past = await call('GET', '/v2/order/app/tags/list?n=3&last=a.1');
    assert.deepEqual(await past.json(), { name: 'order/app', tags: [] });
    assert.equal(past.headers.get('link'), null);
    const walked: string[] = [];
    for (let last = ''; ;) {
      const page = await call('GET', `/v2/_catalog?n=2${last ? `&last=${last}` : ''}`);
      walked.push(...((await page.json()) as { repositories: string[] }).repositories);
      const next = /last=([^>&]+)/.exec(page.headers.get('link') ?? '');
      if (!next) break;
      last = next[1]!;
    }
    assert.ok(walked.includes('order/app'));
    assert.deepEqual(walked, [...walked].sort());
    assert.equal(new Set(walked).size, walked.length);
  });

  it('tags by digest push with ?tag= parameters', async () => {
    const image = await pushImage('tagparam/app', 'base');
    const res = await call('PUT', `/v2/tagparam/app/manifests/${image.digest}?tag=x&tag=y`, {
      body: image.body,
      headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(res.status, 201);
    const list = await call('GET', '/v2/tagparam/app/tags/list');
    assert.deepEqual(((await list.json()) as { tags: string[] }).tags, ['base', 'x', 'y']);
  });

  it('answers the referrers API with artifactType filtering', async () => {
    const image = await pushImage('ref/app', 'v1');
    const empty = jsonBlob({});
    await pushBlob('ref/app', empty);
    const subject = { mediaType: OCI_MANIFEST, digest: image.digest, size: image.body.length };
    const sig = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        artifactType: 'application/vnd.example.signature',
        config: {
          mediaType: 'application/vnd.oci.empty.v1+json',
          digest: empty.digest,
          size: empty.data.length,
        },
        layers: [],
        subject,
        annotations: { 'org.example': 'yes' },
      }),
    );
    const put = await call('PUT', `/v2/ref/app/manifests/${sha256(sig)}`, {
      body: sig,
      headers: { 'Content-Type': OCI_MANIFEST },
    });
    assert.equal(put.status, 201);
    assert.equal(put.headers.get('oci-subject'), image.digest);
    const list = await call('GET', `/v2/ref/app/referrers/${image.digest}`);
    assert.equal(list.status, 200);
    assert.equal(list.headers.get('content-type'), OCI_INDEX);
    const index = (await list.json()) as {
      manifests: { digest: string; artifactType: string; annotations: object }[];
    };
    assert.equal(index.manifests.length, 1);
    assert.equal(index.manifests[0]?.digest, sha256(sig));
    assert.equal(index.manifests[0]?.artifactType, 'application/vnd.example.signature');
    const filtered = await call(
      'GET',
      `/v2/ref/app/referrers/${image.digest}?artifactType=application/other`,
    );
    assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
    assert.equal(((await filtered.json()) as { manifests: unknown[] }).manifests.length, 0);
  });

  it('ends with one correct blob when two clients push the same blob at once', async () => {
    const blob = randomBlob(2 * 1024 * 1024);
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        call('POST', `/v2/race/app/blobs/uploads/?digest=${blob.digest}`, { body: blob.data }),
      ),
    );
    for (const r of results) assert.equal(r.status, 201);
    const get = await call('GET', `/v2/race/app/blobs/${blob.digest}`);
    assert.deepEqual(Buffer.from(await get.arrayBuffer()), blob.data);
  });

  it('deletes blobs from a repository', async () => {
    const blob = randomBlob(64);
    await pushBlob('del/app', blob);
    assert.equal((await call('DELETE', `/v2/del/app/blobs/${blob.digest}`)).status, 202);
    assert.equal((await call('HEAD', `/v2/del/app/blobs/${blob.digest}`)).status, 404);
    assert.equal((await call('DELETE', `/v2/del/app/blobs/${blob.digest}`)).status, 404);
  });

  it('serves health, readiness and metrics', async () => {
    assert.equal((await call('GET', '/healthz')).status, 200);
    assert.equal((await call('GET', '/readyz')).status, 200);
    // Three 256 KiB reads from local disk: the first through the thread pool, then inline.
    const big = randomBlob(600 * 1024);
    await pushBlob('metrics/app', big);
    const pulled = await call('GET', `/v2/metrics/app/blobs/${big.digest}`);
    assert.ok(Buffer.from(await pulled.arrayBuffer()).equals(big.data));
    const metrics = await (await call('GET', '/metrics')).text();
    assert.match(metrics, /berth_storage_file_reads_total\{mode="inline"\} [1-9]\d*/);
    assert.match(metrics, /berth_storage_file_reads_total\{mode="pool"\} [1-9]\d*/);
    assert.match(metrics, /berth_storage_slow_inline_reads_total \d+/);
    assert.match(
      metrics,
      /berth_http_requests_total\{route="\/v2\/_r\/blobs\/:digest",method="GET",status="200"\}/,
    );
    assert.match(metrics, /berth_registry_bytes_received_total \d+/);
  });
});
