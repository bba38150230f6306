import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';

/** What the local runtime logs through (a pino logger fits). */
export interface RuntimeLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Settings of the local runtime; everything but `dataDir` has a default. */
export interface LocalRuntimeConfig {
  /** Parent of every tenant's directory: `<dataDir>/<name>` holds its storage, log and pid file. */
  dataDir: string;
  /**
   * The data plane command, argv style. Default:
   * `[process.execPath, <repo>/bin/berth.js, 'registry', 'serve']`.
   */
  command?: string[];
  /** Address the data planes listen on (`HOST`); default 127.0.0.1. */
  bindHost?: string;
  /** Host of the public endpoint (`http://<publicHost>:<port>`); default 127.0.0.1. */
  publicHost?: string;
  /** `LOG_LEVEL` of the data planes; default info. */
  logLevel?: string;
  /** Added last to every data plane's environment (wins over the runtime's own variables). */
  extraEnv?: Record<string, string>;
  /** First restart delay after a crash; doubles per crash. Default 500 ms. */
  restartInitialDelayMs?: number;
  /** Longest restart delay; default 30 s. */
  restartMaxDelayMs?: number;
  /** A child ready for this long starts the next crash's back-off from the beginning; default 60 s. */
  stableAfterMs?: number;
  /** Consecutive crashes without becoming ready before the status is `failed`; default 5. */
  failedAfterCrashes?: number;
  /** Interval of `/readyz` polls while starting; default 250 ms. */
  readyPollIntervalMs?: number;
  /** Interval of `/readyz` checks once ready; default 5 s. */
  healthCheckIntervalMs?: number;
  /** Failed checks in a row before a ready data plane is reported `failed`; default 3. */
  unhealthyAfterChecks?: number;
  /** A child not ready after this long is stopped and counted as a crash; default 120 s. */
  startTimeoutMs?: number;
  /** SIGTERM to SIGKILL; default 15 s (the data plane's own grace period is 10 s). */
  stopTimeoutMs?: number;
  /**
   * Children get SIGKILL when the control plane dies abruptly (`setpriv --pdeathsig KILL`,
   * util-linux, when installed); default true.
   */
  dieWithParent?: boolean;
  /** `registry.log` is rotated to `registry.log.1` at a (re)start when larger; default 10 MiB. */
  maxLogBytes?: number;
  logger?: RuntimeLogger;
}

export type ResolvedLocalRuntimeConfig = Required<Omit<LocalRuntimeConfig, 'logger'>> & {
  logger: RuntimeLogger;
  /** `setpriv` when the children die with the control plane, else undefined. */
  setpriv: string | undefined;
};

const SILENT: RuntimeLogger = { info: () => {}, warn: () => {}, error: () => {} };

const SETPRIV_PATHS = ['/usr/bin/setpriv', '/bin/setpriv'];

/**
 * The repository's `bin/berth.js`, searched upwards from this file (`dist/runtime/local` once
 * compiled). The control plane spawns the data plane by path; it never imports its code.
 */
export function defaultRegistryCommand(from = __dirname): string[] {
  for (let dir = from; ; dir = dirname(dir)) {
    const bin = join(dir, 'bin', 'berth.js');
    if (existsSync(bin)) return [process.execPath, bin, 'registry', 'serve'];
    if (dirname(dir) === dir) break;
  }
  throw new Error(
    `local runtime: bin/berth.js not found in any parent of ${from}; set LocalRuntimeConfig.command`,
  );
}

export function resolveLocalRuntimeConfig(config: LocalRuntimeConfig): ResolvedLocalRuntimeConfig {
  if (!isAbsolute(config.dataDir)) {
    throw new Error(`local runtime: dataDir must be absolute (got ${config.dataDir})`);
  }
  const command = config.command ?? defaultRegistryCommand();
  if (command.length === 0) throw new Error('local runtime: command must not be empty');
  const resolved: ResolvedLocalRuntimeConfig = {
    dataDir: config.dataDir,
    command,
    bindHost: config.bindHost ?? '127.0.0.1',
    publicHost: config.publicHost ?? '127.0.0.1',
    logLevel: config.logLevel ?? 'info',
    extraEnv: config.extraEnv ?? {},
    restartInitialDelayMs: config.restartInitialDelayMs ?? 500,
    restartMaxDelayMs: config.restartMaxDelayMs ?? 30_000,
    stableAfterMs: config.stableAfterMs ?? 60_000,
    failedAfterCrashes: config.failedAfterCrashes ?? 5,
    readyPollIntervalMs: config.readyPollIntervalMs ?? 250,
    healthCheckIntervalMs: config.healthCheckIntervalMs ?? 5_000,
    unhealthyAfterChecks: config.unhealthyAfterChecks ?? 3,
    startTimeoutMs: config.startTimeoutMs ?? 120_000,
    stopTimeoutMs: config.stopTimeoutMs ?? 15_000,
    dieWithParent: config.dieWithParent ?? true,
    maxLogBytes: config.maxLogBytes ?? 10 * 1024 * 1024,
    logger: config.logger ?? SILENT,
    setpriv: undefined,
  };
  const positive: (keyof ResolvedLocalRuntimeConfig)[] = [
    'restartInitialDelayMs',
    'restartMaxDelayMs',
    'failedAfterCrashes',
    'readyPollIntervalMs',
    'healthCheckIntervalMs',
    'unhealthyAfterChecks',
    'startTimeoutMs',
    'stopTimeoutMs',
  ];
  for (const key of positive) {
    const value = resolved[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new Error(`local runtime: ${key} must be a positive number`);
    }
  }
  if (resolved.restartMaxDelayMs < resolved.restartInitialDelayMs) {
    throw new Error('local runtime: restartMaxDelayMs must not be below restartInitialDelayMs');
  }
  if (resolved.dieWithParent) resolved.setpriv = SETPRIV_PATHS.find((p) => existsSync(p));
  return resolved;
}

/** `host` as it goes in a URL: IPv6 literals in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/**
 * Where the control plane itself reaches a data plane: the bind address, or loopback when the
 * data planes listen on every interface.
 */
export function adminHost(bindHost: string): string {
  return bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '' ? '127.0.0.1' : bindHost;
}
