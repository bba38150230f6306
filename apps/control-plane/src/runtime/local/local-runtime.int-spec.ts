/**
 * The local runtime against the real data plane (`bin/berth.js registry serve`, built in
 * apps/registry/dist) and the PostgreSQL server named by DATABASE_URL (scripts/pg-server.sh):
 * every tenant gets a fresh database, dropped at the end.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Client } from 'pg';
import { DataPlaneAdminPaths, type StorageUsageReport } from '@berth/platform-contracts';
import type { RuntimeStatus, TenantDeployment } from '../runtime.port';
import { LocalProcessRuntime, allocatePort, type LocalRuntimeConfig } from './index';

const FIXTURE = join(__dirname, 'testing', 'abandoned-control-plane.js');
/** A variable of the control plane's own environment that no data plane may see. */
const CONTROL_PLANE_SECRET = 'BERTH_TEST_CONTROL_PLANE_SECRET';

const adminUrl = process.env.DATABASE_URL ?? '';

function databaseUrl(database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function sql(statement: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

function signingKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' })
    .privateKey.export({ type: 'pkcs8', format: 'pem' })
    .toString();
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` after 90 s. */
async function waitFor<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + 90_000;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const described = typeof what === 'string' ? what : what();
      throw new Error(`timed out waiting for ${described} (${String(last)})`);
    }
    await delay(100);
  }
}

function waitForState(
  runtime: LocalProcessRuntime,
  tenant: TenantDeployment,
  state: RuntimeStatus['state'],
): Promise<RuntimeStatus> {
  let seen: RuntimeStatus | undefined;
  return waitFor(
    () => `${tenant.name} ${state} (last ${JSON.stringify(seen)})`,
    async () => {
      seen = await runtime.status(tenant);
      return seen.state === state ? seen : undefined;
    },
  );
}

/** True while the pid exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

function waitGone(pid: number): Promise<true> {
  return waitFor(`pid ${pid} to exit`, () => Promise.resolve(alive(pid) ? undefined : true));
}

function startEnv(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .filter((entry) => entry !== '')
    .map((entry): [string, string] => {
      const eq = entry.indexOf('=');
      return [entry.slice(0, eq), entry.slice(eq + 1)];
    });
  return new Map(entries);
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function countMatches(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Starts the stand-in control plane; resolves its data plane's pid once that one is ready. */
async function startAbandonedControlPlane(
  config: LocalRuntimeConfig,
  tenant: TenantDeployment,
  fixtures: ChildProcess[],
): Promise<{ controlPlane: ChildProcess; dataPlanePid: number }> {
  const controlPlane = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, BERTH_TEST_RUNTIME: JSON.stringify({ config, tenant }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  fixtures.push(controlPlane);
  let output = '';
  controlPlane.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  controlPlane.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const line = await waitFor('the stand-in control plane to report its data plane', () => {
    if (controlPlane.exitCode !== null) throw new Error(`it exited: ${output}`);
    return Promise.resolve(output.includes('\n') ? output.split('\n')[0] : undefined);
  });
  const { pid } = JSON.parse(line) as { pid: number };
  return { controlPlane, dataPlanePid: pid };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe('LocalProcessRuntime with the real data plane', () => {
  let root = '';
  let config: LocalRuntimeConfig;
  let runtime: LocalProcessRuntime | undefined;
  let restarted: LocalProcessRuntime | undefined;
  const databases: string[] = [];
  const fixtures: ChildProcess[] = [];
  /** Every data plane pid the tests saw, all checked dead at the end. */
  const pids = new Set<number>();
  const tenants = {} as Record<'a' | 'b' | 'broken', TenantDeployment>;

  function tenant(key: string, port: number, database: string): TenantDeployment {
    const suffix = randomBytes(3).toString('hex');
    return {
      registryId: `00000000-0000-4000-8000-${randomBytes(6).toString('hex')}`,
      name: `${key}-${suffix}`,
      organisation: 'acme',
      tier: 'free',
      resources: { cpuMillis: 500, memoryMiB: 512, diskBytes: 1024 ** 3 },
      suspended: false,
      secrets: {
        databaseUrl: database,
        adminUser: 'admin',
        adminPassword: `pw-${randomBytes(8).toString('hex')}`,
        signingKeyPem: signingKeyPem(),
      },
      port,
    };
  }

  function pidOf(r: LocalProcessRuntime, t: TenantDeployment): number {
    const pid = r.pid(t);
    assert.ok(pid !== undefined, `${t.name} has no process`);
    pids.add(pid);
    return pid;
  }

  before(async () => {
    assert.ok(adminUrl !== '', 'DATABASE_URL is not set: eval "$(scripts/pg-server.sh start)"');
    root = await mkdtemp(join(tmpdir(), 'berth-local-runtime-'));
    process.env[CONTROL_PLANE_SECRET] = 'must-not-leak';
    const used = new Set<number>();
    const range = { start: 42100, end: 42999 };
    for (const key of ['a', 'b', 'broken'] as const) {
      const database = `berth_local_rt_${randomBytes(5).toString('hex')}`;
      if (key !== 'broken') {
        await sql(`CREATE DATABASE ${database}`);
        databases.push(database);
      }
      const port = await allocatePort(used, range);
      used.add(port);
      tenants[key] = tenant(key, port, key === 'broken' ? 'not a url' : databaseUrl(database));
    }
    config = {
      dataDir: root,
      restartInitialDelayMs: 100,
      restartMaxDelayMs: 1000,
      failedAfterCrashes: 3,
      readyPollIntervalMs: 100,
      healthCheckIntervalMs: 1000,
      stopTimeoutMs: 10_000,
    };
    runtime = new LocalProcessRuntime(config);
  });

  after(async () => {
    await runtime?.close();
    await restarted?.close();
    for (const child of fixtures) await killAndWait(child);
    // Only a process that is still one of this test's data planes (pids are recycled).
    for (const pid of pids) {
      try {
        if (alive(pid) && (startEnv(pid).get('DATA_DIR') ?? '').startsWith(root)) {
          process.kill(pid, 'SIGKILL');
        }
      } catch {
        // gone meanwhile
      }
    }
    for (const database of databases) {
      await sql(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    }
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('starts a data plane: starting, then ready, on its port with its own environment', async () => {
    const r = runtime!;
    const a = tenants.a;
    assert.deepEqual(await r.status(a), { state: 'absent', message: null });
    const endpoints = await r.apply(a);
    const url = `http://127.0.0.1:${a.port}`;
    assert.deepEqual(endpoints, { publicUrl: url, adminUrl: url });
    assert.equal((await r.status(a)).state, 'starting');
    await waitForState(r, a, 'ready');

    const pid = pidOf(r, a);
    const dir = join(root, a.name);
    assert.equal((await readFile(join(dir, 'registry.pid'), 'utf8')).trim(), String(pid));
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.ok(
      cmdline.some((arg) => arg.endsWith(join('bin', 'berth.js'))),
      cmdline.join(' '),
    );
    assert.deepEqual(cmdline.slice(-3), ['registry', 'serve', '']);

    const env = startEnv(pid);
    assert.equal(env.get('DATABASE_URL'), a.secrets.databaseUrl);
    assert.equal(env.get('PORT'), String(a.port));
    assert.equal(env.get('HOST'), '127.0.0.1');
    assert.equal(env.get('DATA_DIR'), dir);
    assert.equal(env.get('REGISTRY_AUTH'), 'token');
    assert.equal(env.get('REGISTRY_AUTH_SERVICE'), a.name);
    assert.equal(env.get('REGISTRY_AUTH_ISSUER'), `berth-${a.name}`);
    assert.equal(env.get('REGISTRY_SIGNING_KEY'), a.secrets.signingKeyPem);
    assert.equal(env.get('STORAGE_DRIVER'), 'filesystem');
    assert.equal(env.has(CONTROL_PLANE_SECRET), false, 'the control plane environment leaked');
  });

  it('serves /v2/ with token authentication, signs tokens with the tenant key, admin API with its credentials', async () => {
    const a = tenants.a;
    const url = `http://127.0.0.1:${a.port}`;
    const v2 = await fetch(`${url}/v2/`);
    assert.equal(v2.status, 401);
    assert.match(v2.headers.get('www-authenticate') ?? '', new RegExp(`service="${a.name}"`));
    await v2.arrayBuffer();

    const usage = await fetch(`${url}${DataPlaneAdminPaths.usage}`, {
      headers: { authorization: basic(a.secrets.adminUser, a.secrets.adminPassword) },
    });
    assert.equal(usage.status, 200);
    const report = (await usage.json()) as StorageUsageReport;
    assert.equal(report.totalBytes, 0);

    const wrong = await fetch(`${url}${DataPlaneAdminPaths.usage}`, {
      headers: { authorization: basic(a.secrets.adminUser, 'not-the-password') },
    });
    assert.equal(wrong.status, 401);
    await wrong.arrayBuffer();

    // Tokens are signed with the tenant's key and name the tenant as issuer and audience.
    const tokenResponse = await fetch(
      `${url}/auth/token?service=${a.name}&scope=repository:team/app:pull`,
      { headers: { authorization: basic(a.secrets.adminUser, a.secrets.adminPassword) } },
    );
    assert.equal(tokenResponse.status, 200);
    const { token } = (await tokenResponse.json()) as { token: string };
    const [header, payload, signature] = token.split('.');
    const verified = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      { key: createPublicKey(a.secrets.signingKeyPem), dsaEncoding: 'ieee-p1363' },
      Buffer.from(signature, 'base64url'),
    );
    assert.equal(verified, true, 'the token is not signed with REGISTRY_SIGNING_KEY');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
      iss: string;
      aud: string | string[];
    };
    assert.equal(claims.iss, `berth-${a.name}`);
    assert.deepEqual([claims.aud].flat(), [a.name]);

    const log = await readFile(join(root, a.name, 'registry.log'), 'utf8');
    assert.match(log, /"service":"berth-registry"/); // the data plane's own output
    assert.match(log, /"service":"berth-runtime","event":"spawn"/);
    assert.match(log, /"service":"berth-runtime","event":"ready"/);
  });

  it('does nothing when applied again with the same spec', async () => {
    const r = runtime!;
    const a = tenants.a;
    const pid = pidOf(r, a);
    await r.apply({ ...a });
    assert.equal(r.pid(a), pid);
    assert.deepEqual(await r.status(a), { state: 'ready', message: null });
  });

  it('restarts a data plane that was killed, with a new pid', async () => {
    const r = runtime!;
    const a = tenants.a;
    const killed = pidOf(r, a);
    process.kill(killed, 'SIGKILL');
    await waitGone(killed);
    await waitFor('a new data plane', () => {
      const pid = r.pid(a);
      return Promise.resolve(pid !== undefined && pid !== killed ? pid : undefined);
    });
    await waitForState(r, a, 'ready');
    const pid = pidOf(r, a);
    assert.notEqual(pid, killed);
    const log = await readFile(join(root, a.name, 'registry.log'), 'utf8');
    assert.match(log, new RegExp(`"event":"exit","pid":${killed},"code":null,"signal":"SIGKILL"`));
  });

  it('restarts gracefully when the spec changes', async () => {
    const r = runtime!;
    const old = pidOf(r, tenants.a);
    tenants.a = {
      ...tenants.a,
      tier: 'team',
      secrets: { ...tenants.a.secrets, adminPassword: `pw-${randomBytes(8).toString('hex')}` },
    };
    await r.apply(tenants.a);
    const pid = pidOf(r, tenants.a);
    assert.notEqual(pid, old);
    assert.equal(alive(old), false);
    await waitForState(r, tenants.a, 'ready');
    assert.equal(startEnv(pid).get('REGISTRY_ADMIN_PASSWORD'), tenants.a.secrets.adminPassword);
    const log = await readFile(join(root, tenants.a.name, 'registry.log'), 'utf8');
    // SIGTERM sufficed: the data plane shut down on its own.
    assert.match(log, new RegExp(`"event":"stop","pid":${old},"how":"terminated"`));
    assert.match(log, /"msg":"registry stopped"/);
  });

  it('suspends a tenant: no process, data kept; applying it unsuspended starts it again', async () => {
    const r = runtime!;
    const a = tenants.a;
    const pid = pidOf(r, a);
    const dir = join(root, a.name);
    await r.apply({ ...a, suspended: true });
    assert.deepEqual(await r.status(a), { state: 'suspended', message: null });
    assert.equal(r.pid(a), undefined);
    assert.equal(alive(pid), false);
    assert.equal(existsSync(join(dir, 'registry.pid')), false);
    assert.equal(existsSync(join(dir, 'storage')), true);
    await assert.rejects(fetch(`http://127.0.0.1:${a.port}/readyz`));

    await r.apply(a);
    await waitForState(r, a, 'ready');
    assert.notEqual(pidOf(r, a), pid);
  });

  it('refuses a second tenant on a port already in use by another', async () => {
    const r = runtime!;
    const clash = { ...tenants.b, port: tenants.a.port };
    await assert.rejects(r.apply(clash), /port \d+ of .* is already used by/);
  });

  it('reports failed while a ready data plane is not ready, and ready once it recovers', async () => {
    const r = runtime!;
    const b = tenants.b;
    await r.apply(b);
    await waitForState(r, b, 'ready');
    const pid = pidOf(r, b);
    const database = new URL(b.secrets.databaseUrl).pathname.slice(1);
    await sql(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
    await sql(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${database}'`,
    );
    try {
      const failed = await waitForState(r, b, 'failed');
      assert.match(failed.message ?? '', /running but not ready: \/readyz answered 503/);
      assert.match(failed.message ?? '', /not currently accepting connections/);
      assert.equal(r.pid(b), pid, 'a running data plane is not restarted for failing /readyz');
    } finally {
      await sql(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);
    }
    await waitForState(r, b, 'ready');
    assert.equal(r.pid(b), pid);
  });

  it('close stops every data plane gracefully and keeps their data', async () => {
    const r = runtime!;
    await r.apply(tenants.b);
    await waitForState(r, tenants.b, 'ready');
    const running = [pidOf(r, tenants.a), pidOf(r, tenants.b)];
    await r.close();
    for (const pid of running) assert.equal(alive(pid), false, `pid ${pid} survived close`);
    for (const t of [tenants.a, tenants.b]) {
      assert.equal(existsSync(join(root, t.name, 'storage')), true);
      assert.equal(existsSync(join(root, t.name, 'registry.pid')), false);
    }
    await assert.rejects(r.apply(tenants.a), /closed/);
  });

  it('takes its data planes down with it when the control plane is killed', async () => {
    const { controlPlane, dataPlanePid } = await startAbandonedControlPlane(
      config,
      tenants.a,
      fixtures,
    );
    pids.add(dataPlanePid);
    assert.equal(alive(dataPlanePid), true);
    await killAndWait(controlPlane);
    await waitGone(dataPlanePid);
  });

  it('after a control plane restart, stops the orphaned data plane and supervises its own', async () => {
    // A control plane whose children outlive it (dieWithParent off, as without setpriv).
    const { controlPlane, dataPlanePid: orphan } = await startAbandonedControlPlane(
      { ...config, dieWithParent: false },
      tenants.a,
      fixtures,
    );
    pids.add(orphan);
    await killAndWait(controlPlane);
    // The orphan still serves.
    const ready = await fetch(`http://127.0.0.1:${tenants.a.port}/readyz`);
    assert.equal(ready.status, 200);
    await ready.arrayBuffer();
    assert.equal(alive(orphan), true);

    restarted = new LocalProcessRuntime(config);
    assert.deepEqual(await restarted.status(tenants.a), { state: 'absent', message: null });
    await restarted.apply(tenants.a);
    assert.equal(alive(orphan), false);
    await waitForState(restarted, tenants.a, 'ready');
    const pid = pidOf(restarted, tenants.a);
    assert.notEqual(pid, orphan);
    const dir = join(root, tenants.a.name);
    assert.equal((await readFile(join(dir, 'registry.pid'), 'utf8')).trim(), String(pid));
    const log = await readFile(join(dir, 'registry.log'), 'utf8');
    assert.match(log, new RegExp(`"event":"orphan","pid":${orphan},"how":"terminated"`));

    // Supervised again: a crash is restarted.
    process.kill(pid, 'SIGKILL');
    await waitFor('a restart after the crash', () => {
      const next = restarted!.pid(tenants.a);
      return Promise.resolve(next !== undefined && next !== pid ? next : undefined);
    });
    await waitForState(restarted, tenants.a, 'ready');
    pidOf(restarted, tenants.a);
  });

  it('reports failed with the configuration error of a data plane that cannot start, and keeps retrying', async () => {
    const r = restarted!;
    const broken = tenants.broken;
    await r.apply(broken);
    const failed = await waitForState(r, broken, 'failed');
    assert.match(failed.message ?? '', /exited with code 2 before becoming ready/);
    assert.match(failed.message ?? '', /\d+ crashes in a row without becoming ready/);
    assert.match(failed.message ?? '', /DATABASE_URL=<redacted> is not a valid URL/);
    const logPath = join(root, broken.name, 'registry.log');
    const spawns = countMatches(await readFile(logPath, 'utf8'), '"event":"spawn"');
    await waitFor('another attempt', async () =>
      countMatches(await readFile(logPath, 'utf8'), '"event":"spawn"') > spawns ? true : undefined,
    );
    assert.equal((await r.status(broken)).state, 'failed');
    await r.remove(broken);
    assert.deepEqual(await r.status(broken), { state: 'absent', message: null });
    assert.equal(existsSync(join(root, broken.name)), false);
  });

  it('removes a tenant: process stopped, directory deleted; removing again succeeds', async () => {
    const r = restarted!;
    const a = tenants.a;
    const pid = pidOf(r, a);
    await r.remove(a);
    assert.equal(alive(pid), false);
    assert.equal(existsSync(join(root, a.name)), false);
    assert.deepEqual(await r.status(a), { state: 'absent', message: null });
    await r.remove(a);
    await r.remove({ registryId: a.registryId, name: 'never-applied' });
  });

  it('leaves no data plane running after close', async () => {
    const r = restarted!;
    await r.apply(tenants.b);
    await waitForState(r, tenants.b, 'ready');
    pidOf(r, tenants.b);
    await r.close();
    const survivors = [...pids].filter(alive);
    assert.deepEqual(survivors, []);
    assert.ok(pids.size >= 9, `only ${pids.size} data plane pids seen`);
  });
});
