import { readFileSync } from 'node:fs';

/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): top functions by self time, self
 * time by package / source area, and top functions by inclusive time.
 *
 *   node bench/dist/cpuprofile-summary.js <file.cpuprofile> [top=25] [fromMs toMs]
 */

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function shortUrl(url: string): string {
  if (!url) return '';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  const work = /\/(apps|libs|bin|bench)\/.*$/.exec(path);
  return work ? work[0].slice(1) : path;
}

/** The package or source area a frame belongs to. */
function areaOf(frame: CallFrame): string {
  const name = frame.functionName;
  if (!frame.url) {
    if (name === '(garbage collector)' || name === '(idle)' || name === '(program)') return name;
    return '(native/builtin)';
  }
  if (frame.url.startsWith('node:')) return 'node:internal';
  const path = frame.url.replace(/^file:\/\//, '');
  const nm = /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (nm) return nm[1];
  const own = /\/((?:apps|libs)\/[^/]+)\//.exec(path);
  if (own) return `berth:${own[1]}`;
  return shortUrl(frame.url);
}

function keyOf(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  const where = frame.url ? ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${name}${where}`;
}

export interface ProfileSummary {
  totalMs: number;
  self: { key: string; ms: number }[];
  areas: { area: string; ms: number }[];
  inclusive: { key: string; ms: number }[];
}

/**
 * `window` (ms since the profile started, which is within milliseconds of the process
 * start) restricts the summary to the samples taken while a workload ran.
 */
export function analyseProfile(
  profile: CpuProfile,
  window?: { fromMs: number; toMs: number },
): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) byId.set(node.id, node);
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const areas = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  const { samples, timeDeltas } = profile;
  let at = 0;
  for (let i = 0; i < samples.length; i++) {
    at += (timeDeltas[i] ?? 0) / 1000;
    if (window && (at < window.fromMs || at > window.toMs)) continue;
    // The delta that follows a sample is the time spent in it.
    const ms = (timeDeltas[i + 1] ?? timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(samples[i]);
    if (!node) continue;
    totalMs += ms;
    const key = keyOf(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + ms);
    const area = areaOf(node.callFrame);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (frame.functionName === '(root)') break;
      const k = keyOf(frame);
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  }
  const sorted = <K extends string>(m: Map<string, number>, name: K) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, ms]) => ({ [name]: k, ms }) as Record<K, string> & { ms: number });
  return {
    totalMs,
    self: sorted(self, 'key'),
    areas: sorted(areas, 'area'),
    inclusive: sorted(inclusive, 'key'),
  };
}

export function summariseProfile(
  file: string,
  top = 25,
  window?: { fromMs: number; toMs: number },
): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const s = analyseProfile(profile, window);
  const pct = (ms: number): string => `${((ms / s.totalMs) * 100).toFixed(1).padStart(5)}%`;
  const busy = s.totalMs - (s.areas.find((a) => a.area === '(idle)')?.ms ?? 0);
  const lines = [
    `profile ${file}: ${(s.totalMs / 1000).toFixed(1)} s sampled${window ? ` (from ${(window.fromMs / 1000).toFixed(1)} s to ${(window.toMs / 1000).toFixed(1)} s after start)` : ''}, ${(busy / 1000).toFixed(1)} s not idle`,
    '',
    `top ${top} functions by self time:`,
    ...s.self
      .slice(0, top)
      .map((e) => `  ${e.ms.toFixed(0).padStart(7)} ms ${pct(e.ms)}  ${e.key}`),
    '',
    'self time by package / area:',
    ...s.areas
      .slice(0, 15)
      .map((e) => `  ${e.ms.toFixed(0).padStart(7)} ms ${pct(e.ms)}  ${e.area}`),
    '',
    `top ${top} functions by inclusive time (Berth code and its direct callees):`,
    ...s.inclusive
      .filter((e) => !/^\((program|idle|garbage collector)\)/.test(e.key))
      .slice(0, top)
      .map((e) => `  ${e.ms.toFixed(0).padStart(7)} ms ${pct(e.ms)}  ${e.key}`),
    '',
  ];
  return lines.join('\n');
}

if (require.main === module) {
  const [file, top, fromMs, toMs] = process.argv.slice(2);
  if (!file) {
    process.stderr.write(
      'usage: node bench/dist/cpuprofile-summary.js <file.cpuprofile> [top] [fromMs] [toMs]\n',
    );
    process.exit(2);
  }
  const window =
    fromMs !== undefined ? { fromMs: Number(fromMs), toMs: Number(toMs ?? Infinity) } : undefined;
  process.stdout.write(summariseProfile(file, top ? Number(top) : 25, window));
}
