import assert from 'node:assert/strict';
import { generateKeyPairSync, createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ModulesContainer } from '@nestjs/core';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import jwt from 'jsonwebtoken';
import { imageManifest, jsonBlob, randomBlob, OCI_MANIFEST } from '../testing/oci-fixtures';
import { startTestRegistry, type TestRegistry } from '../testing/test-registry';
import { ROUTE_ACCESS, type RouteAccess } from './auth.decorators';

const ADMIN = { user: 'admin', password: 'admin-password-1' };
let registry: TestRegistry;

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function token(
  scopes: string[],
  credentials?: { user: string; password: string },
): Promise<Response> {
  const query = new URLSearchParams({ service: 'berth-registry' });
  for (const s of scopes) query.append('scope', s);
  return fetch(`${registry.url}/auth/token?${query.toString()}`, {
    headers: credentials ? { Authorization: basic(credentials.user, credentials.password) } : {},
  });
}

async function bearer(
  scopes: string[],
  credentials?: { user: string; password: string },
): Promise<string> {
  const res = await token(scopes, credentials);
  assert.equal(res.status, 200, await res.clone().text());
  const body = (await res.json()) as { token: string; access_token: string };
  assert.equal(body.token, body.access_token);
  return body.token;
}

async function call(
  method: string,
  path: string,
  auth?: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${registry.url}${path}`, {
    method,
    body,
    headers: { ...(auth ? { Authorization: auth } : {}), ...headers },
  });
}

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  return call(
    method,
    `/admin/v1${path}`,
    basic(ADMIN.user, ADMIN.password),
    body === undefined ? undefined : JSON.stringify(body),
    {
      'Content-Type': 'application/json',
    },
  );
}

async function createPrincipal(name: string, role: string, kind = 'user'): Promise<string> {
  const res = await admin('POST', '/principals', {
    kind,
    name,
    role,
    password: `${name}-password`,
  });
  assert.equal(res.status, 201, await res.clone().text());
  return ((await res.json()) as { id: string }).id;
}

/** Pushes a one-layer image with the given bearer token; returns the manifest status. */
async function pushImage(repo: string, tag: string, auth: string): Promise<number> {
  const config = jsonBlob({ os: 'linux', n: randomBlob(4).digest });
  const layer = randomBlob(256);
  for (const blob of [config, layer]) {
    const res = await call(
      'POST',
      `/v2/${repo}/blobs/uploads/?digest=${blob.digest}`,
      auth,
      blob.data,
    );
    if (res.status !== 201) return res.status;
  }
  const res = await call(
    'PUT',
    `/v2/${repo}/manifests/${tag}`,
    auth,
    imageManifest(config, [layer]),
    {
      'Content-Type': OCI_MANIFEST,
    },
  );
  return res.status;
}

async function errorCode(res: Response): Promise<string | undefined> {
  return ((await res.json()) as { errors?: { code: string }[] }).errors?.[0]?.code;
}

describe('docker token authentication and access control', () => {
  before(async () => {
    registry = await startTestRegistry({
      REGISTRY_AUTH: 'token',
      REGISTRY_ADMIN_USER: ADMIN.user,
      REGISTRY_ADMIN_PASSWORD: ADMIN.password,
      REGISTRY_LOCKOUT_THRESHOLD: '10',
      REGISTRY_LOCKOUT_COOLDOWN_SECONDS: '2',
      REGISTRY_RATE_LIMIT_REQUESTS: '0',
    });
  });
  after(async () => {
    await registry.close();
  });

  it('challenges unauthenticated requests with the token realm and scope', async () => {
    const base = await call('GET', '/v2/');
    assert.equal(base.status, 401);
    assert.match(
      base.headers.get('www-authenticate') ?? '',
      /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/auth\/token",service="berth-registry"$/,
    );
    const pull = await call('GET', '/v2/team/app/manifests/latest');
    assert.equal(pull.status, 401);
    assert.match(pull.headers.get('www-authenticate') ?? '', /scope="repository:team\/app:pull"/);
    assert.equal(await errorCode(pull), 'UNAUTHORIZED');
  });

  it('issues tokens whose access lists exactly the granted actions', async () => {
    const t = await bearer(
      ['repository:team/app:pull,push,delete', 'repository:Bad_Name:pull', 'registry:catalog:*'],
      ADMIN,
    );
    const claims = jwt.decode(t) as { access: unknown; aud: string; iss: string; sub: string };
    assert.deepEqual(claims.access, [
      { type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    assert.equal(claims.sub, 'admin');
    assert.equal(await pushImage('team/app', 'v1', `Bearer ${t}`), 201);
    const wrong = await token(['repository:team/app:pull'], {
      user: 'admin',
      password: 'nope-nope',
    });
    assert.equal(wrong.status, 401);
  });

  it('lets a Developer push, a Reader pull but not push (403), and never escalates scopes', async () => {
    await createPrincipal('dev', 'developer');
    await createPrincipal('reader', 'reader');
    const dev = await bearer(['repository:roles/app:pull,push'], {
      user: 'dev',
      password: 'dev-password',
    });
    assert.equal(await pushImage('roles/app', 'v1', `Bearer ${dev}`), 201);
    const reader = await bearer(['repository:roles/app:pull,push,delete,*'], {
      user: 'reader',
      password: 'reader-password',
    });
    assert.deepEqual((jwt.decode(reader) as { access: unknown }).access, [
      { type: 'repository', name: 'roles/app', actions: ['pull'] },
    ]);
    assert.equal((await call('GET', '/v2/roles/app/manifests/v1', `Bearer ${reader}`)).status, 200);
    const push = await call('POST', '/v2/roles/app/blobs/uploads/', `Bearer ${reader}`);
    assert.equal(push.status, 403);
    assert.equal(await errorCode(push), 'DENIED');
    const del = await call('DELETE', '/v2/roles/app/manifests/v1', `Bearer ${dev}`);
    assert.equal(del.status, 403);
  });

  it('applies the access matrix, most specific pattern first', async () => {
    const id = await createPrincipal('matrix', 'reader');
    const set = await admin('PUT', `/principals/${id}/grants`, {
      grants: [
        { pattern: 'team-a/**', actions: ['pull', 'push'] },
        { pattern: 'team-a/locked', actions: ['pull'] },
        { pattern: 'secret/*', actions: [] },
      ],
    });
    assert.equal(set.status, 200, await set.clone().text());
    const creds = { user: 'matrix', password: 'matrix-password' };
    const table: [string, string[]][] = [
      ['team-a/app', ['pull', 'push']],
      ['team-a/x/y', ['pull', 'push']],
      ['team-a/locked', ['pull']],
      ['secret/thing', []],
      ['other/app', ['pull']],
    ];
    for (const [repo, expected] of table) {
      const t = await bearer([`repository:${repo}:pull,push,delete`], creds);
      const access = (jwt.decode(t) as { access: { actions: string[] }[] }).access;
      assert.deepEqual(access[0]?.actions ?? [], expected, repo);
    }
    const bad = await admin('PUT', `/principals/${id}/grants`, {
      grants: [{ pattern: 'UPPER', actions: ['pull'] }],
    });
    assert.equal(bad.status, 400);
  });

  it('serves public repositories anonymously, only for pulls', async () => {
    const adminToken = await bearer(
      ['repository:public/app:pull,push', 'repository:private/app:pull,push'],
      ADMIN,
    );
    assert.equal(await pushImage('public/app', 'v1', `Bearer ${adminToken}`), 201);
    assert.equal(await pushImage('private/app', 'v1', `Bearer ${adminToken}`), 201);
    assert.equal(
      (await admin('PUT', '/public', { registryPublic: false, patterns: ['public/**'] })).status,
      200,
    );
    const anon = await bearer([
      'repository:public/app:pull,push',
      'repository:private/app:pull',
      'registry:catalog:*',
    ]);
    assert.deepEqual((jwt.decode(anon) as { access: unknown }).access, [
      { type: 'repository', name: 'public/app', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    assert.equal((await call('GET', '/v2/public/app/manifests/v1', `Bearer ${anon}`)).status, 200);
    assert.equal((await call('GET', '/v2/private/app/manifests/v1', `Bearer ${anon}`)).status, 401);
    assert.equal(
      (await call('POST', '/v2/public/app/blobs/uploads/', `Bearer ${anon}`)).status,
      401,
    );
    const catalog = await call('GET', '/v2/_catalog', `Bearer ${anon}`);
    assert.deepEqual(((await catalog.json()) as { repositories: string[] }).repositories, [
      'public/app',
    ]);
  });

  it('mounts only from repositories the caller may pull', async () => {
    const adminToken = await bearer(['repository:hidden/src:pull,push'], ADMIN);
    const blob = randomBlob(100);
    assert.equal(
      (
        await call(
          'POST',
          `/v2/hidden/src/blobs/uploads/?digest=${blob.digest}`,
          `Bearer ${adminToken}`,
          blob.data,
        )
      ).status,
      201,
    );
    const id = await createPrincipal('mounter', 'reader');
    await admin('PUT', `/principals/${id}/grants`, {
      grants: [
        { pattern: 'mine/**', actions: ['pull', 'push'] },
        { pattern: 'hidden/**', actions: [] },
      ],
    });
    const t = await bearer(['repository:mine/dst:pull,push'], {
      user: 'mounter',
      password: 'mounter-password',
    });
    const mounted = await call(
      'POST',
      `/v2/mine/dst/blobs/uploads/?mount=${blob.digest}&from=hidden/src`,
      `Bearer ${t}`,
    );
    assert.equal(mounted.status, 202);
    const anywhere = await call(
      'POST',
      `/v2/mine/dst/blobs/uploads/?mount=${blob.digest}`,
      `Bearer ${t}`,
    );
    assert.equal(anywhere.status, 202);
  });

  it('revokes at once: access tokens, disabled and deleted principals', async () => {
    const id = await createPrincipal('ci', 'developer', 'service_account');
    const created = await admin('POST', `/principals/${id}/tokens`, { name: 'pipeline' });
    assert.equal(created.status, 201);
    const pat = (await created.json()) as { id: string; token: string };
    assert.match(pat.token, /^brt_/);
    const listed = await (await admin('GET', `/principals/${id}/tokens`)).text();
    assert.doesNotMatch(listed, new RegExp(pat.token));
    const t = await bearer(['repository:ci/app:pull,push'], { user: 'ci', password: pat.token });
    assert.equal(await pushImage('ci/app', 'v1', `Bearer ${t}`), 201);
    assert.equal((await admin('DELETE', `/principals/${id}/tokens/${pat.id}`)).status, 204);
    assert.equal((await call('GET', '/v2/ci/app/manifests/v1', `Bearer ${t}`)).status, 401);
    assert.equal(
      (await token(['repository:ci/app:pull'], { user: 'ci', password: pat.token })).status,
      401,
    );

    const userId = await createPrincipal('leaver', 'developer');
    const u = await bearer(['repository:ci/app:pull'], {
      user: 'leaver',
      password: 'leaver-password',
    });
    assert.equal((await call('GET', '/v2/ci/app/manifests/v1', `Bearer ${u}`)).status, 200);
    assert.equal((await admin('PATCH', `/principals/${userId}`, { disabled: true })).status, 200);
    assert.equal((await call('GET', '/v2/ci/app/manifests/v1', `Bearer ${u}`)).status, 401);
    assert.equal((await admin('PATCH', `/principals/${userId}`, { disabled: false })).status, 200);
    assert.equal((await call('GET', '/v2/ci/app/manifests/v1', `Bearer ${u}`)).status, 200);
    assert.equal((await admin('DELETE', `/principals/${userId}`)).status, 204);
    assert.equal((await call('GET', '/v2/ci/app/manifests/v1', `Bearer ${u}`)).status, 401);
  });

  it('rotates signing keys without breaking tokens already issued', async () => {
    const before = await bearer(['repository:team/app:pull'], ADMIN);
    const rotated = await admin('POST', '/keys/rotate');
    assert.equal(rotated.status, 201);
    const after = await bearer(['repository:team/app:pull'], ADMIN);
    assert.notEqual(
      jwt.decode(before, { complete: true })?.header.kid,
      jwt.decode(after, { complete: true })?.header.kid,
    );
    assert.equal((await call('GET', '/v2/team/app/manifests/v1', `Bearer ${before}`)).status, 200);
    assert.equal((await call('GET', '/v2/team/app/manifests/v1', `Bearer ${after}`)).status, 200);
    const jwks = (await (await call('GET', '/auth/jwks')).json()) as { keys: { kid: string }[] };
    assert.equal(jwks.keys.length, 2);
  });

  it('refuses forged, foreign, expired, tampered and wrong-algorithm tokens with 401, never 500', async () => {
    const real = await bearer(['repository:team/app:pull'], ADMIN);
    const decoded = jwt.decode(real, { complete: true });
    const claims = decoded?.payload as Record<string, unknown>;
    const kid = decoded?.header.kid;
    const foreignKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const jwksKey = ((await (await call('GET', '/auth/jwks')).json()) as { keys: object[] })
      .keys[0];
    const publicPem = JSON.stringify(jwksKey);
    const now = Math.floor(Date.now() / 1000);
    const [h, p, s] = real.split('.') as [string, string, string];
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...claims, access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }] })).toString('base64url')}.${s}`;
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid })).toString('base64url')}.${p}.`;
    const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid })).toString(
      'base64url',
    );
    const hs = `${hsHeader}.${p}.${createHmac('sha256', publicPem).update(`${hsHeader}.${p}`).digest('base64url')}`;
    const forged = [
      jwt.sign(claims, foreignKey, { algorithm: 'ES256', keyid: kid }),
      jwt.sign({ ...claims, aud: 'other-registry' }, foreignKey, {
        algorithm: 'ES256',
        keyid: kid,
      }),
      jwt.sign({ ...claims, exp: now - 10, iat: now - 400, nbf: now - 400 }, foreignKey, {
        algorithm: 'ES256',
        keyid: kid,
      }),
      tampered,
      none,
      hs,
      'not-a-jwt',
      'a.b.c',
    ];
    for (const t of forged) {
      const res = await call('GET', '/v2/team/app/manifests/v1', `Bearer ${t}`);
      assert.equal(res.status, 401, t);
      assert.equal(await errorCode(res), 'UNAUTHORIZED');
    }
    for (const header of [
      'Bearer',
      'Basic !!!',
      'Bearer ' + 'x'.repeat(9000),
      'Digest abc',
      `Basic ${Buffer.from('nocolon').toString('base64')}`,
    ]) {
      const res = await call('GET', '/v2/team/app/manifests/v1', header);
      assert.equal(res.status, 401, header.slice(0, 20));
      const tokenRes = await fetch(`${registry.url}/auth/token?scope=repository:team/app:pull`, {
        headers: { Authorization: header },
      });
      assert.ok(
        [401, 431].includes(tokenRes.status),
        `${header.slice(0, 20)} -> ${tokenRes.status}`,
      );
    }
  });

  it('describes the admin API with OpenAPI', async () => {
    const res = await call('GET', '/admin/openapi.json');
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    assert.ok(doc.paths['/admin/v1/principals'], Object.keys(doc.paths).join(' '));
    assert.ok(doc.paths['/admin/v1/keys/rotate']);
    assert.equal(
      Object.keys(doc.paths).some((p) => p.startsWith('/v2')),
      false,
    );
  });

  it('speaks the OAuth2 form with refresh tokens', async () => {
    const res = await fetch(`${registry.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'password',
        username: ADMIN.user,
        password: ADMIN.password,
        service: 'berth-registry',
        scope: 'repository:team/app:pull',
        client_id: 'test',
      }),
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      access_token: string;
      refresh_token: string;
      scope: string;
    };
    assert.equal(body.scope, 'repository:team/app:pull');
    assert.equal(
      (await call('GET', '/v2/team/app/manifests/v1', `Bearer ${body.access_token}`)).status,
      200,
    );
    const refreshed = await fetch(`${registry.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: body.refresh_token,
        scope: 'repository:team/app:pull,push',
      }),
    });
    assert.equal(refreshed.status, 200);
    const again = (await refreshed.json()) as { access_token: string };
    assert.equal(
      (await call('POST', '/v2/team/app/blobs/uploads/', `Bearer ${again.access_token}`)).status,
      202,
    );
    const bogus = await fetch(`${registry.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'brr_nope' }),
    });
    assert.equal(bogus.status, 401);
  });

  it('locks out a brute-forced user and IP, refuses the right password meanwhile, and lets it in after the cool-down', async () => {
    await createPrincipal('victim', 'reader');
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++)
      statuses.push((await token([], { user: 'victim', password: `wrong-${i}` })).status);
    // Earlier tests' failures from this IP count too: the lockout starts at the 10th at the latest.
    const firstLocked = statuses.indexOf(429);
    assert.ok(firstLocked > 0 && firstLocked <= 10, statuses.join(','));
    assert.deepEqual(statuses.slice(0, firstLocked), Array(firstLocked).fill(401));
    assert.deepEqual(statuses.slice(firstLocked), Array(20 - firstLocked).fill(429));
    const during = await token([], { user: 'victim', password: 'victim-password' });
    assert.equal(during.status, 429);
    assert.ok(Number(during.headers.get('retry-after')) >= 1);
    assert.equal(await errorCode(during), 'TOOMANYREQUESTS');
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal((await token([], { user: 'victim', password: 'victim-password' })).status, 200);
  });

  it('audits sign-ins, lockouts, denials, pushes, pulls and admin changes', async () => {
    const pulled = await bearer(['repository:team/app:pull'], ADMIN);
    assert.equal((await call('GET', '/v2/team/app/manifests/v1', `Bearer ${pulled}`)).status, 200);
    const expected: [string, string][] = [
      ['auth.login', 'success'],
      ['auth.failure', 'failure'],
      ['auth.lockout', 'denied'],
      ['access.denied', 'denied'],
      ['manifest.push', 'success'],
      ['manifest.pull', 'success'],
      ['admin.change', 'success'],
      ['token.issue', 'success'],
      ['token.revoke', 'success'],
      ['key.rotate', 'success'],
    ];
    for (const [action, result] of expected) {
      let events: { action: string; result: string; principal: string; clientIp: string }[] = [];
      for (let i = 0; i < 20 && events.length === 0; i++) {
        const res = await admin('GET', `/audit?action=${action}&limit=5`);
        assert.equal(res.status, 200, await res.clone().text());
        events = ((await res.json()) as { events: typeof events }).events;
        if (events.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(events.length > 0, `no ${action} event`);
      assert.equal(events[0]?.result, result, action);
      assert.equal(events[0]?.clientIp, '127.0.0.1');
    }
    const lockouts = await (await admin('GET', '/audit?action=auth.lockout')).json();
    assert.match(JSON.stringify(lockouts), /victim/);
  });

  it('guards every route: each declares its access, and none but the public ones answers without credentials', async () => {
    const container = registry.running.app.get(ModulesContainer);
    const routes: { method: string; path: string; access: RouteAccess | undefined }[] = [];
    const methods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'ALL', 'OPTIONS', 'HEAD'];
    for (const module of container.values()) {
      for (const wrapper of module.controllers.values()) {
        const type = wrapper.metatype as (new (...args: unknown[]) => object) | null;
        if (!type) continue;
        const base = String(Reflect.getMetadata(PATH_METADATA, type) ?? '');
        for (const name of Object.getOwnPropertyNames(type.prototype)) {
          const handler = (type.prototype as Record<string, unknown>)[name];
          if (typeof handler !== 'function' || name === 'constructor') continue;
          const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
          if (path === undefined) continue;
          const method = methods[Reflect.getMetadata(METHOD_METADATA, handler) as number] ?? '?';
          const access = (Reflect.getMetadata(ROUTE_ACCESS, handler) ??
            Reflect.getMetadata(ROUTE_ACCESS, type)) as RouteAccess | undefined;
          routes.push({
            method,
            path: `/${base}/${path}`.replace(/\/+/g, '/').replace(/\/$/, ''),
            access,
          });
        }
      }
    }
    assert.ok(routes.length >= 25, `found ${routes.length} routes`);
    const undeclared = routes.filter((r) => !r.access).map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(undeclared, []);
    const publicRoutes = routes
      .filter((r) => r.access?.kind === 'public')
      .map((r) => r.path)
      .sort();
    assert.deepEqual(publicRoutes, [
      '/admin/openapi.json',
      '/auth/jwks',
      '/auth/token',
      '/auth/token',
      '/healthz',
      '/metrics',
      '/readyz',
    ]);
    for (const route of routes.filter((r) => r.access?.kind !== 'public')) {
      const path = route.path
        .replace('/v2/_r/', '/v2/guard/check/')
        .replace(/:digest/, `sha256:${'0'.repeat(64)}`)
        .replace(/:[a-zA-Z]+/g, '00000000-0000-0000-0000-000000000000');
      const res = await fetch(`${registry.url}${path}`, { method: route.method });
      assert.equal(
        res.status,
        401,
        `${route.method} ${route.path} answered ${res.status} without credentials`,
      );
    }
  });
});

describe('request rate limit', () => {
  let limited: TestRegistry;
  before(async () => {
    limited = await startTestRegistry({
      REGISTRY_RATE_LIMIT_REQUESTS: '20',
      REGISTRY_RATE_LIMIT_WINDOW_SECONDS: '60',
    });
  });
  after(async () => {
    await limited.close();
  });

  it('answers 429 TOOMANYREQUESTS with Retry-After past the per-IP limit', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await fetch(`${limited.url}/v2/`)).status);
    assert.deepEqual(statuses.slice(0, 20), Array(20).fill(200));
    const over = await fetch(`${limited.url}/v2/`);
    assert.equal(over.status, 429);
    assert.ok(Number(over.headers.get('retry-after')) > 0);
    assert.equal(
      ((await over.json()) as { errors: { code: string }[] }).errors[0]?.code,
      'TOOMANYREQUESTS',
    );
  });
});
