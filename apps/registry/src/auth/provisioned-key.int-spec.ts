import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';
import { TEST_ADMIN, TOKEN_AUTH_ENV, TokenClient } from '../testing/token-client';

const BIN = join(__dirname, '..', '..', '..', '..', 'bin', 'berth.js');

interface Jwk extends JsonWebKey {
  kid: string;
}

function newKey(): { pem: string; kid: string; x: string; y: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return {
    pem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    kid: createHash('sha256').update(canonical).digest('base64url'),
    x: jwk.x ?? '',
    y: jwk.y ?? '',
  };
}

async function jwks(registry: TestRegistry): Promise<Jwk[]> {
  return ((await (await fetch(`${registry.url}/auth/jwks`)).json()) as { keys: Jwk[] }).keys;
}

/** The kid a token from the registry is signed with, checked against the JWKS key. */
async function signingKid(registry: TestRegistry): Promise<string> {
  const client = new TokenClient(registry);
  const token = (await client.bearer(['repository:keys/app:pull'], TEST_ADMIN)).slice(7);
  const header = jwt.decode(token, { complete: true })?.header;
  const key = (await jwks(registry)).find((k) => k.kid === header?.kid);
  assert.ok(key, 'the signing key is in the JWKS');
  const pem = createPublicKey({
    key: { kty: key.kty, crv: key.crv, x: key.x, y: key.y },
    format: 'jwk',
  })
    .export({ format: 'pem', type: 'spki' })
    .toString();
  jwt.verify(token, pem, { algorithms: ['ES256'] });
  return key.kid;
}

describe('provisioned signing key (REGISTRY_SIGNING_KEY)', () => {
  const registries: TestRegistry[] = [];
  after(async () => {
    for (const r of registries) await r.close();
  });

  it('signs with the provisioned key from the first start', async () => {
    const key = newKey();
    const registry = await startTestRegistry({ ...TOKEN_AUTH_ENV, REGISTRY_SIGNING_KEY: key.pem });
    registries.push(registry);
    const keys = await jwks(registry);
    assert.deepEqual(
      keys.map((k) => ({ kid: k.kid, x: k.x, y: k.y, alg: k.alg })),
      [{ kid: key.kid, x: key.x, y: key.y, alg: 'ES256' }],
    );
    assert.equal(await signingKid(registry), key.kid);
  });

  it('imports a new key once, keeping older keys verifiable and later rotations in place', async () => {
    const registry = await startTestRegistry(TOKEN_AUTH_ENV);
    registries.push(registry);
    const generated = (await jwks(registry)).map((k) => k.kid);
    assert.equal(generated.length, 1);
    const oldToken = await new TokenClient(registry).bearer(
      ['repository:keys/app:pull'],
      TEST_ADMIN,
    );

    const provisioned = newKey();
    await registry.restart({ REGISTRY_SIGNING_KEY: provisioned.pem });
    assert.deepEqual(
      (await jwks(registry)).map((k) => k.kid).sort(),
      [generated[0], provisioned.kid].sort(),
    );
    assert.equal(await signingKid(registry), provisioned.kid);
    // A token signed by the retired key still works.
    const base = await fetch(`${registry.url}/v2/`, { headers: { Authorization: oldToken } });
    assert.equal(base.status, 200);

    // A rotation through the admin API is not undone by the next start with the same key.
    const rotated = await new TokenClient(registry).admin('POST', '/keys/rotate');
    const rotatedKid = ((await rotated.json()) as { kid: string }).kid;
    await registry.restart({ REGISTRY_SIGNING_KEY: provisioned.pem });
    assert.equal(await signingKid(registry), rotatedKid);
  });

  it('refuses to start with a key that is not EC P-256: a configuration error, key not shown', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const result = spawnSync(process.execPath, [BIN, 'registry', 'serve'], {
      env: { ...process.env, REGISTRY_SIGNING_KEY: rsa, PORT: '0' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /REGISTRY_SIGNING_KEY is a rsa key; tokens are signed with ES256/);
    assert.doesNotMatch(result.stderr + result.stdout, /PRIVATE KEY|MII/);
  });
});
