import { Command } from 'commander';
import { ConfigError } from '@berth/env-config';
import {
  createControlPlaneLogger,
  startControlPlane,
  type RunningControlPlane,
} from './control-plane-app';
import { loadControlPlaneConfig, type ControlPlaneConfig } from './config/control-plane-config';
import { bootstrapPlatform, type BootstrapResult } from './platform-bootstrap';

/** `berth platform serve`: the control plane, and with the local runtime every tenant. */
export function platformCommand(): Command {
  const platform = new Command('platform').description(
    'the control plane: organisations, registries, tiers, billing, provisioning',
  );
  platform
    .command('serve')
    .description('serve the provisioning REST API and run every registry (local runtime)')
    .option('--data-dir <dir>', 'data directory (DATA_DIR, default ./data)')
    .action(async (options: { dataDir?: string }) => {
      await serve(options);
    });
  return platform;
}

function loadConfigOrExit(overrides: Record<string, string>): ControlPlaneConfig {
  try {
    return loadControlPlaneConfig({ ...process.env, ...overrides });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`berth: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

async function serve(options: { dataDir?: string }): Promise<void> {
  const config = loadConfigOrExit(options.dataDir ? { DATA_DIR: options.dataDir } : {});
  const logger = createControlPlaneLogger(config.logLevel);
  let running: RunningControlPlane;
  try {
    running = await startControlPlane(config, logger);
  } catch (err) {
    logger.fatal?.(
      `control plane failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    process.exit(1);
  }
  const stop = (signal: string): void => {
    logger.log(`control plane stopping (${signal})`);
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error(`shutdown failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (!config.bootstrap) {
    process.stdout.write(`Berth control plane listening on ${running.url}\n`);
    return;
  }
  const result = await bootstrapPlatform(running.app, running.config);
  process.stdout.write(describe(running.url, config, result));
}

function describe(url: string, config: ControlPlaneConfig, result: BootstrapResult): string {
  const lines = [
    '',
    `Berth platform (data in ${config.dataDir})`,
    `  control plane   ${url}   (API docs: ${url}/api/docs)`,
    `  administrator   ${result.adminEmail}`,
  ];
  if (result.adminPassword) {
    lines.push(
      `  password        ${result.adminPassword}${result.passwordFile ? `   (kept in ${result.passwordFile})` : ''}`,
    );
  } else {
    lines.push('  password        as set on first start');
  }
  if (result.registry) {
    lines.push(
      `  registry        ${result.registry.name}: ${result.registry.endpoint ?? '-'} (${result.registry.state})`,
    );
  }
  if (result.credentials) {
    lines.push(`  docker login    ${result.credentials.dockerLogin}`);
  } else if (result.registry) {
    lines.push(
      `  credentials     POST ${url}/api/v1/orgs/default/registries/${result.registry.name}/credentials {"kind":"user"}`,
    );
  }
  return `${lines.join('\n')}\n\n`;
}
