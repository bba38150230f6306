/**
 * The whole platform through its REST API, as a customer meets it: `berth platform serve`
 * (control plane + local runtime) on the test PostgreSQL, sign-up, an organisation and
 * registries on a tiny tier, skopeo pushes with issued credentials, the read_only quota at
 * 90 / 85 %, auto_upgrade with the tier and invoice changing, the maintenance switch, member
 * removal, isolation between tenants, deletion with its cascade, and provisioning resumed
 * after the control plane is killed mid-job. Every route of the API is also called without
 * credentials: only the declared public ones may answer.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import { freePort } from './harness';
import {
  makeTempDir,
  randomId,
  randomImage,
  removeDir,
  repoRoot,
  requireCommand,
  run,
  writeOciLayout,
  type RunResult,
} from './tools';

const TIMEOUT = 15 * 60_000;
const ADMIN_EMAIL = 'operator@example.com';
const ADMIN_PASSWORD = 'operator-password-1';
const MB = 1_000_000;

interface Platform {
  url: string;
  child: ChildProcess;
  output: () => string;
}

async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err instanceof Error ? err : new Error(String(err));
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

interface Json {
  [key: string]: unknown;
}

class Api {
  constructor(
    readonly base: string,
    private token?: string,
  ) {}

  as(token: string): Api {
    return new Api(this.base, token);
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Json; headers: Headers; text: string }> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let parsed: Json = {};
    try {
      parsed = text ? (JSON.parse(text) as Json) : {};
    } catch {
      parsed = {};
    }
    return { status: res.status, body: parsed, headers: res.headers, text };
  }

  async ok(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Json> {
    const res = await this.call(method, path, body, headers);
    assert.ok(
      res.status >= 200 && res.status < 300,
      `${method} ${path}: ${res.status} ${res.text}`,
    );
    return res.body;
  }

  async login(email: string, password: string): Promise<Api> {
    const body = await this.ok('POST', '/api/v1/auth/login', { email, password });
    return this.as(body.accessToken as string);
  }
}

function skopeo(args: string[], allowFailure = false): Promise<RunResult> {
  return run('skopeo', args, { timeoutMs: 5 * 60_000, allowFailure });
}

describe('platform: control plane, local runtime, quotas, billing', { timeout: TIMEOUT }, () => {
  let work: string;
  let dataDir: string;
  let databaseUrl: string;
  let adminDatabaseUrl: string;
  let controlDatabase: string;
  let platform: Platform | undefined;
  let env: Record<string, string>;
  let api: Api;
  let owner: Api;
  let operator: Api;

  async function start(): Promise<Platform> {
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin', 'berth.js'), 'platform', 'serve'],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    // BERTH_E2E_PLATFORM_LOG=<file> keeps the platform's log for a failed run.
    const log = process.env.BERTH_E2E_PLATFORM_LOG;
    const keep = (d: Buffer): void => {
      output += d.toString();
      if (log) appendFileSync(log, d);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const url = `http://127.0.0.1:${env.CONTROL_PLANE_PORT}`;
    await waitFor('the control plane', async () => {
      if (child.exitCode !== null) throw new Error(`control plane exited: ${output.slice(-3000)}`);
      const res = await fetch(`${url}/readyz`).catch(() => undefined);
      // Ready, and the first-start summary (printed after the first registry is up) is out.
      return res?.ok && /administrator/.test(output) ? true : undefined;
    });
    return { url, child, output: () => output };
  }

  async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = platform?.child;
    platform = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  async function registry(org: Api, orgSlug: string, name: string): Promise<Json> {
    return org.ok('GET', `/api/v1/orgs/${orgSlug}/registries/${name}`);
  }

  async function waitState(org: Api, orgSlug: string, name: string, state: string): Promise<Json> {
    return waitFor(`${name} ${state}`, async () => {
      const r = await registry(org, orgSlug, name);
      if (r.state === 'failed' && state !== 'failed')
        throw new Error(`failed: ${String(r.stateReason)}`);
      return r.state === state ? r : undefined;
    });
  }

  async function refresh(org: Api, orgSlug: string, name: string): Promise<Json> {
    return org.ok('POST', `/api/v1/orgs/${orgSlug}/registries/${name}/usage/refresh`);
  }

  /** An OCI layout with one image of `layerMB` decimal MB of random bytes. */
  async function image(layerMB: number): Promise<string> {
    const dir = join(work, `img-${randomId()}`);
    await writeOciLayout(dir, [{ tag: 'v1', content: randomImage([layerMB * MB]) }]);
    return dir;
  }

  async function push(
    layout: string,
    host: string,
    ref: string,
    creds: { username: string; password: string },
    allowFailure = false,
  ): Promise<RunResult> {
    return skopeo(
      [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        '--dest-creds',
        `${creds.username}:${creds.password}`,
        '--retry-times=0',
        `oci:${layout}:v1`,
        `docker://${host}/${ref}`,
      ],
      allowFailure,
    );
  }

  /** Pulls `ref` into a fresh `dir:` copy; returns its directory. */
  async function pull(
    host: string,
    ref: string,
    creds: { username: string; password: string },
  ): Promise<string> {
    const dir = join(work, `pull-${randomId()}`);
    await skopeo([
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--src-creds',
      `${creds.username}:${creds.password}`,
      `docker://${host}/${ref}`,
      `dir:${dir}`,
    ]);
    return dir;
  }

  async function credentials(org: Api, orgSlug: string, name: string): Promise<Json> {
    return org.ok('POST', `/api/v1/orgs/${orgSlug}/registries/${name}/credentials`, {
      kind: 'user',
    });
  }

  before(async () => {
    await requireCommand('skopeo');
    const url = process.env.DATABASE_URL;
    if (!url)
      throw new Error('DATABASE_URL is not set: start PostgreSQL with scripts/pg-server.sh');
    adminDatabaseUrl = url;
    work = await makeTempDir('berth-platform-');
    dataDir = join(work, 'data');
    controlDatabase = `cp_e2e_${randomId()}`;
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${controlDatabase}`);
    await admin.end();
    const u = new URL(url);
    u.pathname = `/${controlDatabase}`;
    databaseUrl = u.toString();
    env = {
      DATA_DIR: dataDir,
      CONTROL_PLANE_DATABASE_URL: databaseUrl,
      TENANT_DATABASE_ADMIN_URL: url,
      CONTROL_PLANE_PORT: String(await freePort()),
      PORT: String(await freePort()),
      LOCAL_RUNTIME_PORT_FROM: '45100',
      LOCAL_RUNTIME_PORT_TO: '45199',
      BERTH_ADMIN_EMAIL: ADMIN_EMAIL,
      BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD,
      // The monitor runs every second so the test sees quota changes quickly; it also
      // refreshes on demand through the API.
      BERTH_USAGE_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'warn',
      TENANT_ENV_LOG_LEVEL: 'warn',
      TENANT_ENV_REGISTRY_GC_SCHEDULE: 'off',
      TENANT_ENV_REGISTRY_RETENTION_SCHEDULE: 'off',
      // Lifecycle jobs on BullMQ when the test run has Redis (npm test starts one), the
      // in-process queue otherwise.
      ...(process.env.REDIS_URL
        ? { REDIS_URL: process.env.REDIS_URL, BERTH_QUEUE_PREFIX: `berth:e2e:${randomId()}` }
        : {}),
    };
    platform = await start();
    api = new Api(platform.url);
    operator = await api.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    // A test may add tiny tiers (operators edit the tiers table); nothing hard-codes them.
    for (const [name, ordinal, diskMB] of [
      ['test-tiny', 1, 20],
      ['test-small', 2, 60],
    ] as const) {
      await operator.ok('PUT', `/api/v1/tiers/${name}`, {
        ordinal,
        diskBytes: diskMB * MB,
        includedEgressBytes: 10 * MB,
        overagePerGbMicros: 5000,
        monthlyPriceMicros: 1_000_000 * ordinal,
        cpuMillis: 100,
        memoryMiB: 128,
      });
    }
  });

  after(async () => {
    await stop();
    // Data planes stop with the control plane; drop what the test created.
    const admin = new Client({ connectionString: adminDatabaseUrl });
    await admin.connect();
    const dbs = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE 'tenant\\_%'`,
      [controlDatabase],
    );
    for (const { datname } of dbs.rows) {
      await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
    const roles = await admin.query<{ rolname: string }>(
      `SELECT rolname FROM pg_roles WHERE rolname LIKE 'tenant\\_%'`,
    );
    for (const { rolname } of roles.rows) await admin.query(`DROP ROLE IF EXISTS "${rolname}"`);
    await admin.end();
    await removeDir(work);
  });

  it('first start: operator, organisation and registry on PORT, printed', async () => {
    const out = platform?.output() ?? '';
    assert.match(out, /control plane\s+http:\/\/127\.0\.0\.1:\d+/);
    assert.match(out, new RegExp(`registry\\s+default: http://127.0.0.1:${env.PORT} \\(ready\\)`));
    assert.match(out, /docker login\s+echo 'brt_/);
    const r = await registry(operator, 'default', 'default');
    assert.equal(r.state, 'ready');
    const res = await fetch(`http://127.0.0.1:${env.PORT}/v2/`);
    assert.equal(res.status, 401, 'the first registry serves with token auth');
  });

  it('every route answers 401 without credentials unless it is declared public', async () => {
    const doc = (await api.ok('GET', '/api/docs-json')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const publicRoutes = new Set([
      'post /api/v1/auth/signup',
      'post /api/v1/auth/login',
      'post /api/v1/auth/refresh',
      'post /api/v1/auth/logout',
      'get /api/v1/tiers',
      'get /api/v1/tiers/{name}',
    ]);
    let checked = 0;
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const method of Object.keys(methods)) {
        const key = `${method} ${path}`;
        const concrete = path.replace(/\{[^}]+\}/g, 'x');
        const res = await api.call(
          method.toUpperCase(),
          concrete,
          method === 'get' ? undefined : {},
        );
        if (publicRoutes.has(key)) {
          assert.notEqual(res.status, 401, `${key} is public`);
        } else {
          assert.equal(res.status, 401, `${key} must need credentials (got ${res.status})`);
          assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
        }
        checked++;
      }
    }
    assert.ok(checked >= 25, `only ${checked} routes in the OpenAPI document`);
  });

  it('sign-up, organisation, idempotent registry creation, ready', async () => {
    await api.ok('POST', '/api/v1/auth/signup', {
      email: 'alice@example.com',
      name: 'Alice',
      password: 'alice-password-1',
    });
    const bad = await api.call('POST', '/api/v1/auth/signup', { email: 'nope', password: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.ok(Array.isArray(bad.body.errors));
    owner = await api.login('alice@example.com', 'alice-password-1');
    await owner.ok('POST', '/api/v1/orgs', { slug: 'acme', name: 'Acme' });
    const key = `create-${randomId()}`;
    const first = await owner.call(
      'POST',
      '/api/v1/orgs/acme/registries',
      { name: 'acme-a', tier: 'test-tiny' },
      { 'idempotency-key': key },
    );
    assert.equal(first.status, 201, first.text);
    const again = await owner.call(
      'POST',
      '/api/v1/orgs/acme/registries',
      { name: 'acme-a', tier: 'test-tiny' },
      { 'idempotency-key': key },
    );
    assert.equal(again.status, 201);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.body.id, first.body.id);
    const other = await owner.call(
      'POST',
      '/api/v1/orgs/acme/registries',
      { name: 'acme-other', tier: 'test-tiny' },
      { 'idempotency-key': key },
    );
    assert.equal(other.status, 422, 'same key, different request');
    const ready = await waitState(owner, 'acme', 'acme-a', 'ready');
    assert.match(String(ready.endpoint), /^http:\/\/127\.0\.0\.1:451\d\d$/);
    const page = await owner.ok('GET', '/api/v1/orgs/acme/registries?limit=1');
    assert.equal((page.items as unknown[]).length, 1);
  });

  let hostA: string;
  let credsA: { username: string; password: string };

  it('read_only: push with issued credentials, usage rises, 503 at 90 %, pulls work, resume at 85 %', async () => {
    const issued = await credentials(owner, 'acme', 'acme-a');
    hostA = issued.registry as string;
    credsA = { username: issued.username as string, password: issued.password as string };
    assert.match(
      String(issued.dockerLogin),
      /docker login 127\.0\.0\.1:\d+ --username alice_example\.com --password-stdin/,
    );
    const secret = issued.pullSecret as { type: string; data: Record<string, string> };
    assert.equal(secret.type, 'kubernetes.io/dockerconfigjson');
    const config = JSON.parse(
      Buffer.from(secret.data['.dockerconfigjson'] ?? '', 'base64').toString(),
    ) as {
      auths: Record<string, { password: string }>;
    };
    assert.equal(config.auths[hostA]?.password, credsA.password);

    await push(await image(10), hostA, 'app/one:v1', credsA);
    let r = (await refresh(owner, 'acme', 'acme-a')).registry as Json;
    const usage = r.usage as { totalBytes: number; limitBytes: number };
    assert.ok(usage.totalBytes >= 10 * MB && usage.totalBytes < 11 * MB, JSON.stringify(usage));
    assert.equal(usage.limitBytes, 20 * MB);
    assert.equal(r.writeBlocked, false);

    // The layer fits under 90 %; whatever comes after it (the config blob) may already meet
    // the closed gate: then the refusal must be the quota's.
    const second = await push(await image(9), hostA, 'app/two:v1', credsA, true);
    if (second.code !== 0) assert.match(second.stderr, /503.*storage quota reached/);
    r = (await refresh(owner, 'acme', 'acme-a')).registry as Json;
    assert.equal(r.writeBlocked, true, 'over 90 % of the tier: pushes stop');
    const refused = await push(await image(1), hostA, 'app/three:v1', credsA, true);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /503|quota/i);
    const pulled = await pull(hostA, 'app/one:v1', credsA);
    assert.ok(existsSync(join(pulled, 'manifest.json')), 'pulls keep working while blocked');

    // Delete the second image (or what of it arrived) and collect garbage: usage falls
    // under 85 %, pushes resume.
    if (second.code === 0)
      await skopeo([
        'delete',
        '--tls-verify=false',
        '--creds',
        `${credsA.username}:${credsA.password}`,
        `docker://${hostA}/app/two:v1`,
      ]);
    const gc = await fetch(`http://${hostA}/admin/v1/gc`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${credsA.username}:${credsA.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ graceSeconds: 0 }),
    });
    assert.equal(gc.status, 200, await gc.text());
    r = (await refresh(owner, 'acme', 'acme-a')).registry as Json;
    assert.equal(r.writeBlocked, false, JSON.stringify(r.usage));
    await push(await image(1), hostA, 'app/three:v1', credsA);
  });

  it('maintenance switch: pushes get 503 with the message, pulls work', async () => {
    await owner.ok('PATCH', '/api/v1/orgs/acme/registries/acme-a', {
      maintenanceMessage: 'database upgrade until 14:00 UTC',
    });
    await waitFor('the maintenance gate', async () => {
      const gate = (await refresh(owner, 'acme', 'acme-a')).gate as Json;
      return gate.writable === false ? true : undefined;
    });
    const res = await fetch(`http://${hostA}/v2/app/x/blobs/uploads/`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${credsA.username}:${credsA.password}`).toString('base64')}`,
      },
    });
    // Basic credentials go through the token endpoint first; follow the challenge.
    let status = res.status;
    let reason = res.headers.get('berth-reason');
    if (status === 401) {
      const token = await fetch(
        `http://${hostA}/auth/token?service=acme-a&scope=repository:app/x:push,pull`,
        {
          headers: {
            authorization: `Basic ${Buffer.from(`${credsA.username}:${credsA.password}`).toString('base64')}`,
          },
        },
      );
      const body = (await token.json()) as { token: string };
      const retry = await fetch(`http://${hostA}/v2/app/x/blobs/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${body.token}` },
      });
      status = retry.status;
      reason = retry.headers.get('berth-reason');
    }
    assert.equal(status, 503);
    assert.equal(reason, 'database upgrade until 14:00 UTC');
    await owner.ok('PATCH', '/api/v1/orgs/acme/registries/acme-a', { maintenanceMessage: null });
    await waitFor('the gate to reopen', async () => {
      const gate = (await refresh(owner, 'acme', 'acme-a')).gate as Json;
      return gate.writable === true ? true : undefined;
    });
  });

  it('auto_upgrade: at 90 % the registry moves to the next tier, notified and invoiced', async () => {
    await owner.ok('PATCH', '/api/v1/orgs/acme/registries/acme-a', { quotaPolicy: 'auto_upgrade' });
    await push(await image(8), hostA, 'app/four:v1', credsA);
    const r = await waitFor('the upgrade', async () => {
      const reg = (await refresh(owner, 'acme', 'acme-a')).registry as Json;
      return reg.tier === 'test-small' ? reg : undefined;
    });
    assert.equal(r.writeBlocked, false, 'the larger tier accepts pushes');
    const notes = await owner.ok('GET', '/api/v1/orgs/acme/notifications');
    assert.ok(
      (notes.items as Json[]).some((n) => n.kind === 'tier.auto_upgrade'),
      JSON.stringify(notes.items),
    );
    const month = new Date().toISOString().slice(0, 7);
    const invoice = await owner.ok('GET', `/api/v1/orgs/acme/invoices/${month}`);
    const tierLines = (invoice.lines as Json[]).filter(
      (l) => l.kind === 'tier' && l.registryName === 'acme-a',
    );
    // The hour of the upgrade is billed at the new tier (a registry created in the same hour
    // has only that line; across an hour boundary the earlier hours stay on test-tiny).
    assert.equal(tierLines.at(-1)?.tier, 'test-small', JSON.stringify(tierLines));
    assert.ok(tierLines.length <= 2);

    // Egress of the earlier pull was collected; collecting again does not count it twice.
    const egress = async (): Promise<number> => {
      const db = new Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const rows = await db.query<{ bytes: string }>(
          `SELECT coalesce(sum(e.bytes), 0)::text AS bytes FROM egress_hourly e
             JOIN registries r ON r.id = e.registry_id WHERE r.name = 'acme-a'`,
        );
        return Number(rows.rows[0]?.bytes ?? 0);
      } finally {
        await db.end();
      }
    };
    const served = await egress();
    assert.ok(served >= 10 * MB, `egress ${served}`);
    await refresh(owner, 'acme', 'acme-a');
    await refresh(owner, 'acme', 'acme-a');
    assert.equal(await egress(), served, 'a repeated report replaces, it does not add');
    assert.equal(typeof invoice.totalCents, 'number');
    const csv = await owner.call('GET', `/api/v1/orgs/acme/invoices/${month}?format=csv`);
    assert.match(csv.headers.get('content-type') ?? '', /text\/csv/);
    assert.match(csv.text, /acme-a/);
    await push(await image(1), hostA, 'app/five:v1', credsA);
  });

  it('members: a member gets registry access; removed, their token stops working', async () => {
    const invite = await owner.ok('POST', '/api/v1/orgs/acme/invitations', {
      email: 'bob@example.com',
      role: 'developer',
    });
    await api.ok('POST', '/api/v1/auth/signup', {
      email: 'bob@example.com',
      name: 'Bob',
      password: 'bob-password-12',
    });
    const bob = await api.login('bob@example.com', 'bob-password-12');
    const joined = await bob.ok('POST', '/api/v1/orgs/invitations/accept', { token: invite.token });
    assert.equal(joined.role, 'developer');
    const forbidden = await bob.call('POST', '/api/v1/orgs/acme/registries', {
      name: 'bobs',
      tier: 'test-tiny',
    });
    assert.equal(forbidden.status, 403);
    const issued = await credentials(bob, 'acme', 'acme-a');
    const bobCreds = `${String(issued.username)}:${String(issued.password)}`;
    await skopeo([
      'inspect',
      '--tls-verify=false',
      '--creds',
      bobCreds,
      `docker://${hostA}/app/one:v1`,
    ]);
    const me = await bob.ok('GET', '/api/v1/auth/me');
    await owner.ok('DELETE', `/api/v1/orgs/acme/members/${String(me.id)}`);
    await waitFor('bob to lose registry access', async () => {
      const res = await skopeo(
        ['inspect', '--tls-verify=false', '--creds', bobCreds, `docker://${hostA}/app/one:v1`],
        true,
      );
      return res.code !== 0 ? true : undefined;
    });
  });

  it('isolation: registry A credentials reach nothing in B; a full B leaves A writable', async () => {
    await api.ok('POST', '/api/v1/auth/signup', {
      email: 'carol@example.com',
      name: 'Carol',
      password: 'carol-password-1',
    });
    const carol = await api.login('carol@example.com', 'carol-password-1');
    await carol.ok('POST', '/api/v1/orgs', { slug: 'globex', name: 'Globex' });
    // Alice cannot see another organisation at all.
    assert.equal((await owner.call('GET', '/api/v1/orgs/globex/registries')).status, 404);
    await carol.ok('POST', '/api/v1/orgs/globex/registries', {
      name: 'globex-b',
      tier: 'test-tiny',
    });
    await waitState(carol, 'globex', 'globex-b', 'ready');
    const issuedB = await credentials(carol, 'globex', 'globex-b');
    const hostB = issuedB.registry as string;
    const credsB = { username: issuedB.username as string, password: issuedB.password as string };
    assert.notEqual(hostB, hostA);
    await push(await image(1), hostB, 'secret/b:v1', credsB);
    const crossAuth = `${credsA.username}:${credsA.password}`;
    const read = await skopeo(
      ['inspect', '--tls-verify=false', '--creds', crossAuth, `docker://${hostB}/secret/b:v1`],
      true,
    );
    assert.notEqual(read.code, 0, 'A credentials cannot read B');
    const list = await skopeo(
      ['list-tags', '--tls-verify=false', '--creds', crossAuth, `docker://${hostB}/secret/b`],
      true,
    );
    assert.notEqual(list.code, 0, 'A credentials cannot list B');
    const write = await push(await image(1), hostB, 'secret/c:v1', credsA, true);
    assert.notEqual(write.code, 0, 'A credentials cannot push to B');
    const catalog = await fetch(`http://${hostB}/v2/_catalog`, {
      headers: { authorization: `Basic ${Buffer.from(crossAuth).toString('base64')}` },
    });
    assert.ok(catalog.status === 401 || catalog.status === 403, `catalog: ${catalog.status}`);

    const big = await push(await image(18), hostB, 'secret/big:v1', credsB, true);
    if (big.code !== 0) assert.match(big.stderr, /503.*storage quota reached/);
    const b = (await refresh(carol, 'globex', 'globex-b')).registry as Json;
    assert.equal(b.writeBlocked, true);
    const a = (await refresh(owner, 'acme', 'acme-a')).registry as Json;
    assert.equal(a.writeBlocked, false);
    await push(await image(1), hostA, 'app/six:v1', credsA);
  });

  it('suspend stops the data plane and keeps its data; resume brings it back', async () => {
    const carol = await api.login('carol@example.com', 'carol-password-1');
    const host = (await registry(carol, 'globex', 'globex-b')).host as string;
    await carol.ok('POST', '/api/v1/orgs/globex/registries/globex-b/suspend');
    await waitFor('the data plane to stop', async () => {
      const res = await fetch(`http://${host}/v2/`).catch(() => undefined);
      return res === undefined ? true : undefined;
    });
    await carol.ok('POST', '/api/v1/orgs/globex/registries/globex-b/resume');
    await waitState(carol, 'globex', 'globex-b', 'ready');
    const issued = await credentials(carol, 'globex', 'globex-b');
    await skopeo([
      'inspect',
      '--tls-verify=false',
      '--creds',
      `${String(issued.username)}:${String(issued.password)}`,
      `docker://${host}/secret/b:v1`,
    ]);
  });

  it('delete: the registry, its process, storage, database and credentials are gone', async () => {
    const carol = await api.login('carol@example.com', 'carol-password-1');
    const before = await registry(carol, 'globex', 'globex-b');
    const host = before.host as string;
    const deleting = await carol.call('DELETE', '/api/v1/orgs/globex/registries/globex-b');
    assert.equal(deleting.status, 202);
    await waitFor('the registry to disappear', async () => {
      const res = await carol.call('GET', '/api/v1/orgs/globex/registries/globex-b');
      return res.status === 404 ? true : undefined;
    });
    const admin = new Client({ connectionString: databaseUrl });
    await admin.connect();
    const row = await admin.query<{ state: string; secrets: Buffer | null }>(
      "SELECT state, secrets FROM registries WHERE name = 'globex-b'",
    );
    const dbs = await admin.query(
      "SELECT 1 FROM pg_database WHERE datname LIKE 'tenant\\_globex\\_b\\_%'",
    );
    await admin.end();
    assert.equal(row.rows[0]?.state, 'deleted');
    assert.equal(row.rows[0]?.secrets, null, 'secrets are erased');
    assert.equal(dbs.rowCount, 0, 'the tenant database is dropped');
    assert.equal(existsSync(join(dataDir, 'registries', 'globex-b')), false, 'storage is removed');
    const res = await fetch(`http://${host}/v2/`).catch(() => undefined);
    assert.equal(res, undefined, 'nothing listens on its port any more');
  });

  it('a control plane killed mid-provisioning resumes after restart; tenants come back', async () => {
    await owner.ok('POST', '/api/v1/orgs/acme/registries', { name: 'acme-c', tier: 'test-tiny' });
    await stop('SIGKILL');
    platform = await start();
    api = new Api(platform.url);
    owner = await api.login('alice@example.com', 'alice-password-1');
    await waitState(owner, 'acme', 'acme-c', 'ready');
    await waitFor('registry A back', async () => {
      const res = await fetch(`http://${hostA}/v2/`).catch(() => undefined);
      return res?.status === 401 ? true : undefined;
    });
    const pulled = await pull(hostA, 'app/one:v1', credsA);
    assert.ok(existsSync(join(pulled, 'manifest.json')), 'content survived the restart');
  });
});
