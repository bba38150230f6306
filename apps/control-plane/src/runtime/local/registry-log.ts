import { appendFileSync, closeSync, openSync, readSync, renameSync, statSync } from 'node:fs';

export type RuntimeEvent = 'spawn' | 'ready' | 'exit' | 'stop' | 'orphan' | 'unhealthy' | 'error';

const LEVELS = { info: 30, warn: 40, error: 50 } as const;
const RUNTIME_SERVICE = 'berth-runtime';
/** How much of the log's end `lastRunLines` reads. */
const TAIL_BYTES = 64 * 1024;

/**
 * A tenant's `registry.log`: the data plane's stdout and stderr (the child writes to the file
 * itself, so its output survives the control plane) interleaved with the supervisor's own JSON
 * lines (`"service":"berth-runtime"`: spawn, ready, exit, stop, orphan).
 */
export class RegistryLog {
  constructor(
    readonly path: string,
    private readonly maxBytes: number,
  ) {}

  /**
   * A file descriptor opened for appending, for the child's stdout and stderr; the log is moved
   * to `registry.log.1` first when it has grown past the limit. The caller closes it once the
   * child is spawned.
   */
  openForChild(): number {
    try {
      if (statSync(this.path).size > this.maxBytes) renameSync(this.path, `${this.path}.1`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    return openSync(this.path, 'a', 0o600);
  }

  /** One line of the supervisor (O_APPEND: never interleaved inside a line of the child). */
  event(
    level: keyof typeof LEVELS,
    event: RuntimeEvent,
    msg: string,
    fields: Record<string, unknown> = {},
  ): void {
    const line = {
      level: LEVELS[level],
      time: new Date().toISOString(),
      service: RUNTIME_SERVICE,
      event,
      ...fields,
      msg,
    };
    appendFileSync(this.path, `${JSON.stringify(line)}\n`, { mode: 0o600 });
  }

  /**
   * The last `max` lines the data plane wrote since the supervisor last started it (read from
   * the end of the file), for failure messages. Empty when there is no log.
   */
  lastRunLines(max = 50): string[] {
    let text: string;
    let fromStart: boolean;
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    try {
      const size = statSync(this.path).size;
      const length = Math.min(size, TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      const read = readSync(fd, buffer, 0, length, size - length);
      text = buffer.subarray(0, read).toString('utf8');
      fromStart = length === size;
    } finally {
      closeSync(fd);
    }
    return lastRunLines(text, fromStart, max);
  }
}

/** See `RegistryLog.lastRunLines`; `text` is the end of the log, `fromStart` when it is all of it. */
export function lastRunLines(text: string, fromStart: boolean, max: number): string[] {
  const lines = text.split('\n');
  if (!fromStart) lines.shift(); // a partial first line
  const isRuntimeLine = (line: string): boolean => line.includes(`"service":"${RUNTIME_SERVICE}"`);
  let begin = 0;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (isRuntimeLine(lines[i]) && lines[i].includes('"event":"spawn"')) {
      begin = i + 1;
      break;
    }
  }
  return lines
    .slice(begin)
    .filter((line) => line.trim() !== '' && !isRuntimeLine(line))
    .slice(-max);
}
