import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  symlinkSync,
} from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export const REPO_ROOT = join(__dirname, '..', '..');
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200; returns ms from `since` (performance.now()) to then. */
export async function waitReady(
  url: string,
  since: number,
  child: ChildProcess,
  timeoutMs: number,
): Promise<number> {
  const deadline = since + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await sleep(200); // let its last output reach the log
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before ready`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms`);
}

/** Peak and current resident memory of a process, from /proc/<pid>/status. */
export interface MemorySample {
  hwmKiB: number;
  rssKiB: number;
}

export function readMemory(pid: number): MemorySample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string): number => {
      const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status);
      return m ? Number(m[1]) : 0;
    };
    return { hwmKiB: field('VmHWM'), rssKiB: field('VmRSS') };
  } catch {
    return undefined;
  }
}

/** User+system CPU seconds a process has used so far. */
export function readCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

export class RunningServer {
  peakRssKiB = 0;
  private sampler: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    readonly origin: string,
    readonly child: ChildProcess,
    readonly readyMs: number,
    readonly dataDir: string,
    /** performance.now() when the process was spawned. */
    readonly spawnedAt: number,
  ) {
    this.sampler = setInterval(() => this.sample(), 200);
    this.sampler.unref();
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  sample(): void {
    const mem = readMemory(this.pid);
    if (mem) this.peakRssKiB = Math.max(this.peakRssKiB, mem.hwmKiB, mem.rssKiB);
  }

  cpuSeconds(): number {
    return readCpuSeconds(this.pid);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(graceMs = 30_000): Promise<void> {
    this.sample();
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
    const child = this.child;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Copies the built data plane (bin/, apps/* and libs/* package.json + dist/) to `dest`, with a
 * node_modules of symlinks to the repository's packages and the copied workspace packages,
 * so the run measures one build even while others rebuild the working tree. Returns `dest`.
 */
export function snapshotBuild(dest: string): string {
  cpSync(join(REPO_ROOT, 'bin'), join(dest, 'bin'), { recursive: true });
  const modules = join(dest, 'node_modules');
  mkdirSync(join(modules, '@berth'), { recursive: true });
  for (const group of ['apps', 'libs']) {
    for (const name of readdirSync(join(REPO_ROOT, group))) {
      const from = join(REPO_ROOT, group, name);
      if (!existsSync(join(from, 'package.json'))) continue;
      const to = join(dest, group, name);
      mkdirSync(to, { recursive: true });
      cpSync(join(from, 'package.json'), join(to, 'package.json'));
      if (existsSync(join(from, 'dist'))) {
        cpSync(join(from, 'dist'), join(to, 'dist'), {
          recursive: true,
          filter: (src) => !src.endsWith('.tsbuildinfo'),
        });
      }
      const pkg = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name?.startsWith('@berth/')) symlinkSync(to, join(modules, pkg.name));
    }
  }
  for (const entry of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (entry === '@berth') continue;
    symlinkSync(join(REPO_ROOT, 'node_modules', entry), join(modules, entry));
  }
  return dest;
}

/**
 * Builds a committed revision in `dest` (git archive + tsc -b apps/registry), with
 * node_modules linked as in snapshotBuild. Returns `dest`.
 */
export function buildRevision(ref: string, dest: string): string {
  mkdirSync(dest, { recursive: true });
  const archive = spawnSync(
    'bash',
    ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'archive', REPO_ROOT, ref, dest],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (archive.status !== 0) throw new Error(`git archive ${ref} failed: ${archive.stderr}`);
  const modules = join(dest, 'node_modules');
  mkdirSync(join(modules, '@berth'), { recursive: true });
  for (const group of ['apps', 'libs']) {
    if (!existsSync(join(dest, group))) continue;
    for (const name of readdirSync(join(dest, group))) {
      const pkgFile = join(dest, group, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { name?: string };
      if (pkg.name?.startsWith('@berth/'))
        symlinkSync(join(dest, group, name), join(modules, pkg.name));
      // Dependencies npm could not hoist stay in the workspace's own node_modules.
      const own = join(REPO_ROOT, group, name, 'node_modules');
      if (existsSync(own) && !existsSync(join(dest, group, name, 'node_modules')))
        symlinkSync(own, join(dest, group, name, 'node_modules'));
    }
  }
  for (const entry of readdirSync(join(REPO_ROOT, 'node_modules'))) {
    if (entry === '@berth') continue;
    symlinkSync(join(REPO_ROOT, 'node_modules', entry), join(modules, entry));
  }
  // bin/berth.js needs every app built; revisions before the workspace-wide build config
  // only had the registry.
  const project = existsSync(join(dest, 'tsconfig.build.json'))
    ? 'tsconfig.build.json'
    : join('apps', 'registry', 'tsconfig.json');
  const tsc = spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-b', project], {
    cwd: dest,
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (tsc.status !== 0) throw new Error(`build of ${ref} failed:\n${tsc.stdout}${tsc.stderr}`);
  return dest;
}

const STRIPPED_ENV =
  /^(DATABASE_|S3_|STORAGE_|REGISTRY_|HOST$|PORT$|DATA_DIR$|LOG_LEVEL$|NODE_OPTIONS$)/;

/**
 * `BENCH_BERTH_ENV="REGISTRY_HASH_WORKERS=0 REGISTRY_HEAP_GROWING_PERCENT=0"`: settings for
 * Berth in an experiment (the bench otherwise strips every REGISTRY_* variable it inherits).
 */
export function berthEnvOverrides(
  spec = process.env.BENCH_BERTH_ENV ?? '',
): Record<string, string> {
  const overrides: Record<string, string> = {};
  let last: string | undefined;
  for (const word of spec.split(/\s+/).filter(Boolean)) {
    const named = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(word);
    if (named) {
      last = named[1];
      overrides[last] = named[2];
    } else if (last !== undefined) {
      // A word that names nothing continues the value before it: NODE_OPTIONS=--a --b.
      overrides[last] += ` ${word}`;
    } else {
      throw new Error(`BENCH_BERTH_ENV: expected NAME=value, got ${word}`);
    }
  }
  return overrides;
}

/**
 * NODE_OPTIONS and GLIBC_TUNABLES that the runtimes start a data plane with
 * (`dataPlaneProcessEnv` in libs/platform-contracts), taken from the build being measured; a
 * build from before they existed gets none.
 */
function processSettings(root: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const contracts = join(root, 'libs', 'platform-contracts', 'dist', 'index.js');
  if (!existsSync(contracts)) return {};
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(contracts) as {
    dataPlaneProcessEnv?: (base: NodeJS.ProcessEnv) => Record<string, string>;
  };
  return loaded.dataPlaneProcessEnv?.(env) ?? {};
}

export interface OursOptions {
  dataDir: string;
  port: number;
  databaseUrl?: string;
  logFile: string;
  nodeArgs?: string[];
  readyTimeoutMs?: number;
  /** Where bin/berth.js is (a snapshot from snapshotBuild, or the repository). */
  root?: string;
}

/** Starts Berth's data plane (`node bin/berth.js registry serve`) and waits for /readyz. */
export async function startOurs(options: OursOptions): Promise<RunningServer> {
  await mkdir(options.dataDir, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!STRIPPED_ENV.test(key)) env[key] = value;
  }
  Object.assign(env, {
    HOST: '127.0.0.1',
    PORT: String(options.port),
    DATA_DIR: options.dataDir,
    LOG_LEVEL: 'warn',
    STORAGE_DRIVER: 'filesystem',
    // No auth, and no per-client request limit: the load generator is one client IP.
    REGISTRY_AUTH: 'none',
    REGISTRY_RATE_LIMIT_REQUESTS: '0',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
  });
  // Started as the platform's runtimes start it: with the build's own process settings.
  Object.assign(env, processSettings(options.root ?? REPO_ROOT, env), berthEnvOverrides());
  const log = openSync(options.logFile, 'a');
  const started = performance.now();
  // setpriv --pdeathsig: the server gets SIGTERM if the bench dies, even when killed outright
  // (setpriv execs, so the pid stays the server's own).
  const child = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'TERM',
      process.execPath,
      ...(options.nodeArgs ?? []),
      join(options.root ?? REPO_ROOT, 'bin', 'berth.js'),
      'registry',
      'serve',
    ],
    { cwd: options.dataDir, env, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  const origin = `http://127.0.0.1:${options.port}`;
  try {
    const readyMs = await waitReady(
      `${origin}/readyz`,
      started,
      child,
      options.readyTimeoutMs ?? 120_000,
    );
    return new RunningServer('berth', origin, child, readyMs, options.dataDir, started);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(
      `Berth did not start: ${String(err)}; log ${options.logFile}:\n${tail(options.logFile)}`,
    );
  }
}

/** Starts Debian's docker-registry (CNCF Distribution) on local filesystem storage. */
export async function startDistribution(options: {
  dir: string;
  port: number;
  logFile: string;
}): Promise<RunningServer> {
  const dataDir = join(options.dir, 'data');
  await mkdir(dataDir, { recursive: true });
  const configFile = join(options.dir, 'config.yml');
  await writeFile(
    configFile,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${dataDir}`,
      '  delete:',
      '    enabled: true',
      '  cache:',
      '    blobdescriptor: inmemory',
      'http:',
      `  addr: 127.0.0.1:${options.port}`,
      '  secret: berth-bench-not-a-secret',
      '',
    ].join('\n'),
  );
  const log = openSync(options.logFile, 'a');
  const started = performance.now();
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'docker-registry', 'serve', configFile], {
    cwd: options.dir,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const origin = `http://127.0.0.1:${options.port}`;
  try {
    const readyMs = await waitReady(`${origin}/v2/`, started, child, 30_000);
    return new RunningServer('distribution', origin, child, readyMs, dataDir, started);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(
      `docker-registry did not start: ${String(err)}; log ${options.logFile}:\n${tail(options.logFile)}`,
    );
  }
}

/** The private PostgreSQL of scripts/pg-server.sh, with a fresh database for this run. */
export class BenchPostgres {
  private constructor(
    private readonly env: NodeJS.ProcessEnv,
    readonly port: number,
    readonly url: string,
  ) {}

  static async start(servicesDir: string): Promise<BenchPostgres> {
    const port = await freePort();
    const env = { ...process.env, PG_PORT: String(port), BERTH_SERVICES_DIR: servicesDir };
    const result = spawnSync('bash', [join(REPO_ROOT, 'scripts', 'pg-server.sh'), 'start'], {
      env,
      encoding: 'utf8',
      timeout: 180_000,
    });
    if (result.status !== 0) {
      throw new Error(`pg-server.sh start failed (${result.status}): ${result.stderr}`);
    }
    const match = /export DATABASE_URL=(\S+)/.exec(result.stdout);
    if (!match) throw new Error(`pg-server.sh printed no DATABASE_URL: ${result.stdout}`);
    const adminUrl = new URL(match[1]);
    const database = `bench_${Date.now().toString(36)}`;
    const created = spawnSync(
      join(PG_BIN, 'psql'),
      [
        '-X',
        '-q',
        '-v',
        'ON_ERROR_STOP=1',
        adminUrl.toString(),
        '-c',
        `CREATE DATABASE ${database}`,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.status !== 0) throw new Error(`CREATE DATABASE failed: ${created.stderr}`);
    adminUrl.pathname = `/${database}`;
    return new BenchPostgres(env, port, adminUrl.toString());
  }

  stop(): void {
    spawnSync('bash', [join(REPO_ROOT, 'scripts', 'pg-server.sh'), 'stop'], {
      env: this.env,
      stdio: 'ignore',
      timeout: 120_000,
    });
  }
}

export function versionOf(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: 10_000 });
  return (result.stdout || result.stderr || '').trim().split('\n')[0] ?? '';
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
