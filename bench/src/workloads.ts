import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  type FileBlobBase,
  type LayoutInfo,
  type MemoryBlob,
  OCI_MANIFEST,
  type RandomPool,
  type TinyImage,
} from './content';
import { RegistryClient, runCount, runDuration, type RunResult } from './loadgen';
import type { RunningServer } from './servers';
import type { BenchSettings } from './settings';
import { latencyOf, prng, type Latency } from './stats';

export type SideKey = 'ours' | 'theirs';

export interface Side {
  key: SideKey;
  label: string;
  server: RunningServer;
}

/** What one workload run on one registry produced. */
export interface RunDetail {
  ops: number;
  requests: number;
  bytes: number;
  elapsedMs: number;
  opsPerSec: number;
  reqPerSec: number;
  mbPerSec: number;
  latency: Latency;
  errors: number;
  firstErrors: string[];
  /** CPU seconds the server process used during the run (Berth: the node process only). */
  serverCpuSec: number;
  /** Server resident memory right after the run, and its peak so far (VmHWM), MiB. */
  rssAfterMiB?: number;
  peakRssSoFarMiB?: number;
  /** Latency per operation kind, for workloads that mix kinds. */
  byKind?: Record<string, Latency>;
  note?: string;
}

export type LimitKind = 'sha256' | 'diskWrite' | 'diskRead';

export type TargetSpec =
  | { kind: 'ratio-min'; value: number; label: string }
  | { kind: 'ratio-max'; value: number; label: string }
  | { kind: 'limit-min'; limit: LimitKind; value: number; label: string }
  | { kind: 'abs-max'; value: number; label: string };

export interface MetricSpec {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  extract(detail: RunDetail): number;
  limits?: LimitKind[];
  targets?: TargetSpec[];
}

export interface Workload {
  id: string;
  /** A workload whose run (unmeasured when not selected itself) must precede this one. */
  requires?: string;
  title: string;
  metrics: MetricSpec[];
  run(side: Side, round: number): Promise<RunDetail>;
}

/** Content shared by all workloads of a run; per-round sets are prepared before each round. */
export interface BenchContent {
  pool: RandomPool;
  bigBases: FileBlobBase[];
  manifestImage: TinyImage;
  tagsImage: TinyImage;
  mixedPullSet: MemoryBlob[];
  layoutBig?: LayoutInfo;
  layoutMany?: LayoutInfo;
  /** Per round: small blobs and mixed-push blobs (same content for both registries). */
  rounds: Map<number, { small: MemoryBlob[]; mixedPush: MemoryBlob[] }>;
  scratchDir: string;
}

const MB = 1e6;

export function toDetail(result: RunResult, serverCpuSec: number, note?: string): RunDetail {
  const seconds = result.elapsedMs / 1000;
  return {
    ops: result.ops,
    requests: result.requests,
    bytes: result.bytes,
    elapsedMs: result.elapsedMs,
    opsPerSec: result.ops / seconds,
    reqPerSec: result.requests / seconds,
    mbPerSec: result.bytes / MB / seconds,
    latency: result.latency,
    errors: result.errors,
    firstErrors: result.firstErrors,
    serverCpuSec,
    ...(result.byKind && Object.keys(result.byKind).length > 0 ? { byKind: result.byKind } : {}),
    ...(note ? { note } : {}),
  };
}

async function measured(
  side: Side,
  body: () => Promise<RunResult>,
  note?: () => string | undefined,
): Promise<RunDetail> {
  const cpu0 = side.server.cpuSeconds();
  const result = await body();
  const cpu1 = side.server.cpuSeconds();
  return toDetail(result, cpu1 - cpu0, note?.());
}

const mbps = (d: RunDetail): number => d.mbPerSec;
const seconds = (d: RunDetail): number => d.elapsedMs / 1000;

export function defineWorkloads(settings: BenchSettings, content: BenchContent): Workload[] {
  const s = settings;
  const workloads: Workload[] = [];
  const pushTargets: TargetSpec[] = [
    { kind: 'ratio-min', value: 1.2, label: '>= 1.2x Distribution' },
  ];
  const largePushTargets: TargetSpec[] = [
    ...pushTargets,
    { kind: 'limit-min', limit: 'sha256', value: 0.6, label: '>= 60% of 1-core SHA-256' },
  ];

  for (const mode of ['mono', 'chunked'] as const) {
    workloads.push({
      id: `push-large-${mode}`,
      title:
        mode === 'mono'
          ? `push ${s.bigBlobCount} x ${s.bigBlobSize / 2 ** 20} MiB, monolithic (POST+PUT), ${s.bigConcurrency} clients`
          : `push ${s.bigBlobCount} x ${s.bigBlobSize / 2 ** 20} MiB, chunked ${s.chunkSize / 2 ** 20} MiB PATCHes, ${s.bigConcurrency} clients`,
      metrics: [
        {
          id: `push-large-${mode}`,
          label: 'MB/s',
          unit: 'MB/s',
          better: 'higher',
          extract: mbps,
          limits: ['sha256', 'diskWrite'],
          targets: largePushTargets,
        },
      ],
      run: (side, round) => {
        const blobs = content.bigBases.map((base, i) =>
          base.variant(`${round}/${side.key}/${mode}/${i}`),
        );
        const client = new RegistryClient(side.server.origin, s.bigConcurrency);
        return measured(side, async () => {
          try {
            return await runCount(blobs.length, s.bigConcurrency, async (i) => {
              const blob = blobs[i];
              if (mode === 'mono') {
                await client.pushMonolithic('bench/large', blob);
                return { bytes: blob.size, requests: 2 };
              }
              await client.pushChunked('bench/large', blob, s.chunkSize);
              return { bytes: blob.size, requests: 2 + Math.ceil(blob.size / s.chunkSize) };
            });
          } finally {
            await client.close();
          }
        });
      },
    });
  }

  workloads.push({
    id: 'push-small',
    title: `push ${s.smallBlobCount} x 1 MiB blobs (POST+PUT), ${s.smallPushConcurrency} clients`,
    metrics: [
      {
        id: 'push-small',
        label: 'blobs/s',
        unit: 'blobs/s',
        better: 'higher',
        extract: (d) => d.opsPerSec,
        targets: pushTargets,
      },
    ],
    run: (side, round) => pushSmall(side, round, s, content),
  });

  for (const concurrency of s.pullConcurrencies) {
    workloads.push({
      id: `pull-small-c${concurrency}`,
      requires: 'push-small',
      title: `pull the ${s.smallBlobCount} x 1 MiB blobs, ${concurrency} clients`,
      metrics: [
        {
          id: `pull-small-c${concurrency}`,
          label: 'MB/s',
          unit: 'MB/s',
          better: 'higher',
          extract: mbps,
          limits: ['diskRead'],
          targets: pushTargets,
        },
      ],
      run: async (side, round) => {
        const small = content.rounds.get(round)!.small;
        const client = new RegistryClient(side.server.origin, concurrency);
        try {
          return await measured(side, () =>
            runCount(small.length, concurrency, async (i) => ({
              bytes: await client.pullBlob(`bench/small-r${round}`, small[i].digest),
              requests: 1,
            })),
          );
        } finally {
          await client.close();
        }
      },
    });
  }

  for (const method of ['head', 'get'] as const) {
    workloads.push({
      id: `manifest-${method}`,
      title: `${method.toUpperCase()} manifest by tag, ${s.manifestConnections} connections, ${s.manifestDurationMs / 1000} s`,
      metrics: [
        {
          id: `manifest-${method}`,
          label: 'req/s',
          unit: 'req/s',
          better: 'higher',
          extract: (d) => d.reqPerSec,
          targets: [{ kind: 'ratio-min', value: 3, label: '>= 3x Distribution' }],
        },
        {
          id: `manifest-${method}-p99`,
          label: 'p99 ms',
          unit: 'ms',
          better: 'lower',
          extract: (d) => d.latency.p99,
          targets: [{ kind: 'ratio-max', value: 1, label: '<= Distribution' }],
        },
      ],
      run: async (side) => {
        const client = new RegistryClient(side.server.origin, s.manifestConnections);
        try {
          return await measured(side, () =>
            runDuration(s.manifestDurationMs, s.manifestConnections, 5_000_000, async () => {
              if (method === 'head') {
                await client.headManifest('bench/manifest', 'latest');
                return { bytes: 0, requests: 1 };
              }
              return { bytes: await client.getManifest('bench/manifest', 'latest'), requests: 1 };
            }),
          );
        } finally {
          await client.close();
        }
      },
    });
  }

  // The walks the issue sets targets for page at `pageSize`. `tags-walk-whole` asks for the
  // whole list per response (n = the number of tags): Distribution 2.8 ignores `n` on
  // tags/list and always answers in one response, so this is the like-for-like comparison of
  // listing cost (context only; no target).
  const tenTimesFaster: TargetSpec[] = [{ kind: 'ratio-max', value: 0.1, label: '>= 10x faster' }];
  const listingWalks = [
    { id: 'tags-walk', listing: 'tags', n: s.pageSize, targets: tenTimesFaster },
    { id: 'tags-walk-whole', listing: 'tags', n: s.listTags, targets: [] },
    { id: 'catalog-walk', listing: 'catalog', n: s.pageSize, targets: tenTimesFaster },
  ] satisfies { id: string; listing: 'tags' | 'catalog'; n: number; targets: TargetSpec[] }[];
  for (const { id, listing, n, targets } of listingWalks) {
    const total = listing === 'tags' ? s.listTags : s.listRepos;
    workloads.push({
      id,
      title:
        listing === 'tags'
          ? `walk tags/list of ${total} tags, n=${n}, following Link (median of ${s.walkRepeat} walks)`
          : `walk _catalog of ${total}+ repositories, n=${n}, following Link (median of ${s.walkRepeat} walks)`,
      metrics: [
        {
          id,
          label: 'walk s',
          unit: 's',
          better: 'lower',
          extract: seconds,
          targets,
        },
      ],
      run: async (side) => {
        const client = new RegistryClient(side.server.origin, 1);
        try {
          // Each run walks the whole listing `walkRepeat` times; the metric is the median walk.
          const walks: number[] = [];
          let pages = 0;
          let items = 0;
          const cpu0 = side.server.cpuSeconds();
          const started = performance.now();
          for (let i = 0; i < s.walkRepeat; i++) {
            const t0 = performance.now();
            const walked = await client.walk(
              listing === 'tags' ? `/v2/bench/tags/tags/list?n=${n}` : `/v2/_catalog?n=${n}`,
              listing === 'tags' ? 'tags' : 'repositories',
              Math.ceil(total / n) * 2 + 50,
            );
            walks.push(performance.now() - t0);
            pages = walked.pages;
            items = walked.items;
          }
          const cpu1 = side.server.cpuSeconds();
          const ok = items >= total;
          const detail = toDetail(
            {
              ops: walks.length,
              requests: pages * walks.length,
              bytes: 0,
              elapsedMs: performance.now() - started,
              latency: latencyOf(walks),
              errors: ok ? 0 : 1,
              firstErrors: ok ? [] : [`walk returned ${items} items, expected >= ${total}`],
            },
            cpu1 - cpu0,
            `${pages} pages per walk`,
          );
          return { ...detail, elapsedMs: detail.latency.p50 };
        } finally {
          await client.close();
        }
      },
    });
  }

  workloads.push({
    id: 'mixed',
    title: `mixed 75% pulls (GET) / 25% pushes (POST+PUT) of 10 MiB blobs, ${s.mixedClients} clients, ${s.mixedDurationMs / 1000} s`,
    metrics: [
      {
        id: 'mixed',
        label: 'req/s',
        unit: 'req/s',
        better: 'higher',
        extract: (d) => d.reqPerSec,
        targets: pushTargets,
      },
    ],
    run: async (side, round) => {
      const pushes = content.rounds.get(round)!.mixedPush;
      const pulls = content.mixedPullSet;
      const maxOps = 20_000;
      // The same decision sequence for both registries: op i is a pull or the k-th push.
      const random = prng(0xbe7 + round);
      const plan: { pull: boolean; index: number }[] = [];
      let pushIndex = 0;
      for (let i = 0; i < maxOps; i++) {
        if (random() < s.mixedPullFraction) {
          plan.push({ pull: true, index: Math.floor(random() * pulls.length) });
        } else plan.push({ pull: false, index: pushIndex++ });
      }
      let reused = 0;
      const client = new RegistryClient(side.server.origin, s.mixedClients);
      try {
        return await measured(
          side,
          () =>
            runDuration(s.mixedDurationMs, s.mixedClients, maxOps, async (i) => {
              const step = plan[i];
              if (step.pull) {
                const blob = pulls[step.index];
                const bytes = await client.pullBlob('bench/mixed', blob.digest);
                return { bytes, requests: 1, kind: 'pull' };
              }
              if (step.index >= pushes.length) reused++;
              const blob = pushes[step.index % pushes.length];
              await client.pushMonolithic('bench/mixed', blob);
              return { bytes: blob.size, requests: 2, kind: 'push' };
            }),
          () =>
            reused > 0
              ? `${reused} pushes re-sent known content (raise mixedPushBudget)`
              : undefined,
        );
      } finally {
        await client.close();
      }
    },
  });

  const skopeoCases: { id: string; layout: () => LayoutInfo | undefined; repo: string }[] = [
    { id: 'big', layout: () => content.layoutBig, repo: 'skopeo/big' },
    { id: 'many', layout: () => content.layoutMany, repo: 'skopeo/many' },
  ];
  for (const c of skopeoCases) {
    for (const direction of ['push', 'pull'] as const) {
      const describe =
        c.id === 'big'
          ? `${s.skopeoBigLayers}-layer ${(s.skopeoBigLayers * s.skopeoBigLayerSize) / 2 ** 30} GiB image`
          : `${s.skopeoManyLayers}-layer image (${s.skopeoManyLayerSize / 1024} KiB layers)`;
      workloads.push({
        id: `skopeo-${direction}-${c.id}`,
        ...(direction === 'pull' ? { requires: `skopeo-push-${c.id}` } : {}),
        title: `skopeo copy ${direction} of a ${describe}`,
        metrics: [
          {
            id: `skopeo-${direction}-${c.id}`,
            label: 'time s',
            unit: 's',
            better: 'lower',
            extract: seconds,
          },
        ],
        run: async (side, round) => {
          const layout = c.layout();
          if (!layout) throw new Error('OCI layout not generated');
          const host = new URL(side.server.origin).host;
          const ref = `docker://${host}/${c.repo}:latest`;
          const pulledDir = join(content.scratchDir, `pulled-${c.id}-${round}-${side.key}`);
          const args =
            direction === 'push'
              ? [
                  'copy',
                  '--quiet',
                  '--dest-tls-verify=false',
                  `oci:${layout.dir}:${layout.tag}`,
                  ref,
                ]
              : ['copy', '--quiet', '--src-tls-verify=false', ref, `oci:${pulledDir}:latest`];
          // A push must find nothing to skip: drop what an earlier round pushed (unmeasured).
          if (direction === 'push') await deleteImage(side, c.repo, layout);
          const cpu0 = side.server.cpuSeconds();
          const t0 = performance.now();
          await runCommand('skopeo', args, 600_000);
          const elapsedMs = performance.now() - t0;
          const cpu1 = side.server.cpuSeconds();
          if (direction === 'pull') await rm(pulledDir, { recursive: true, force: true });
          return toDetail(
            {
              ops: 1,
              requests: layout.blobs.length + 1,
              bytes: layout.totalBytes,
              elapsedMs,
              latency: latencyOf([elapsedMs]),
              errors: 0,
              firstErrors: [],
            },
            cpu1 - cpu0,
          );
        },
      });
    }
  }

  return workloads;
}

async function pushSmall(
  side: Side,
  round: number,
  s: BenchSettings,
  content: BenchContent,
): Promise<RunDetail> {
  const small = content.rounds.get(round)!.small;
  const client = new RegistryClient(side.server.origin, s.smallPushConcurrency);
  try {
    return await measured(side, () =>
      runCount(small.length, s.smallPushConcurrency, async (i) => {
        const blob = small[i];
        await client.pushMonolithic(`bench/small-r${round}`, blob);
        return { bytes: blob.size, requests: 2 };
      }),
    );
  } finally {
    await client.close();
  }
}

async function deleteImage(side: Side, repo: string, layout: LayoutInfo): Promise<void> {
  const client = new RegistryClient(side.server.origin, 8);
  try {
    await client.deleteManifest(repo, layout.manifestDigest);
    await runCount(layout.blobs.length, 8, async (i) => {
      await client.deleteBlob(repo, layout.blobs[i].digest);
      return { bytes: 0, requests: 1 };
    });
  } finally {
    await client.close();
  }
}

export function runCommand(command: string, args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${code ?? signal}): ${stderr}`));
    });
  });
}

// --- seeding (not measured) ---------------------------------------------------------------

export type SeedPart = 'manifest' | 'tags' | 'repos' | 'mixed';

export async function seed(
  side: Side,
  s: BenchSettings,
  content: BenchContent,
  parts: ReadonlySet<SeedPart>,
  log: (line: string) => void,
): Promise<Record<string, number>> {
  const client = new RegistryClient(side.server.origin, s.seedConcurrency);
  const times: Record<string, number> = {};
  const step = async (name: string, fn: () => Promise<RunResult | void>): Promise<void> => {
    const t0 = performance.now();
    const result = await fn();
    times[name] = (performance.now() - t0) / 1000;
    if (result && result.errors > 0) {
      throw new Error(`seeding ${name} on ${side.label}: ${result.firstErrors.join('; ')}`);
    }
    log(`  seeded ${name} on ${side.label} in ${times[name].toFixed(1)} s`);
  };
  try {
    const pushImage = async (repo: string, image: TinyImage, tag: string): Promise<void> => {
      await client.pushMonolithic(repo, image.config);
      await client.pushMonolithic(repo, image.layer);
      await client.putManifest(repo, tag, image.manifest, OCI_MANIFEST);
    };
    if (parts.has('manifest'))
      await step('manifest', () => pushImage('bench/manifest', content.manifestImage, 'latest'));
    if (parts.has('tags') || parts.has('repos')) {
      await pushImage('bench/tags', content.tagsImage, 'base');
    }
    if (parts.has('tags'))
      await step(`tags (${s.listTags})`, async () => {
        return runCount(s.listTags, s.seedConcurrency, async (i) => {
          await client.putManifest(
            'bench/tags',
            `t${String(i).padStart(5, '0')}`,
            content.tagsImage.manifest,
            OCI_MANIFEST,
          );
          return { bytes: 0, requests: 1 };
        });
      });
    if (parts.has('repos'))
      await step(`repositories (${s.listRepos})`, () =>
        runCount(s.listRepos, s.seedConcurrency, async (i) => {
          const repo = `catalog/r${String(i).padStart(5, '0')}`;
          const image = content.tagsImage;
          await client.mountBlob(repo, image.config.digest, 'bench/tags');
          await client.mountBlob(repo, image.layer.digest, 'bench/tags');
          await client.putManifest(repo, 'latest', image.manifest, OCI_MANIFEST);
          return { bytes: 0, requests: 3 };
        }),
      );
    if (parts.has('mixed'))
      await step(`mixed pull set (${content.mixedPullSet.length} x 10 MiB)`, () =>
        runCount(content.mixedPullSet.length, 4, async (i) => {
          const blob = content.mixedPullSet[i];
          await client.pushMonolithic('bench/mixed', blob);
          return { bytes: blob.size, requests: 2 };
        }),
      );
  } finally {
    await client.close();
  }
  return times;
}
