import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { loadRegistryConfig } from '../config/registry-config';
import { createLogger, startRegistry, type RunningRegistry } from '../registry-app';
import type { RegistryModuleOptions } from '../registry.module';

export interface TestRegistry {
  url: string;
  running: RunningRegistry;
  dataDir: string;
  databaseUrl: string;
  /**
   * Stops the registry and starts it again on the same database and data directory, with
   * `env` added to the environment it started with (`url` and `running` change).
   */
  restart(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/**
 * An in-process registry on a fresh database of the PostgreSQL server named by
 * DATABASE_URL (started by scripts/pg-server.sh) and a fresh temp data directory.
 */
export async function startTestRegistry(
  env: Record<string, string> = {},
  options: RegistryModuleOptions = {},
): Promise<TestRegistry> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    throw new Error(
      'DATABASE_URL is not set: start PostgreSQL with `eval "$(scripts/pg-server.sh start)"`',
    );
  }
  const database = `berth_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-registry-test-'));
  const baseEnv: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: url.toString(),
    DATABASE_POOL_SIZE: '10',
    REGISTRY_AUTH: 'none',
    REGISTRY_RATE_LIMIT_REQUESTS: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    SHUTDOWN_GRACE_MS: '2000',
    ...env,
  };
  const start = async (envNow: Record<string, string>): Promise<RunningRegistry> => {
    const config = loadRegistryConfig(envNow);
    return startRegistry(config, createLogger(config), options);
  };
  const running = await start(baseEnv);
  const registry: TestRegistry = {
    url: running.url.replace('[::1]', '127.0.0.1'),
    running,
    dataDir,
    databaseUrl: url.toString(),
    restart: async (more = {}) => {
      await registry.running.close();
      registry.running = await start({ ...baseEnv, ...more });
      registry.url = registry.running.url.replace('[::1]', '127.0.0.1');
    },
    close: async () => {
      await registry.running.close();
      await rm(dataDir, { recursive: true, force: true });
      const cleanup = new Client({ connectionString: adminUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await cleanup.end();
    },
  };
  return registry;
}
