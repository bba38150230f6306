import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OCI_MANIFEST, imageManifest, jsonBlob, randomBlob, sha256 } from '../testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';

const ADMIN = 'Basic ' + Buffer.from('admin:admin-password-1').toString('base64');
let registry: TestRegistry;
let token = '';

async function call(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${registry.url}${path}`, {
    method,
    body,
    headers: { Authorization: `Bearer ${token}`, ...headers },
  });
}

async function pushManifest(
  tag: string,
): Promise<{ status: number; digest: string; code?: string }> {
  const config = jsonBlob({ os: 'linux', nonce: randomBlob(4).digest });
  const layer = randomBlob(64);
  for (const b of [config, layer]) {
    await call('POST', `/v2/app/blobs/uploads/?digest=${b.digest}`, b.data);
  }
  const body = imageManifest(config, [layer]);
  const res = await call('PUT', `/v2/app/manifests/${tag}`, body, { 'Content-Type': OCI_MANIFEST });
  const code =
    res.status >= 400
      ? ((await res.json()) as { errors: { code: string }[] }).errors[0]?.code
      : undefined;
  return { status: res.status, digest: sha256(body), code };
}

describe('immutable tags', () => {
  before(async () => {
    registry = await startTestRegistry({
      REGISTRY_AUTH: 'token',
      REGISTRY_ADMIN_PASSWORD: 'admin-password-1',
    });
    const res = await fetch(`${registry.url}/auth/token?scope=repository:app:pull,push,delete`, {
      headers: { Authorization: ADMIN },
    });
    token = ((await res.json()) as { token: string }).token;
    const rules = await fetch(`${registry.url}/admin/v1/immutability`, {
      method: 'PUT',
      headers: { Authorization: ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ rules: [{ repositories: '**', tags: 'v*' }] }),
    });
    assert.equal(rules.status, 200, await rules.text());
  });
  after(async () => {
    await registry.close();
  });

  it('refuses to move or delete an immutable tag, and to delete the manifest it names', async () => {
    const first = await pushManifest('v1');
    assert.equal(first.status, 201);
    const moved = await pushManifest('v1');
    assert.equal(moved.status, 403);
    assert.equal(moved.code, 'DENIED');
    const tagDelete = await call('DELETE', '/v2/app/manifests/v1');
    assert.equal(tagDelete.status, 403);
    const digestDelete = await call('DELETE', `/v2/app/manifests/${first.digest}`);
    assert.equal(digestDelete.status, 403);
    const still = await call('GET', '/v2/app/manifests/v1', undefined, { Accept: OCI_MANIFEST });
    assert.equal(still.headers.get('docker-content-digest'), first.digest);
  });

  it('accepts the identical manifest again (idempotent CI retries)', async () => {
    const current = await call('GET', '/v2/app/manifests/v1', undefined, { Accept: OCI_MANIFEST });
    const body = Buffer.from(await current.arrayBuffer());
    const again = await call('PUT', '/v2/app/manifests/v1', body, { 'Content-Type': OCI_MANIFEST });
    assert.equal(again.status, 201);
  });

  it('leaves other tags mutable', async () => {
    assert.equal((await pushManifest('latest')).status, 201);
    assert.equal((await pushManifest('latest')).status, 201);
    assert.equal((await call('DELETE', '/v2/app/manifests/latest')).status, 202);
  });

  it('validates rules', async () => {
    const res = await fetch(`${registry.url}/admin/v1/immutability`, {
      method: 'PUT',
      headers: { Authorization: ADMIN, 'Content-Type': 'application/json' },
      body: JSON.stringify({ rules: [{ repositories: 'BAD', tags: 'v*' }] }),
    });
    assert.equal(res.status, 400);
  });
});
