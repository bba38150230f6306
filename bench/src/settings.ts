import { tmpdir } from 'node:os';

const MiB = 1024 * 1024;
const KiB = 1024;

/** Every knob of a benchmark run, read once from the environment. */
export interface BenchSettings {
  quick: boolean;
  rounds: number;
  /** Workload names to run (BENCH_ONLY, comma separated); undefined = all. */
  only?: Set<string>;
  /** BENCH_PROFILE=<dir>: run only Berth, each selected workload under `node --cpu-prof`. */
  profileDir?: string;
  /** Parent of the run's temporary directory (BENCH_TMPDIR, default the OS temp dir). */
  tmpRoot: string;
  keepTmp: boolean;

  bigBlobCount: number;
  bigBlobSize: number;
  chunkSize: number;
  bigConcurrency: number;

  smallBlobCount: number;
  smallBlobSize: number;
  smallPushConcurrency: number;
  pullConcurrencies: number[];

  manifestConnections: number;
  manifestDurationMs: number;

  listTags: number;
  listRepos: number;
  pageSize: number;
  /** Walks per run of tags-walk / catalog-walk (BENCH_WALK_REPEAT); the median is reported. */
  walkRepeat: number;
  seedConcurrency: number;

  mixedBlobSize: number;
  mixedClients: number;
  mixedDurationMs: number;
  mixedPullFraction: number;
  mixedPullSetSize: number;
  mixedPushBudget: number;

  skopeoBigLayers: number;
  skopeoBigLayerSize: number;
  skopeoManyLayers: number;
  skopeoManyLayerSize: number;

  startupRuns: number;
  ddBytes: number;
}

function int(env: NodeJS.ProcessEnv, key: string, fallback: number, min = 1): number {
  const raw = env[key];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${key}=${raw} must be a whole number >= ${min}`);
  }
  return value;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const quick = env.BENCH_QUICK === '1' || env.BENCH_QUICK === 'true';
  const only = env.BENCH_ONLY?.trim()
    ? new Set(
        env.BENCH_ONLY.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
    : undefined;
  const seconds = (key: string, full: number, small: number): number =>
    int(env, key, quick ? small : full) * 1000;
  return {
    quick,
    rounds: int(env, 'BENCH_ROUNDS', quick ? 2 : 3),
    only,
    profileDir: env.BENCH_PROFILE?.trim() || undefined,
    tmpRoot: env.BENCH_TMPDIR?.trim() || tmpdir(),
    keepTmp: env.BENCH_KEEP_TMP === '1',

    bigBlobCount: 4,
    bigBlobSize: quick ? 32 * MiB : 256 * MiB,
    chunkSize: quick ? 8 * MiB : 16 * MiB,
    bigConcurrency: 4,

    smallBlobCount: quick ? 200 : 1000,
    smallBlobSize: MiB,
    smallPushConcurrency: 16,
    pullConcurrencies: [4, 16],

    manifestConnections: 32,
    manifestDurationMs: seconds('BENCH_MANIFEST_SECONDS', 5, 2),

    listTags: quick ? 1000 : 10_000,
    listRepos: quick ? 1000 : 10_000,
    pageSize: quick ? 100 : 1000,
    walkRepeat: int(env, 'BENCH_WALK_REPEAT', 3),
    seedConcurrency: 16,

    mixedBlobSize: 10 * MiB,
    mixedClients: int(env, 'BENCH_MIXED_CLIENTS', 16),
    mixedDurationMs: seconds('BENCH_MIXED_SECONDS', 6, 3),
    mixedPullFraction: 0.75,
    mixedPullSetSize: quick ? 8 : 32,
    mixedPushBudget: quick ? 64 : 192,

    skopeoBigLayers: 4,
    skopeoBigLayerSize: quick ? 16 * MiB : 256 * MiB,
    skopeoManyLayers: 200,
    skopeoManyLayerSize: quick ? 16 * KiB : 256 * KiB,

    startupRuns: quick ? 1 : 3,
    ddBytes: quick ? 256 * MiB : 1024 * MiB,
  };
}

export const UNITS = { KiB, MiB, GiB: 1024 * MiB };
