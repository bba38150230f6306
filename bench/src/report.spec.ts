import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { MachineLimits } from './machine';
import { buildRow, renderTable, type Row, type RunRecord } from './report';
import type { MetricSpec, RunDetail, Workload } from './workloads';

const limits: MachineLimits = {
  sha256BytesPerSec: 1000e6,
  diskWriteBytesPerSec: 500e6,
  diskReadBytesPerSec: 2000e6,
};

function detail(reqPerSec: number, elapsedMs = 1000): RunDetail {
  return {
    ops: reqPerSec,
    requests: reqPerSec,
    bytes: 0,
    elapsedMs,
    opsPerSec: reqPerSec,
    reqPerSec,
    mbPerSec: 0,
    latency: { p50: 1, p90: 1, p99: 1, max: 1 },
    errors: 0,
    firstErrors: [],
    serverCpuSec: 0,
  };
}

const rate: MetricSpec = {
  id: 'mixed',
  label: 'req/s',
  unit: 'req/s',
  better: 'higher',
  extract: (d) => d.reqPerSec,
  targets: [{ kind: 'ratio-min', value: 1.2, label: '>= 1.2x Distribution' }],
};

const workload: Workload = {
  id: 'mixed',
  title: 'mixed',
  metrics: [rate],
  run: () => Promise.reject(new Error('not run in this test')),
};

function records(pairs: [number | undefined, number | undefined][]): RunRecord[] {
  return pairs.flatMap((pair, i) =>
    (['ours', 'theirs'] as const).flatMap((side, k) => {
      const reqPerSec = pair[k];
      return reqPerSec === undefined
        ? []
        : [{ workload: 'mixed', round: i + 1, side, detail: detail(reqPerSec) }];
    }),
  );
}

/** The `mixed` row built from per-round [Berth, Distribution] req/s (undefined: not run). */
function mixedRow(pairs: [number | undefined, number | undefined][]): Row {
  return buildRow(workload, rate, records(pairs), limits);
}

describe('bench report: ratios', () => {
  it('judges the median of the per-round ratios, not the ratio of medians from different rounds', () => {
    // The machine slowed down round by round; Berth's median is round 2, Distribution's round 3.
    const row = mixedRow([
      [90, 75],
      [60, 50],
      [40, 55],
    ]);
    assert.deepEqual(
      row.pairRatios.map((r) => r.toFixed(3)),
      ['1.200', '1.200', '0.727'],
    );
    assert.equal(row.ratio.toFixed(3), '1.200');
    assert.equal(row.ratioOfMedians.toFixed(3), (60 / 55).toFixed(3));
    assert.equal(row.targets[0].pass, true);
    assert.equal(row.targets[0].measured, '1.20x');
  });

  it('misses when the typical pair misses, even if the medians pass', () => {
    const row = mixedRow([
      [90, 80],
      [60, 55],
      [70, 40],
    ]);
    // Medians 70 / 55 = 1.27x, but two pairs of three are below 1.2x: 1.13x, 1.09x, 1.75x.
    assert.equal(row.ratioOfMedians.toFixed(2), '1.27');
    assert.equal(row.ratio.toFixed(2), '1.13');
    assert.equal(row.targets[0].pass, false);
  });

  it('pairs only rounds that ran both registries, and falls back to the medians with none', () => {
    const some = mixedRow([
      [60, undefined],
      [80, 40],
    ]);
    assert.deepEqual(some.pairRatios, [2]);
    assert.equal(some.ratio, 2);

    const none = mixedRow([
      [60, undefined],
      [undefined, 40],
    ]);
    assert.deepEqual(none.pairRatios, []);
    assert.equal(none.ratio, 1.5);
  });

  it('prints each pair next to the judged ratio', () => {
    const row = mixedRow([
      [60, 50],
      [40, 45],
    ]);
    const table = renderTable([row], limits);
    assert.match(table, /\| 1\.04x \(pairs 1\.20x, 0\.89x\) \|/);
  });

  it('reports a time row below 1 as "faster" from the same paired ratio', () => {
    const walk: MetricSpec = {
      id: 'catalog-walk',
      label: 's',
      unit: 's',
      better: 'lower',
      extract: (d) => d.elapsedMs / 1000,
      targets: [{ kind: 'ratio-max', value: 0.1, label: '>= 10x faster' }],
    };
    const runs: RunRecord[] = [
      { workload: 'walk', round: 1, side: 'ours', detail: detail(1, 20) },
      { workload: 'walk', round: 1, side: 'theirs', detail: detail(1, 400) },
    ];
    const row = buildRow({ ...workload, id: 'walk', metrics: [walk] }, walk, runs, limits);
    assert.equal(row.ratio.toFixed(3), '0.050');
    assert.equal(row.targets[0].measured, '20.0x faster');
    assert.equal(row.targets[0].pass, true);
  });
});
