import { Command } from 'commander';
import { ConfigError, loadRegistryConfig } from './config/registry-config';
import { createLogger, startRegistry } from './registry-app';

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
  return registry;
}

async function serve(options: {
  host?: string;
  port?: string;
  dataDir?: string;
  quickstart?: boolean;
}): Promise<void> {
  let config;
  try {
    config = loadRegistryConfig({
      // The quick start serves one person on one machine: no per-IP request limit.
      ...(options.quickstart ? { REGISTRY_RATE_LIMIT_REQUESTS: '0' } : {}),
      ...process.env,
      ...(options.host !== undefined ? { HOST: options.host } : {}),
      ...(options.port !== undefined ? { PORT: options.port } : {}),
      ...(options.dataDir !== undefined ? { DATA_DIR: options.dataDir } : {}),
    });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config);
  let running;
  try {
    running = await startRegistry(config, logger);
  } catch (err) {
    logger.fatal({ err }, 'registry failed to start');
    process.exit(1);
  }
  const stop = (signal: string): void => {
    logger.info({ signal }, 'signal received');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (config.databaseUrl === undefined) {
    process.stdout.write(
      `Berth registry listening on ${running.url} (data in ${config.dataDir})\n`,
    );
  }
}

export function runCli(argv: string[]): void {
  const program = new Command('berth')
    .description('Berth: a managed OCI container registry platform')
    .addCommand(registryCommand());
  program.parseAsync(argv).catch((err: unknown) => {
    process.stderr.write(`berth: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
