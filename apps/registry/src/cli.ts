import { Command } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadRegistryConfig, type RegistryConfig } from './config/registry-config';
import { GarbageCollector, type GcReport } from './gc/garbage-collector';
import { tuneHeap } from './heap-tuning';
import {
  createLogger,
  startRegistry,
  startRegistryContext,
  type RegistryContext,
} from './registry-app';
import { RetentionService } from './retention/retention.service';

/**
 * `berth registry serve`: runs the data plane. Settings come from the environment (see
 * deploy/README.md); the flags override the most common ones.
 */
export function registryCommand(): Command {
  const registry = new Command('registry').description(
    'the data plane: an OCI registry for one tenant',
  );
  registry
    .command('serve')
    .description('serve the OCI Distribution API')
    .option('--host <host>', 'address to listen on (HOST, default 127.0.0.1)')
    .option('--port <port>', 'port to listen on (PORT, default 5000)')
    .option('--data-dir <dir>', 'data directory (DATA_DIR, default ./data)')
    .option(
      '--quickstart',
      'single-machine quick start: local disk, embedded PostgreSQL, no request rate limit',
    )
    .action(
      async (options: { host?: string; port?: string; dataDir?: string; quickstart?: boolean }) => {
        await serve(options);
      },
    );
  registry
    .command('worker')
    .description(
      'work the background job queue (garbage collection, retention) without serving HTTP',
    )
    .action(async () => {
      await worker();
    });
  registry
    .command('gc')
    .description('collect garbage now: unreferenced blobs, unreachable manifests, stale uploads')
    .option('--dry-run', 'report what would be freed, delete nothing')
    .action(async (options: { dryRun?: boolean }) => {
      await operatorCommand(async (context, config) => {
        const report = await context.app
          .get(GarbageCollector)
          .run(
            { dryRun: options.dryRun === true, graceSeconds: config.gcGraceSeconds },
            progressBar(),
          );
        printGcReport(report);
      });
    });
  registry
    .command('retention')
    .description('apply the retention policies now')
    .option('--dry-run', 'list the tags that would be deleted and why, delete nothing')
    .action(async (options: { dryRun?: boolean }) => {
      await operatorCommand(async (context) => {
        const caller = { name: 'cli', kind: 'system' as const, ip: '127.0.0.1', requestId: 'cli' };
        const result = await context.app.get(RetentionService).run(caller, options.dryRun === true);
        for (const entry of result.plan) {
          process.stdout.write(
            `${result.dryRun ? 'would delete' : 'deleted'} ${entry.repository}:${entry.tag} (${entry.rule})\n`,
          );
        }
        process.stdout.write(
          result.dryRun
            ? `${result.plan.length} tags would be deleted\n`
            : `${result.deleted.length} tags and ${result.manifestsDeleted} manifests deleted, ${result.skipped.length} skipped\n`,
        );
      });
    });
  return registry;
}

/**
 * The configuration from the environment, between command defaults (which the environment
 * overrides) and command-line overrides; a wrong value exits with code 2 and every problem.
 */
function loadConfigOrExit(
  overrides: Record<string, string> = {},
  defaults: Record<string, string> = {},
): RegistryConfig {
  try {
    return loadRegistryConfig({ ...defaults, ...process.env, ...overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/** Runs `work` in the data plane's application context (no HTTP), then exits. */
async function operatorCommand(
  work: (context: RegistryContext, config: RegistryConfig) => Promise<void>,
): Promise<void> {
  // One-off commands enqueue nothing and schedule nothing: they act directly.
  const config = loadConfigOrExit({
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    REGISTRY_QUEUE_ROLE: 'worker',
  });
  const context = await startRegistryContext(
    { ...config, redisUrl: undefined },
    createLogger(config),
  );
  try {
    await work(context, config);
  } finally {
    await context.close();
  }
}

async function worker(): Promise<void> {
  const config = loadConfigOrExit({ REGISTRY_QUEUE_ROLE: 'worker' });
  // For the long-running commands: V8's heap growing factor (see heap-tuning.ts).
  const heapGrowingPercent = tuneHeap(config.heapGrowingPercent);
  const logger = createLogger(config);
  logger.debug({ heapGrowingPercent }, 'V8 heap growing factor');
  if (!config.redisUrl)
    logger.warn('no REDIS_URL: this worker only runs jobs enqueued in its own process');
  const context = await startRegistryContext(config, logger);
  logger.info({ queue: config.redisUrl ? 'bullmq' : 'in-process' }, 'worker ready');
  closeOnSignal(logger, 'worker', () => context.close());
}

/** On SIGTERM or SIGINT: close (finishing what is in flight), then exit 0, or 1 if closing failed. */
function closeOnSignal(logger: Logger, what: string, close: () => Promise<void>): void {
  const stop = (signal: string): void => {
    logger.info({ signal }, `${what} stopping: finishing work in flight`);
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, `${what} shutdown failed`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** A progress bar on a terminal, nothing otherwise. */
function progressBar(): ((phase: string, done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  return (phase, done, total) => {
    const width = 30;
    const filled = total === 0 ? width : Math.round((done / total) * width);
    process.stderr.write(
      `\r${phase.padEnd(10)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`,
    );
    if (done >= total) process.stderr.write('\n');
  };
}

function printGcReport(report: GcReport): void {
  const verb = report.dryRun ? 'would free' : 'freed';
  process.stdout.write(
    `${verb} ${report.blobs.count} blobs (${formatBytes(report.blobs.bytes)}), ` +
      `${report.manifests} manifests, ${report.uploads} stale uploads in ${report.durationMs} ms\n`,
  );
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

async function serve(options: {
  host?: string;
  port?: string;
  dataDir?: string;
  quickstart?: boolean;
}): Promise<void> {
  const config = loadConfigOrExit(
    {
      ...(options.host !== undefined ? { HOST: options.host } : {}),
      ...(options.port !== undefined ? { PORT: options.port } : {}),
      ...(options.dataDir !== undefined ? { DATA_DIR: options.dataDir } : {}),
    },
    // The quick start serves one person on one machine: no per-IP request limit.
    options.quickstart ? { REGISTRY_RATE_LIMIT_REQUESTS: '0' } : {},
  );
  // For the long-running commands: V8's heap growing factor (see heap-tuning.ts).
  const heapGrowingPercent = tuneHeap(config.heapGrowingPercent);
  const logger = createLogger(config);
  logger.debug({ heapGrowingPercent }, 'V8 heap growing factor');
  let running;
  try {
    running = await startRegistry(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'registry failed to start');
    process.exit(1);
  }
  closeOnSignal(logger, 'registry', () => running.close());
  if (config.databaseUrl === undefined) {
    process.stdout.write(
      `Berth registry listening on ${running.url} (data in ${config.dataDir})\n`,
    );
  }
}
