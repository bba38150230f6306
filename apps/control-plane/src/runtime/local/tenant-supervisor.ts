import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import type { RuntimeStatus } from '../runtime.port';
import type { ResolvedLocalRuntimeConfig } from './local-runtime.config';
import { removePidFile, stopOrphan, writePidFile } from './process-control';
import { RegistryLog } from './registry-log';
import { restartDelayMs } from './restart-backoff';
import type { TenantProcessSpec } from './tenant-process-spec';

/** Most characters of log output a failure message carries (its end). */
const MESSAGE_LOG_CHARS = 4000;
/** Timeout of one `/readyz` request. */
const PROBE_TIMEOUT_MS = 2000;

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  error?: Error;
}

/** One spawned data plane process. */
interface Child {
  process: ChildProcess;
  pid: number | undefined;
  startedAt: number;
  /** Resolves once the process has exited (or failed to spawn). */
  exited: Promise<ExitInfo>;
  /** Set by `halt`: the exit is wanted, not a crash. */
  stopping: boolean;
  /** Set when the supervisor stopped it for not becoming ready in time. */
  timedOut: boolean;
  readySince: number | undefined;
  failedChecks: number;
  probeTimer: NodeJS.Timeout | undefined;
}

type Phase =
  /** No process and none wanted (new, suspended, stopped). */
  | 'idle'
  /** Preparing the directory, stopping an orphan, spawning. */
  | 'launching'
  /** Running, `/readyz` not yet 200. */
  | 'starting'
  | 'ready'
  /** Was ready; `/readyz` has failed `unhealthyAfterChecks` times in a row. */
  | 'unhealthy'
  /** Crashed; waiting for the restart timer. */
  | 'backoff';

/**
 * Supervises the data plane process of one tenant: spawns it with its spec, polls `/readyz`,
 * restarts it with exponential back-off when it exits unexpectedly, and stops it gracefully
 * (SIGTERM, then SIGKILL after `stopTimeoutMs`). Callers serialize `run`, `suspend` and `stop`.
 */
export class TenantSupervisor {
  private spec: TenantProcessSpec | undefined;
  private suspended = false;
  private phase: Phase = 'idle';
  private child: Child | undefined;
  /** Crashes since the last start with a new spec or the last ready, for the `failed` state. */
  private crashesWithoutReady = 0;
  /** Crashes counted for the back-off; reset after `stableAfterMs` of readiness. */
  private crashes = 0;
  private message: string | null = null;
  private restartTimer: NodeJS.Timeout | undefined;
  private launching: Promise<void> | undefined;
  /** Bumped by `halt`, so a launch that was under way when halted does not spawn. */
  private epoch = 0;
  private readonly log: RegistryLog;
  private readonly pidFile: string;

  constructor(
    readonly name: string,
    readonly dir: string,
    private readonly config: ResolvedLocalRuntimeConfig,
  ) {
    this.log = new RegistryLog(join(dir, 'registry.log'), config.maxLogBytes);
    this.pidFile = join(dir, 'registry.pid');
  }

  /** The spec wanted running, undefined when suspended or stopped. */
  get currentSpec(): TenantProcessSpec | undefined {
    return this.spec;
  }

  /** The pid of the running data plane, if any. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /**
   * Runs the data plane with `spec`: starts it when not running, restarts it gracefully when
   * the spec differs, leaves it alone otherwise (also while it crash-loops: the back-off runs on).
   */
  async run(spec: TenantProcessSpec): Promise<void> {
    this.suspended = false;
    if (this.spec?.fingerprint === spec.fingerprint && this.phase !== 'idle') return;
    await this.halt(this.spec === undefined ? 'stop' : 'spec changed');
    this.spec = spec;
    this.crashes = 0;
    this.crashesWithoutReady = 0;
    this.message = null;
    this.startLaunch();
    await this.launching;
  }

  /** Stops the data plane, keeping its data; the status is `suspended`. */
  async suspend(): Promise<void> {
    await this.halt('suspended');
    this.spec = undefined;
    this.suspended = true;
  }

  /** Stops the data plane, keeping its data; the supervisor's end. */
  async stop(reason = 'stopped'): Promise<void> {
    await this.halt(reason);
    this.spec = undefined;
  }

  status(): RuntimeStatus {
    if (this.suspended) return { state: 'suspended', message: null };
    if (this.spec === undefined) return { state: 'absent', message: null };
    switch (this.phase) {
      case 'ready':
        return { state: 'ready', message: null };
      case 'unhealthy':
        return { state: 'failed', message: this.message };
      default:
        return {
          state: this.crashesWithoutReady >= this.config.failedAfterCrashes ? 'failed' : 'starting',
          message: this.message,
        };
    }
  }

  /** Cancels the restart timer and stops the process if one runs (SIGTERM, then SIGKILL). */
  private async halt(reason: string): Promise<void> {
    this.epoch++;
    while (this.launching !== undefined) await this.launching;
    // After the wait: a crash handled meanwhile may have set a timer.
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child !== undefined) {
      child.stopping = true;
      clearTimeout(child.probeTimer);
      const how = await this.terminate(child);
      this.event('info', 'stop', `data plane stopped (${reason})`, { pid: child.pid, how });
    }
    this.phase = 'idle';
  }

  /** SIGTERM, wait up to `stopTimeoutMs`, SIGKILL, wait for the exit. */
  private async terminate(child: Child): Promise<'terminated' | 'killed' | 'exited'> {
    if (child.process.exitCode !== null || child.process.signalCode !== null) return 'exited';
    child.process.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.stopTimeoutMs);
    });
    const first = await Promise.race([child.exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return 'terminated';
    child.process.kill('SIGKILL');
    await child.exited;
    return 'killed';
  }

  private startLaunch(): void {
    const epoch = this.epoch;
    this.phase = 'launching';
    this.launching = this.launch(epoch)
      .catch((err: unknown) => this.onLaunchFailed(epoch, err))
      .finally(() => {
        this.launching = undefined;
      });
  }

  private async launch(epoch: number): Promise<void> {
    const spec = this.spec;
    if (spec === undefined) return;
    await mkdir(spec.dir, { recursive: true, mode: 0o700 });
    const orphan = await stopOrphan(
      this.pidFile,
      spec.dir,
      spec.command,
      this.config.stopTimeoutMs,
    );
    if (orphan !== undefined) {
      this.event(
        'warn',
        'orphan',
        'stopped a data plane left running by a previous control plane',
        {
          pid: orphan.pid,
          how: orphan.how,
        },
      );
    }
    if (epoch !== this.epoch) return;
    const [file, ...args] = this.config.setpriv
      ? [this.config.setpriv, '--pdeathsig', 'KILL', '--', ...spec.command]
      : spec.command;
    this.event('info', 'spawn', 'starting the data plane', {
      port: spec.port,
      command: spec.command,
      attempt: this.crashes + 1,
    });
    const fd = this.log.openForChild();
    let proc: ChildProcess;
    try {
      // Own process group: a terminal's Ctrl-C reaches the control plane only, which then
      // stops its children in order.
      proc = spawn(file, args, {
        cwd: spec.dir,
        env: spec.env,
        stdio: ['ignore', fd, fd],
        detached: true,
      });
    } finally {
      closeSync(fd);
    }
    const exited = new Promise<ExitInfo>((resolve) => {
      proc.once('exit', (code, signal) => resolve({ code, signal }));
      proc.on('error', (error) => {
        if (proc.pid === undefined) resolve({ code: null, signal: null, error });
        else this.config.logger.warn({ tenant: this.name, err: error }, 'local runtime: child');
      });
    });
    const child: Child = {
      process: proc,
      pid: proc.pid,
      startedAt: Date.now(),
      exited,
      stopping: false,
      timedOut: false,
      readySince: undefined,
      failedChecks: 0,
      probeTimer: undefined,
    };
    this.child = child;
    this.phase = 'starting';
    if (child.pid !== undefined) writePidFile(this.pidFile, child.pid);
    exited
      .then((info) => this.onExit(child, info))
      .catch((err: unknown) =>
        this.config.logger.error({ tenant: this.name, err }, 'local runtime: exit handling'),
      );
    this.scheduleProbe(child, this.config.readyPollIntervalMs);
  }

  private onLaunchFailed(epoch: number, err: unknown): void {
    const reason = err instanceof Error ? err.message : String(err);
    this.config.logger.error({ tenant: this.name, err }, 'local runtime: launch failed');
    if (epoch !== this.epoch || this.child !== undefined) return;
    this.crashed(`could not start the data plane: ${reason}`, []);
  }

  private onExit(child: Child, info: ExitInfo): void {
    clearTimeout(child.probeTimer);
    if (this.child === child) this.child = undefined;
    if (child.pid !== undefined) removePidFile(this.pidFile, child.pid);
    if (child.stopping) return;
    const how = info.error
      ? `could not be spawned (${info.error.message})`
      : info.signal !== null
        ? `was killed by ${info.signal}`
        : `exited with code ${info.code}`;
    const now = Date.now();
    if (child.readySince !== undefined && now - child.readySince >= this.config.stableAfterMs) {
      this.crashes = 0;
    }
    const what = child.timedOut
      ? `was not ready within ${this.config.startTimeoutMs} ms and was stopped`
      : child.readySince === undefined
        ? `${how} before becoming ready`
        : how;
    this.event('warn', 'exit', `data plane ${what}`, {
      pid: child.pid,
      code: info.code,
      signal: info.signal,
    });
    this.crashed(`data plane ${what}`, child.readySince === undefined ? this.lastLines() : []);
  }

  /** Counts a crash, sets the message and schedules the restart. */
  private crashed(what: string, lines: string[]): void {
    this.crashes++;
    if (this.phase !== 'ready' && this.phase !== 'unhealthy') this.crashesWithoutReady++;
    const wait = restartDelayMs(this.config, this.crashes, this.crashesWithoutReady);
    const failed = this.crashesWithoutReady >= this.config.failedAfterCrashes;
    const header = failed
      ? `${what}; ${this.crashesWithoutReady} crashes in a row without becoming ready, ` +
        `retrying every ${formatMs(wait)}`
      : `${what}; restarting in ${formatMs(wait)}`;
    this.message = lines.length > 0 ? `${header}\n${tailChars(lines.join('\n'))}` : header;
    if (failed) {
      this.config.logger.error({ tenant: this.name }, `local runtime: ${header}`);
    } else {
      this.config.logger.warn({ tenant: this.name }, `local runtime: ${header}`);
    }
    this.phase = 'backoff';
    const epoch = this.epoch;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (epoch === this.epoch && this.spec !== undefined) this.startLaunch();
    }, wait);
  }

  private lastLines(): string[] {
    try {
      return this.log.lastRunLines();
    } catch {
      return [];
    }
  }

  private scheduleProbe(child: Child, delayMs: number): void {
    child.probeTimer = setTimeout(() => {
      this.probe(child).catch((err: unknown) =>
        this.config.logger.error({ tenant: this.name, err }, 'local runtime: probe failed'),
      );
    }, delayMs);
  }

  private async probe(child: Child): Promise<void> {
    if (this.child !== child || child.stopping) return;
    const spec = this.spec;
    if (spec === undefined) return;
    const result = await probeReady(spec.readyUrl);
    if (this.child !== child || child.stopping) return;
    if (result.ready) {
      child.failedChecks = 0;
      if (this.phase !== 'ready') {
        this.phase = 'ready';
        this.message = null;
        this.crashesWithoutReady = 0;
        if (child.readySince === undefined) {
          child.readySince = Date.now();
          this.event('info', 'ready', 'data plane ready', { pid: child.pid });
          this.config.logger.info({ tenant: this.name, pid: child.pid }, 'local runtime: ready');
        }
      }
      this.scheduleProbe(child, this.config.healthCheckIntervalMs);
      return;
    }
    if (child.readySince === undefined) {
      if (Date.now() - child.startedAt >= this.config.startTimeoutMs) {
        child.timedOut = true;
        this.message = `not ready within ${this.config.startTimeoutMs} ms (${result.detail}); stopping it`;
        await this.terminate(child);
        return;
      }
      this.scheduleProbe(child, this.config.readyPollIntervalMs);
      return;
    }
    child.failedChecks++;
    if (child.failedChecks >= this.config.unhealthyAfterChecks && this.phase === 'ready') {
      this.phase = 'unhealthy';
      this.message = `running but not ready: ${result.detail}`;
      this.event('warn', 'unhealthy', this.message, { pid: child.pid });
      this.config.logger.warn({ tenant: this.name }, `local runtime: ${this.message}`);
    }
    this.scheduleProbe(
      child,
      Math.min(this.config.readyPollIntervalMs * 4, this.config.healthCheckIntervalMs),
    );
  }

  private event(
    level: 'info' | 'warn' | 'error',
    event: Parameters<RegistryLog['event']>[1],
    msg: string,
    fields: Record<string, unknown> = {},
  ): void {
    try {
      this.log.event(level, event, msg, fields);
    } catch (err) {
      // The directory is gone (removed) or unwritable: the control plane's log still has it.
      this.config.logger.warn({ tenant: this.name, err }, `local runtime: ${msg}`);
    }
  }
}

/** One `GET /readyz`: 200 is ready; anything else says why not. */
export function probeReady(url: string): Promise<{ ready: boolean; detail: string }> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: PROBE_TIMEOUT_MS }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length < 500) body += chunk;
      });
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        resolve({ ready: status === 200, detail: `/readyz answered ${status} ${body.trim()}` });
      });
      response.on('error', (err) => resolve({ ready: false, detail: err.message }));
    });
    request.on('timeout', () => request.destroy(new Error('/readyz timed out')));
    request.on('error', (err) => resolve({ ready: false, detail: `/readyz: ${err.message}` }));
  });
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
}

function tailChars(text: string): string {
  return text.length <= MESSAGE_LOG_CHARS ? text : `…${text.slice(-MESSAGE_LOG_CHARS)}`;
}
