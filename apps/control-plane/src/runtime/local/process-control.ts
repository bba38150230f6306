import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * Processes by pid, for the data planes a previous control plane left behind (Linux: reads
 * `/proc`). The supervisor's own children are handled through their ChildProcess instead.
 */

const POLL_MS = 50;

export function readPidFile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 1 ? pid : undefined;
}

/** Pid files are read and written synchronously: no other step can run between a check and a write. */
export function writePidFile(path: string, pid: number): void {
  writeFileSync(path, `${pid}\n`, { mode: 0o600 });
}

/** Removes the pid file, only when it still names `pid` (when given). */
export function removePidFile(path: string, pid?: number): void {
  if (pid !== undefined && readPidFile(path) !== pid) return;
  rmSync(path, { force: true });
}

/** True while `pid` exists and is not a zombie. */
export async function isProcessAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ...`; comm may hold spaces and parentheses.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true; // no /proc: the signal test said it exists
  }
}

/** argv of a process, or undefined when unreadable (gone, no /proc). */
export async function readCmdline(pid: number): Promise<string[] | undefined> {
  try {
    const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1);
  } catch {
    return undefined;
  }
}

/** A variable of the environment a process started with; undefined when unset or unreadable. */
export async function readStartEnv(pid: number, key: string): Promise<string | undefined> {
  let raw: string;
  try {
    raw = await readFile(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const prefix = `${key}=`;
  return raw
    .split('\0')
    .find((entry) => entry.startsWith(prefix))
    ?.slice(prefix.length);
}

/** `berth ... registry serve`, or the configured data plane command. */
export function isDataPlaneCommandLine(cmdline: readonly string[], command: readonly string[]) {
  for (let i = 0; i + 1 < cmdline.length; i++) {
    if (cmdline[i] === 'registry' && cmdline[i + 1] === 'serve') return true;
  }
  const tail = command.length > 1 ? command.slice(1) : command;
  return (
    cmdline.length >= tail.length &&
    tail.every((arg, i) => cmdline[cmdline.length - tail.length + i] === arg)
  );
}

/**
 * True when `pid` is the data plane of the tenant whose DATA_DIR is `dir`: its command line is
 * a data plane's and it was started with that DATA_DIR (so a recycled pid, even another
 * tenant's data plane, is never taken for it).
 */
export async function isTenantDataPlane(
  pid: number,
  dir: string,
  command: readonly string[],
): Promise<boolean> {
  if (!(await isProcessAlive(pid))) return false;
  const cmdline = await readCmdline(pid);
  if (cmdline === undefined || !isDataPlaneCommandLine(cmdline, command)) return false;
  return (await readStartEnv(pid, 'DATA_DIR')) === dir;
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!(await isProcessAlive(pid))) return true;
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * SIGTERM, up to `timeoutMs` for the process to exit, then SIGKILL. Resolves how it ended;
 * throws when even SIGKILL did not end it within `timeoutMs`.
 */
export async function terminateProcess(
  pid: number,
  timeoutMs: number,
): Promise<'terminated' | 'killed'> {
  signal(pid, 'SIGTERM');
  if (await waitGone(pid, timeoutMs)) return 'terminated';
  signal(pid, 'SIGKILL');
  if (await waitGone(pid, timeoutMs)) return 'killed';
  throw new Error(`process ${pid} survived SIGKILL for ${timeoutMs} ms`);
}

export interface StoppedOrphan {
  pid: number;
  how: 'terminated' | 'killed';
}

/**
 * Stops the data plane a previous control plane left running for the tenant in `dir` (named
 * by its pid file), and removes the pid file. Does nothing to a pid that is not that tenant's
 * data plane (exited, or recycled by another process).
 */
export async function stopOrphan(
  pidFile: string,
  dir: string,
  command: readonly string[],
  timeoutMs: number,
): Promise<StoppedOrphan | undefined> {
  const pid = readPidFile(pidFile);
  if (pid === undefined) return undefined;
  let stopped: StoppedOrphan | undefined;
  if (pid !== process.pid && (await isTenantDataPlane(pid, dir, command))) {
    stopped = { pid, how: await terminateProcess(pid, timeoutMs) };
  }
  removePidFile(pidFile, pid);
  return stopped;
}
