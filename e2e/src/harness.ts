/**
 * Starts a registry process for an end-to-end spec.
 *
 * Default target: our registry, `node <repo>/bin/berth.js registry serve`, on a free 127.0.0.1
 * port with a temp DATA_DIR and a fresh database `berth_e2e_<random>` created on the PostgreSQL
 * server named by env DATABASE_URL (see scripts/pg-server.sh).
 *
 * `E2E_TARGET=distribution`: Debian's `docker-registry` (CNCF Distribution 2.8) instead, with
 * filesystem (or S3) storage in the temp dir — used to validate the specs themselves.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { e2eTarget, makeTempDir, randomId, removeDir, repoRoot, sleep, type Target } from './tools';

export type StorageKind = 'filesystem' | 's3';

export interface StartOptions {
  /** Extra environment for the registry process (wins over the harness' own settings). */
  env?: Record<string, string>;
  storage?: StorageKind;
  /** Readiness timeout, default 60 s. */
  readyTimeoutMs?: number;
}

export interface RunningRegistry {
  readonly target: Target;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** 127.0.0.1:PORT */
  readonly host: string;
  readonly dataDir: string;
  /** Fresh database of this registry ('' for the distribution target). */
  readonly databaseUrl: string;
  /** The current registry process (replaced by restart()). */
  readonly process: ChildProcess;
  /** Stops the process (SIGTERM, SIGKILL after 15 s) and removes its data dir and database. */
  stop(): Promise<void>;
  /** Sends a signal and waits for the process to exit (data is kept; use restart()). */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Stops the process if running (SIGTERM) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Everything the registry wrote to stdout/stderr so far (bounded to the last few MiB). */
  logs(): string;
}

const LOG_LIMIT = 4 * 1024 * 1024;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // never leave a registry behind when the test process dies
  process.on('exit', () => {
    for (const p of live) p.kill('SIGKILL');
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const p of live) p.kill('SIGKILL');
      process.kill(process.pid, sig);
    });
  }
}

/**
 * util-linux `setpriv --pdeathsig KILL` (exec's the command, so the pid stays the registry's):
 * the registry dies with the test process even when that is killed with SIGKILL.
 */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

function withParentDeathSignal(cmd: string, args: string[]): { cmd: string; args: string[] } {
  return SETPRIV === undefined
    ? { cmd, args }
    : { cmd: SETPRIV, args: ['--pdeathsig', 'KILL', '--', cmd, ...args] };
}

/** A free TCP port on 127.0.0.1 (bound and released; small race accepted). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolvePromise) => {
    const req = get(url, (res) => {
      res.resume();
      resolvePromise(res.statusCode ?? 0);
    });
    req.setTimeout(2000, () => req.destroy());
    req.on('error', () => resolvePromise(0));
  });
}

function databaseUrlFor(serverUrl: string, db: string): string {
  const u = new URL(serverUrl);
  u.pathname = `/${db}`;
  return u.toString();
}

async function withPg<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

interface S3Settings {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
}

/** S3 settings from the test environment; throws a clear error when they are missing. */
export function s3SettingsFromEnv(): Omit<S3Settings, 'bucket'> {
  const missing = ['S3_ENDPOINT', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'].filter(
    (k) => (process.env[k] ?? '') === '',
  );
  if (missing.length > 0) {
    throw new Error(
      `storage 's3' needs ${missing.join(', ')} in the environment (an S3-compatible endpoint on ` +
        `127.0.0.1, e.g. S3_ENDPOINT=http://127.0.0.1:9000 S3_ACCESS_KEY_ID=... ` +
        `S3_SECRET_ACCESS_KEY=... [S3_REGION=us-east-1]); see docs/testing.md`,
    );
  }
  return {
    endpoint: process.env['S3_ENDPOINT'] ?? '',
    accessKeyId: process.env['S3_ACCESS_KEY_ID'] ?? '',
    secretAccessKey: process.env['S3_SECRET_ACCESS_KEY'] ?? '',
    region: process.env['S3_REGION'] || 'us-east-1',
  };
}

/**
 * Creates a bucket with a SigV4-signed path-style `PUT /<bucket>` (only needed for the
 * distribution target: our registry creates its bucket itself).
 */
async function createBucket(s: S3Settings): Promise<void> {
  const url = new URL(`/${s.bucket}`, s.endpoint);
  const body =
    s.region === 'us-east-1'
      ? ''
      : `<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>${s.region}</LocationConstraint></CreateBucketConfiguration>`;
  const now = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const date = now.slice(0, 8);
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const canonical = [
    'PUT',
    url.pathname,
    '',
    `host:${url.host}`,
    `x-amz-content-sha256:${payloadHash}`,
    `x-amz-date:${now}`,
    '',
    'host;x-amz-content-sha256;x-amz-date',
    payloadHash,
  ].join('\n');
  const scope = `${date}/${s.region}/s3/aws4_request`;
  const toSign = [
    'AWS4-HMAC-SHA256',
    now,
    scope,
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const hmac = (key: Buffer | string, data: string): Buffer =>
    createHmac('sha256', key).update(data).digest();
  const kSigning = hmac(
    hmac(hmac(hmac(`AWS4${s.secretAccessKey}`, date), s.region), 's3'),
    'aws4_request',
  );
  const signature = createHmac('sha256', kSigning).update(toSign).digest('hex');
  const res = await fetch(url, {
    method: 'PUT',
    headers: {
      'x-amz-content-sha256': payloadHash,
      'x-amz-date': now,
      authorization: `AWS4-HMAC-SHA256 Credential=${s.accessKeyId}/${scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
    },
    body: body === '' ? null : body,
  });
  if (res.status !== 200) {
    throw new Error(
      `creating bucket ${s.bucket} at ${s.endpoint}: HTTP ${res.status} ${await res.text()}`,
    );
  }
}

function distributionConfig(port: number, dataDir: string, s3: S3Settings | undefined): string {
  const storage =
    s3 === undefined
      ? ['  filesystem:', `    rootdirectory: ${join(dataDir, 'registry')}`]
      : [
          '  s3:',
          `    accesskey: ${JSON.stringify(s3.accessKeyId)}`,
          `    secretkey: ${JSON.stringify(s3.secretAccessKey)}`,
          `    region: ${JSON.stringify(s3.region)}`,
          `    regionendpoint: ${JSON.stringify(s3.endpoint)}`,
          `    bucket: ${JSON.stringify(s3.bucket)}`,
          `    secure: ${s3.endpoint.startsWith('https:') ? 'true' : 'false'}`,
          '    v4auth: true',
          '  redirect:',
          '    disable: true',
        ];
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    ...storage,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomId(16)}`,
    '',
  ].join('\n');
}

class Registry implements RunningRegistry {
  readonly url: string;
  readonly host: string;
  private child: ChildProcess | undefined;
  private logBuf: string[] = [];
  private logLen = 0;
  private exited: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly target: Target,
    readonly port: number,
    readonly dataDir: string,
    readonly databaseUrl: string,
    private readonly command: {
      cmd: string;
      args: string[];
      env: Record<string, string>;
      unsetEnv?: string[];
    },
    private readonly readyPath: string,
    private readonly readyTimeoutMs: number,
    private readonly cleanup: () => Promise<void>,
  ) {
    this.host = `127.0.0.1:${port}`;
    this.url = `http://${this.host}`;
  }

  get process(): ChildProcess {
    if (this.child === undefined) throw new Error('registry process not started');
    return this.child;
  }

  logs(): string {
    return this.logBuf.join('');
  }

  private appendLog(s: string): void {
    this.logBuf.push(s);
    this.logLen += s.length;
    while (this.logLen > LOG_LIMIT && this.logBuf.length > 1) {
      this.logLen -= this.logBuf.shift()?.length ?? 0;
    }
  }

  private isRunning(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  async start(): Promise<void> {
    const { cmd, args } = withParentDeathSignal(this.command.cmd, this.command.args);
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.command.env };
    for (const k of this.command.unsetEnv ?? []) delete env[k];
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    live.add(child);
    this.appendLog(
      `--- [harness] started pid ${child.pid ?? '?'} at ${new Date().toISOString()}\n`,
    );
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (s: string) => this.appendLog(s));
    child.stderr?.on('data', (s: string) => this.appendLog(s));
    this.exited = new Promise<void>((resolvePromise) => {
      child.on('exit', (code, signal) => {
        live.delete(child);
        this.appendLog(
          `--- [harness] pid ${child.pid ?? '?'} exited code=${code} signal=${signal}\n`,
        );
        resolvePromise();
      });
      child.on('error', (e) => {
        live.delete(child);
        this.appendLog(`--- [harness] spawn error: ${e.message}\n`);
        resolvePromise();
      });
    });
    await this.waitReady();
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + this.readyTimeoutMs;
    const readyUrl = `${this.url}${this.readyPath}`;
    let last = 0;
    while (Date.now() < deadline) {
      if (!this.isRunning()) {
        throw new Error(`registry exited before it was ready (${readyUrl}); logs:\n${this.logs()}`);
      }
      last = await httpStatus(readyUrl);
      if (last === 200) return;
      await sleep(200);
    }
    await this.kill('SIGKILL');
    throw new Error(
      `registry not ready after ${this.readyTimeoutMs} ms (GET ${readyUrl} -> ${last}); logs:\n${this.logs()}`,
    );
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.isRunning()) return;
    this.child?.kill(signal);
    await this.exited;
  }

  private async terminate(): Promise<void> {
    if (!this.isRunning()) return;
    this.child?.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), 15_000);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.appendLog('--- [harness] no exit 15 s after SIGTERM, sending SIGKILL\n');
      await this.kill('SIGKILL');
    }
  }

  async restart(): Promise<void> {
    if (this.stopped) throw new Error('registry was stopped');
    await this.terminate();
    await this.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.terminate();
    await this.cleanup();
  }
}

/** Starts a registry (see the module comment); rejects with its logs when it does not get ready. */
export async function startRegistry(opts: StartOptions = {}): Promise<RunningRegistry> {
  installExitHook();
  const target = e2eTarget();
  const storage = opts.storage ?? 'filesystem';
  const id = randomId();
  const s3 = storage === 's3' ? { ...s3SettingsFromEnv(), bucket: `berth-e2e-${id}` } : undefined;
  const port = await freePort();
  const dataDir = await makeTempDir('data');
  const readyTimeoutMs = opts.readyTimeoutMs ?? 60_000;
  const cleanups: (() => Promise<void>)[] = [() => removeDir(dataDir)];
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch (e) {
        process.stderr.write(`[harness] cleanup failed: ${(e as Error).message}\n`);
      }
    }
  };

  let registry: Registry;
  try {
    if (target === 'distribution') {
      if (s3 !== undefined) await createBucket(s3);
      const configPath = join(dataDir, 'config.yml');
      await writeFile(configPath, distributionConfig(port, dataDir, s3));
      registry = new Registry(
        target,
        port,
        dataDir,
        '',
        {
          cmd: 'docker-registry',
          args: ['serve', configPath],
          env: { ...opts.env },
          // Distribution's aws-sdk-go panics on AWS_CA_BUNDLE with its custom transport
          unsetEnv: ['AWS_CA_BUNDLE'],
        },
        '/v2/',
        readyTimeoutMs,
        cleanup,
      );
    } else {
      const entry = process.env['BERTH_REGISTRY_ENTRY'] || join(repoRoot, 'bin', 'berth.js');
      if (!existsSync(entry)) {
        throw new Error(`${entry} not found: build the registry first (npm run build)`);
      }
      const server = process.env['DATABASE_URL'];
      if (server === undefined || server === '') {
        throw new Error(
          'DATABASE_URL is not set: start the test database with eval "$(scripts/pg-server.sh start)"',
        );
      }
      const db = `berth_e2e_${id}`;
      await withPg(server, (c) => c.query(`CREATE DATABASE ${db}`));
      cleanups.push(() =>
        process.env['E2E_KEEP'] === '1'
          ? Promise.resolve()
          : withPg(server, async (c) => {
              await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
            }),
      );
      const databaseUrl = databaseUrlFor(server, db);
      const env: Record<string, string> = {
        HOST: '127.0.0.1',
        PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: databaseUrl,
        LOG_LEVEL: 'warn',
        // Protocol tests run on an open registry; auth.e2e-spec switches token auth on.
        REGISTRY_AUTH: 'none',
        // Clients under test send thousands of requests from one IP.
        REGISTRY_RATE_LIMIT_REQUESTS: '0',
      };
      if (s3 !== undefined) {
        Object.assign(env, {
          STORAGE_DRIVER: 's3',
          S3_ENDPOINT: s3.endpoint,
          S3_ACCESS_KEY_ID: s3.accessKeyId,
          S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
          S3_REGION: s3.region,
          S3_BUCKET: s3.bucket,
          S3_FORCE_PATH_STYLE: 'true',
        });
      }
      registry = new Registry(
        target,
        port,
        dataDir,
        databaseUrl,
        { cmd: process.execPath, args: [entry, 'registry', 'serve'], env: { ...env, ...opts.env } },
        '/readyz',
        readyTimeoutMs,
        cleanup,
      );
    }
  } catch (e) {
    await cleanup();
    throw e;
  }
  try {
    await registry.start();
  } catch (e) {
    await registry.stop();
    throw e;
  }
  return registry;
}
