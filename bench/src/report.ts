import type { MachineInfo, MachineLimits } from './machine';
import { spread, type Latency, type Spread } from './stats';
import type { LimitKind, MetricSpec, RunDetail, SideKey, TargetSpec, Workload } from './workloads';

export interface TargetResult {
  label: string;
  pass: boolean;
  measured: string;
}

export interface Row {
  id: string;
  workload: string;
  title: string;
  metric: string;
  unit: string;
  better: 'higher' | 'lower';
  ours: Spread;
  theirs: Spread;
  /**
   * The ratio the targets judge: the median of the per-round ratios where both registries ran in
   * the same round (a pair), else ours median / theirs median.
   */
  ratio: number;
  /** ours / theirs for each round that ran both, in round order. */
  pairRatios: number[];
  /** ours median / theirs median (medians may come from different rounds). */
  ratioOfMedians: number;
  limitFractions: { limit: LimitKind; fraction: number }[];
  targets: TargetResult[];
  notes: string[];
}

export interface RunRecord {
  workload: string;
  round: number;
  side: SideKey;
  detail: RunDetail;
}

const LIMIT_NAMES: Record<LimitKind, string> = {
  sha256: 'SHA-256',
  diskWrite: 'disk write',
  diskRead: 'disk read',
};

function limitValueMBs(limits: MachineLimits, kind: LimitKind): number {
  const bytes =
    kind === 'sha256'
      ? limits.sha256BytesPerSec
      : kind === 'diskWrite'
        ? limits.diskWriteBytesPerSec
        : limits.diskReadBytesPerSec;
  return bytes / 1e6;
}

export function evaluateTarget(
  target: TargetSpec,
  ours: number,
  ratio: number,
  limits: MachineLimits,
): TargetResult {
  switch (target.kind) {
    case 'ratio-min':
      return { label: target.label, pass: ratio >= target.value, measured: `${fmtRatio(ratio)}` };
    case 'ratio-max':
      return {
        label: target.label,
        pass: ratio <= target.value,
        measured:
          target.value < 1
            ? ratio <= 1
              ? `${fmt(1 / ratio)}x faster`
              : `${fmt(ratio)}x slower`
            : `${fmtRatio(ratio)} of Distribution`,
      };
    case 'limit-min': {
      const fraction = ours / limitValueMBs(limits, target.limit);
      return {
        label: target.label,
        pass: fraction >= target.value,
        measured: `${(fraction * 100).toFixed(0)}%`,
      };
    }
    case 'abs-max':
      return { label: target.label, pass: ours <= target.value, measured: fmt(ours) };
  }
}

export function buildRow(
  workload: Workload,
  metric: MetricSpec,
  runs: RunRecord[],
  limits: MachineLimits,
): Row {
  const mine = runs.filter((r) => r.workload === workload.id);
  const values = (side: SideKey): number[] =>
    mine.filter((r) => r.side === side).map((r) => metric.extract(r.detail));
  const ours = spread(values('ours'));
  const theirs = spread(values('theirs'));
  // A pair is one round's run of each registry, back to back: the machine's load drifts between
  // rounds far more than within one, so each pair's ratio cancels most of it.
  const pairRatios: number[] = [];
  for (const round of [...new Set(mine.map((r) => r.round))].sort((a, b) => a - b)) {
    const of = (side: SideKey): RunRecord | undefined =>
      mine.find((r) => r.round === round && r.side === side);
    const a = of('ours');
    const b = of('theirs');
    if (a && b) pairRatios.push(metric.extract(a.detail) / metric.extract(b.detail));
  }
  const ratioOfMedians = ours.median / theirs.median;
  const paired = spread(pairRatios);
  const ratio = paired.values.length > 0 ? paired.median : ratioOfMedians;
  const notes = [
    ...new Set(
      mine.flatMap((r) => [
        ...(r.detail.note
          ? [`${r.side === 'ours' ? 'Berth' : 'Distribution'}: ${r.detail.note}`]
          : []),
        ...(r.detail.errors > 0
          ? [
              `${r.side} round ${r.round}: ${r.detail.errors} errors (${r.detail.firstErrors[0] ?? ''})`,
            ]
          : []),
      ]),
    ),
  ];
  return {
    id: metric.id,
    workload: workload.id,
    title: workload.title,
    metric: metric.label,
    unit: metric.unit,
    better: metric.better,
    ours,
    theirs,
    ratio,
    pairRatios,
    ratioOfMedians,
    limitFractions: (metric.limits ?? []).map((limit) => ({
      limit,
      fraction: ours.median / limitValueMBs(limits, limit),
    })),
    targets: (metric.targets ?? []).map((t) => evaluateTarget(t, ours.median, ratio, limits)),
    notes,
  };
}

export function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 1000) return value.toFixed(0);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

function fmtRatio(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a';
}

/** The judged ratio, and each pair's when there is more than one pair. */
function fmtRatios(row: Row): string {
  if (row.pairRatios.length < 2) return fmtRatio(row.ratio);
  return `${fmtRatio(row.ratio)} (pairs ${row.pairRatios.map(fmtRatio).join(', ')})`;
}

function fmtSpread(s: Spread): string {
  if (s.values.length === 0) return 'n/a';
  if (s.values.length === 1) return fmt(s.median);
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

export function renderTable(rows: Row[], limits: MachineLimits): string {
  const lines = [
    '| Workload | Metric | Berth median (min–max) | Distribution median (min–max) | Berth/Dist. | Share of machine limit | Target | Result |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows) {
    const limit = row.limitFractions
      .map(
        (l) =>
          `${(l.fraction * 100).toFixed(0)}% of ${LIMIT_NAMES[l.limit]} (${fmt(limitValueMBs(limits, l.limit))} MB/s)`,
      )
      .join('; ');
    const target = row.targets.map((t) => t.label).join('; ');
    const result = row.targets.length
      ? row.targets.map((t) => `${t.pass ? 'pass' : 'MISS'} (${t.measured})`).join('; ')
      : '';
    lines.push(
      `| ${row.id} | ${row.metric} | ${fmtSpread(row.ours)} | ${fmtSpread(row.theirs)} | ${fmtRatios(row)} | ${limit} | ${target} | ${result} |`,
    );
  }
  return lines.join('\n');
}

export function renderDetails(runs: RunRecord[], workloads: Workload[]): string {
  const lines = [
    '| Workload | Registry | ops/s | req/s | MB/s | p50 ms | p90 ms | p99 ms | server CPU s | CPU ms/op | errors |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const w of workloads) {
    for (const side of ['ours', 'theirs'] as const) {
      const mine = runs.filter((r) => r.workload === w.id && r.side === side).map((r) => r.detail);
      if (mine.length === 0) continue;
      const med = (f: (d: RunDetail) => number): string => fmt(spread(mine.map(f)).median);
      lines.push(
        `| ${w.id} | ${side === 'ours' ? 'Berth' : 'Distribution'} | ${med((d) => d.opsPerSec)} | ${med((d) => d.reqPerSec)} | ${med((d) => d.mbPerSec)} | ${med((d) => d.latency.p50)} | ${med((d) => d.latency.p90)} | ${med((d) => d.latency.p99)} | ${med((d) => d.serverCpuSec)} | ${med((d) => (d.serverCpuSec * 1000) / d.ops)} | ${mine.reduce((n, d) => n + d.errors, 0)} |`,
      );
      // Operations of several kinds (mixed) also get a latency row per kind.
      const kinds = [...new Set(mine.flatMap((d) => Object.keys(d.byKind ?? {})))].sort();
      for (const kind of kinds) {
        const of = mine.flatMap((d) => (d.byKind?.[kind] ? [d.byKind[kind]] : []));
        const kmed = (f: (l: Latency) => number): string => fmt(spread(of.map(f)).median);
        lines.push(
          `| ${w.id}: ${kind} | ${side === 'ours' ? 'Berth' : 'Distribution'} | | | | ${kmed((l) => l.p50)} | ${kmed((l) => l.p90)} | ${kmed((l) => l.p99)} | | | |`,
        );
      }
    }
  }
  return lines.join('\n');
}

export function renderTargets(rows: Row[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    for (const t of row.targets) {
      lines.push(
        `- ${t.pass ? 'pass' : 'MISS'}: ${row.id} ${row.metric} ${t.label} — measured ${t.measured}`,
      );
    }
  }
  return lines.join('\n');
}

export function renderMachine(
  machine: MachineInfo,
  limits: MachineLimits,
  extra: string[],
): string {
  return [
    `- CPU: ${machine.cpuModel}, ${machine.nproc} cores; memory ${machine.memoryGiB} GiB; Node ${machine.node}`,
    `- Disk: ${machine.disk}`,
    `- Load average at start: ${machine.loadAverageAtStart.join(', ')}; CPU pressure (PSI some avg60) ${machine.cpuPressureAtStart ?? 'n/a'}%`,
    `- Single-core SHA-256 (openssl speed -evp sha256, 16 KiB blocks): ${fmt(limits.sha256BytesPerSec / 1e6)} MB/s`,
    `- Sequential write (dd bs=1M conv=fdatasync): ${fmt(limits.diskWriteBytesPerSec / 1e6)} MB/s; sequential read right after (page-cache warm, caches not dropped): ${fmt(limits.diskReadBytesPerSec / 1e6)} MB/s`,
    ...extra.map((e) => `- ${e}`),
  ].join('\n');
}
