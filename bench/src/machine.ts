import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  disk: string;
  loadAverageAtStart: number[];
  /** /proc/pressure/cpu "some avg60" (% of time runnable tasks waited for a CPU). */
  cpuPressureAtStart: number | undefined;
  node: string;
}

export function cpuPressure(): number | undefined {
  const m = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(safeRead('/proc/pressure/cpu'));
  return m ? Number(m[1]) : undefined;
}

export interface MachineLimits {
  /** Single-core SHA-256 throughput, bytes/s (openssl speed, 16 KiB blocks). */
  sha256BytesPerSec: number;
  /** Sequential write with fdatasync, bytes/s (dd). */
  diskWriteBytesPerSec: number;
  /** Sequential read right after the write: page-cache warm, bytes/s (dd). */
  diskReadBytesPerSec: number;
}

export function describeMachine(dir: string): MachineInfo {
  const cpuinfo = safeRead('/proc/cpuinfo');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? '?';
  const df = spawnSync('df', ['-hT', dir], { encoding: 'utf8' }).stdout.trim().split('\n')[1] ?? '';
  const [device, fsType, size, , avail] = df.split(/\s+/);
  const flags = /^flags\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? '';
  return {
    nproc: cpus().length,
    cpuModel: `${model}${flags.includes('sha_ni') ? ' (SHA-NI)' : ''}`,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    disk: `${device ?? '?'} (${fsType ?? '?'}, ${size ?? '?'}, ${avail ?? '?'} free) at ${dir}`,
    loadAverageAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    cpuPressureAtStart: cpuPressure(),
    node: process.version,
  };
}

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** `openssl speed -evp sha256 -bytes 16384 -seconds 2`: the last (largest-block) figure. */
export function measureSha256(): number {
  const result = spawnSync(
    'openssl',
    ['speed', '-evp', 'sha256', '-bytes', '16384', '-seconds', '2'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  const line = result.stdout.split('\n').find((l) => /^sha256\s/i.test(l.trim()));
  const figures = line?.trim().split(/\s+/).slice(1) ?? [];
  const last = figures[figures.length - 1];
  if (!last) throw new Error(`cannot parse openssl speed output: ${result.stdout}`);
  // Figures are in 1000s of bytes per second ("1749363.20k").
  return Number.parseFloat(last.replace(/k$/, '')) * 1000;
}

/** dd write (conv=fdatasync) then read of `bytes` in `dir`; the read is page-cache warm. */
export function measureDisk(dir: string, bytes: number): { write: number; read: number } {
  const file = join(dir, 'dd.test');
  const count = Math.max(1, Math.round(bytes / (1024 * 1024)));
  try {
    const write = spawnSync(
      'dd',
      ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${count}`, 'conv=fdatasync'],
      { encoding: 'utf8', timeout: 300_000 },
    );
    const read = spawnSync('dd', [`if=${file}`, 'of=/dev/null', 'bs=1M'], {
      encoding: 'utf8',
      timeout: 300_000,
    });
    return { write: ddRate(write.stderr), read: ddRate(read.stderr) };
  } finally {
    rmSync(file, { force: true });
  }
}

/** "1073741824 bytes (1.1 GB, 1.0 GiB) copied, 1.2 s, 895 MB/s" -> bytes/s. */
function ddRate(stderr: string): number {
  const m = /(\d+) bytes .* copied, ([\d.,]+) s/.exec(stderr);
  if (!m) throw new Error(`cannot parse dd output: ${stderr}`);
  return Number(m[1]) / Number(m[2].replace(',', '.'));
}
