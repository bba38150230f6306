import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FileBlobBase, RandomPool, tinyImage, writeOciLayout } from './content';
import { summariseProfile } from './cpuprofile-summary';
import {
  cpuPressure,
  describeMachine,
  measureDisk,
  measureSha256,
  type MachineLimits,
} from './machine';
import {
  buildRow,
  renderDetails,
  renderMachine,
  renderTable,
  renderTargets,
  evaluateTarget,
  type Row,
  type RunRecord,
} from './report';
import {
  BenchPostgres,
  REPO_ROOT,
  freePort,
  readMemory,
  startDistribution,
  buildRevision,
  snapshotBuild,
  startOurs,
  versionOf,
  type RunningServer,
} from './servers';
import { loadSettings, type BenchSettings } from './settings';
import { spread } from './stats';
import {
  defineWorkloads,
  seed,
  type BenchContent,
  type RunDetail,
  type SeedPart,
  type Side,
} from './workloads';

const t0 = performance.now();
const elapsed = (): string => `${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s`;
const log = (line: string): void => {
  process.stdout.write(`[bench ${elapsed()}] ${line}\n`);
};

/** The run's temporary directory (its server logs are kept when the run fails). */
let workDir: string | undefined;

function keepLogs(): void {
  if (!workDir || !existsSync(workDir)) return;
  const dest = join(REPO_ROOT, 'bench', 'results', 'last-failure');
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  for (const file of readdirSync(workDir).filter((f) => f.endsWith('.log'))) {
    cpSync(join(workDir, file), join(dest, file));
  }
  log(`server logs kept in ${dest}`);
}

/** Everything to stop and remove, whatever happens. */
const cleanups: (() => Promise<void> | void)[] = [];
let cleaningUp: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log(`cleanup: ${String(err)}`);
      }
    }
  })();
  return cleaningUp;
}

function isSelected(settings: BenchSettings, id: string): boolean {
  if (!settings.only) return true;
  for (const o of settings.only) if (id === o || id.startsWith(`${o}-`)) return true;
  return false;
}

function syncDisks(): void {
  spawnSync('sync', [], { timeout: 120_000 });
}

/** Builds the data plane (incremental); a failed build falls back to the existing one. */
function buildRegistry(): string {
  const tsc = join(REPO_ROOT, 'node_modules', '.bin', 'tsc');
  const result = spawnSync(tsc, ['-b', 'tsconfig.build.json'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 600_000,
  });
  const git = (args: string[]): string =>
    spawnSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).stdout.trim();
  const revision = `${git(['rev-parse', '--short', 'HEAD'])}${git(['status', '--porcelain', '--', 'apps', 'libs']) ? ' + uncommitted changes in apps/libs' : ''}`;
  if (result.status === 0) return `built from ${revision}`;
  const cli = join(REPO_ROOT, 'apps', 'registry', 'dist', 'cli.js');
  if (process.env.BENCH_REQUIRE_BUILD === '1' || !existsSync(cli)) {
    throw new Error(`build failed:\n${result.stdout}${result.stderr}`);
  }
  log(`WARNING: build failed, benchmarking the existing apps/registry/dist:\n${result.stdout}`);
  return `build of ${revision} FAILED; existing dist/ used`;
}

async function main(): Promise<void> {
  const settings = loadSettings();
  const refName = process.env.BENCH_REF?.trim();
  const ref = refName
    ? spawnSync('git', ['rev-parse', '--short', `${refName}^{commit}`], {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      }).stdout.trim() || refName
    : undefined;
  const build = process.env.BENCH_ROOT?.trim()
    ? `prebuilt tree ${process.env.BENCH_ROOT.trim()} (BENCH_ROOT)`
    : ref
      ? `commit ${ref} (BENCH_REF=${refName}: git archive, built in the work dir)`
      : buildRegistry();
  log(build);
  const profiling = settings.profileDir !== undefined;
  const timeoutMin = Number(process.env.BENCH_TIMEOUT_MINUTES ?? (settings.quick ? 15 : 45));
  const guard = setTimeout(() => {
    log(`overall time limit of ${timeoutMin} min reached: stopping`);
    void cleanup().finally(() => process.exit(3));
  }, timeoutMin * 60_000);
  guard.unref();

  const work = mkdtempSync(join(settings.tmpRoot, 'berth-bench-'));
  workDir = work;
  // PostgreSQL runs as the `postgres` user when we are root: it must traverse this directory.
  chmodSync(work, 0o755);
  cleanups.push(() => {
    if (!settings.keepTmp) rmSync(work, { recursive: true, force: true });
  });
  log(
    `work dir ${work}; ${settings.quick ? 'QUICK mode, ' : ''}${settings.rounds} round(s)${settings.only ? `; only ${[...settings.only].join(',')}` : ''}${profiling ? `; profiling Berth into ${settings.profileDir}` : ''}`,
  );

  // One build for the whole run, even if the working tree is rebuilt meanwhile.
  let snapshot: string;
  const prebuilt = process.env.BENCH_ROOT?.trim();
  if (prebuilt) {
    // A tree that is already built (bin/berth.js + dist/ + node_modules), used as it is.
    snapshot = prebuilt;
  } else if (ref) {
    snapshot = buildRevision(ref, join(work, 'snapshot'));
    log(`built ${ref} in ${snapshot}`);
  } else if (process.env.BENCH_SNAPSHOT === '0') {
    snapshot = REPO_ROOT;
  } else {
    snapshot = snapshotBuild(join(work, 'snapshot'));
  }

  // --- machine and its limits ---
  const machine = describeMachine(work);
  log(
    `machine: ${machine.cpuModel}, ${machine.nproc} cores, ${machine.memoryGiB} GiB, load ${machine.loadAverageAtStart.join(' ')}`,
  );
  const sha = measureSha256();
  const disk = measureDisk(work, settings.ddBytes);
  const limits: MachineLimits = {
    sha256BytesPerSec: sha,
    diskWriteBytesPerSec: disk.write,
    diskReadBytesPerSec: disk.read,
  };
  log(
    `limits: SHA-256 ${(sha / 1e6).toFixed(0)} MB/s (1 core); dd write ${(disk.write / 1e6).toFixed(0)} MB/s (fdatasync), read ${(disk.read / 1e6).toFixed(0)} MB/s (page cache)`,
  );
  const versions = {
    distribution: versionOf('docker-registry', ['--version']),
    skopeo: versionOf('skopeo', ['--version']),
    postgres: versionOf('/usr/lib/postgresql/15/bin/postgres', ['--version']),
    openssl: versionOf('openssl', ['version']),
  };

  // --- workloads and content ---
  const contentDir = join(work, 'content');
  const scratchDir = join(work, 'scratch');
  mkdirSync(contentDir, { recursive: true });
  mkdirSync(scratchDir, { recursive: true });
  const pool = new RandomPool(64 * 1024 * 1024);
  const content: BenchContent = {
    pool,
    bigBases: [],
    manifestImage: tinyImage('manifest'),
    tagsImage: tinyImage('tags'),
    mixedPullSet: [],
    rounds: new Map(),
    scratchDir,
  };
  const workloads = defineWorkloads(settings, content).filter((w) => isSelected(settings, w.id));
  const byId = new Map(defineWorkloads(settings, content).map((w) => [w.id, w]));
  const wants = (prefix: string): boolean => workloads.some((w) => w.id.startsWith(prefix));
  const genStart = performance.now();
  if (wants('push-large')) {
    for (let i = 0; i < settings.bigBlobCount; i++) {
      content.bigBases.push(
        await FileBlobBase.generate(join(contentDir, `big-${i}.bin`), settings.bigBlobSize),
      );
    }
  }
  if (wants('mixed'))
    content.mixedPullSet = pool.take(settings.mixedPullSetSize, settings.mixedBlobSize);
  if (wants('skopeo-push-big') || wants('skopeo-pull-big')) {
    content.layoutBig = await writeOciLayout(
      join(contentDir, 'layout-big'),
      settings.skopeoBigLayers,
      settings.skopeoBigLayerSize,
    );
  }
  if (wants('skopeo-push-many') || wants('skopeo-pull-many')) {
    content.layoutMany = await writeOciLayout(
      join(contentDir, 'layout-many'),
      settings.skopeoManyLayers,
      settings.skopeoManyLayerSize,
    );
  }
  log(`content generated in ${((performance.now() - genStart) / 1000).toFixed(1)} s`);

  // --- servers ---
  const pg = await BenchPostgres.start(join(work, 'services'));
  cleanups.push(() => pg.stop());
  log(`PostgreSQL on 127.0.0.1:${pg.port} (fresh database)`);
  const oursDir = join(work, 'berth');
  const oursPort = await freePort();
  const oursLog = join(work, 'berth.log');
  const startOursServer = (nodeArgs: string[] = []): Promise<RunningServer> =>
    startOurs({
      dataDir: oursDir,
      port: oursPort,
      databaseUrl: pg.url,
      logFile: oursLog,
      nodeArgs,
      root: snapshot,
    });
  let ours = await startOursServer();
  const oursFirstReadyMs = ours.readyMs;
  const stopOursOnExit = async (): Promise<void> => {
    await ours.stop();
  };
  cleanups.push(stopOursOnExit);
  log(`Berth on ${ours.origin} (pid ${ours.pid}), ready in ${ours.readyMs.toFixed(0)} ms`);
  const sides: Side[] = [{ key: 'ours', label: 'Berth', server: ours }];
  let theirs: RunningServer | undefined;
  const rssOf = (server: RunningServer): string => {
    const m = readMemory(server.pid);
    return m ? `RSS ${Math.round(m.rssKiB / 1024)} MiB (peak ${Math.round(m.hwmKiB / 1024)})` : '';
  };
  await new Promise((r) => setTimeout(r, 1000));
  log(`Berth idle after start: ${rssOf(ours)}`);
  if (!profiling && process.env.BENCH_BERTH_ONLY !== '1') {
    theirs = await startDistribution({
      dir: join(work, 'distribution'),
      port: await freePort(),
      logFile: join(work, 'distribution.log'),
    });
    const t = theirs;
    cleanups.push(() => t.stop());
    log(
      `Distribution on ${theirs.origin} (pid ${theirs.pid}), ready in ${theirs.readyMs.toFixed(0)} ms`,
    );
    sides.push({ key: 'theirs', label: 'Distribution', server: theirs });
  }

  // --- seeding (not measured) ---
  const parts = new Set<SeedPart>();
  if (wants('manifest')) parts.add('manifest');
  if (wants('tags-walk')) parts.add('tags');
  if (wants('catalog-walk')) parts.add('repos');
  if (wants('mixed')) parts.add('mixed');
  const seeding: Record<string, Record<string, number>> = {};
  for (const side of sides) {
    seeding[side.key] = await seed(side, settings, content, parts, log);
    log(`${side.label} after seeding: ${rssOf(side.server)}`);
  }

  // --- rounds ---
  const runs: RunRecord[] = [];
  const profiles: Record<string, string> = {};
  for (let round = 1; round <= settings.rounds; round++) {
    const prepStart = performance.now();
    content.rounds.set(round, {
      small:
        wants('push-small') || wants('pull-small')
          ? pool.take(settings.smallBlobCount, settings.smallBlobSize)
          : [],
      mixedPush: wants('mixed') ? pool.take(settings.mixedPushBudget, settings.mixedBlobSize) : [],
    });
    log(
      `round ${round}/${settings.rounds}: content hashed in ${((performance.now() - prepStart) / 1000).toFixed(1)} s`,
    );
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    for (const workload of workloads) {
      for (const side of order) {
        if (workload.requires && !workloads.some((w) => w.id === workload.requires)) {
          // Its prerequisite is not selected: run that unmeasured first.
          await byId.get(workload.requires)?.run(side, round);
        }
        if (profiling) {
          await ours.stop();
          const dir = join(settings.profileDir!, workload.id);
          mkdirSync(dir, { recursive: true });
          ours = await startOursServer([`--cpu-prof`, `--cpu-prof-dir=${dir}`]);
          side.server = ours;
        }
        syncDisks();
        const runFrom = performance.now();
        let detail: RunDetail;
        try {
          detail = await workload.run(side, round);
        } catch (err) {
          // One failed run (e.g. a skopeo error) is recorded, not fatal to the whole suite.
          detail = failedDetail(err);
        }
        const runTo = performance.now();
        const memory = readMemory(side.server.pid);
        if (memory) {
          detail.rssAfterMiB = Math.round(memory.rssKiB / 1024);
          detail.peakRssSoFarMiB = Math.round(memory.hwmKiB / 1024);
        }
        runs.push({ workload: workload.id, round, side: side.key, detail });
        const primary = workload.metrics[0];
        log(
          `round ${round} ${workload.id.padEnd(18)} ${side.label.padEnd(12)} ${primary.extract(detail).toFixed(2)} ${primary.unit}` +
            ` (p50 ${detail.latency.p50.toFixed(1)} ms, p99 ${detail.latency.p99.toFixed(1)} ms, CPU ${detail.serverCpuSec.toFixed(1)} s, RSS ${detail.rssAfterMiB ?? '?'}/${detail.peakRssSoFarMiB ?? '?'} MiB${detail.errors ? `, ${detail.errors} ERRORS: ${detail.firstErrors[0]}` : ''})`,
        );
        if (profiling) {
          await ours.stop();
          const dir = join(settings.profileDir!, workload.id);
          const file = readdirSync(dir)
            .filter((f) => f.endsWith('.cpuprofile'))
            .sort()
            .pop();
          if (file) {
            const summary = summariseProfile(join(dir, file), 25, {
              fromMs: runFrom - ours.spawnedAt,
              toMs: runTo - ours.spawnedAt,
            });
            writeFileSync(join(dir, 'summary.txt'), summary);
            profiles[workload.id] = join(dir, file);
            log(`profile of ${workload.id}: ${join(dir, file)}\n${summary}`);
          }
          ours = await startOursServer();
          side.server = ours;
        }
      }
    }
  }

  // --- memory and start-up ---
  const extraRows: Row[] = [];
  const notes: string[] = [];
  const startup: Record<string, number[]> = {};
  if (!profiling && theirs && isSelected(settings, 'startup')) {
    const oursPeakMiB = (await stopAndPeak(ours)) / 1024;
    const theirsPeakMiB = (await stopAndPeak(theirs)) / 1024;
    extraRows.push(
      fixedRow(
        'peak-rss',
        'peak RSS over the run',
        'MiB',
        'lower',
        [oursPeakMiB],
        [theirsPeakMiB],
        [{ kind: 'abs-max', value: 200, label: 'Berth <= 200 MiB' }],
        limits,
      ),
    );
    notes.push(
      'Peak RSS is VmHWM of the server process; for Berth the node process only (PostgreSQL runs in its own processes and is not counted).',
    );
    log(
      `peak RSS: Berth ${oursPeakMiB.toFixed(0)} MiB, Distribution ${theirsPeakMiB.toFixed(0)} MiB`,
    );

    try {
      // Berth with the external PostgreSQL, second start (schema already migrated).
      startup.oursExternalFirst = [oursFirstReadyMs / 1000];
      startup.oursExternalRestart = [];
      for (let i = 0; i < settings.startupRuns; i++) {
        ours = await retryOnce(() => startOursServer(), notes);
        startup.oursExternalRestart.push(ours.readyMs / 1000);
        await ours.stop();
      }
      // Berth with embedded defaults (no DATABASE_URL): first start initialises, then restarts.
      const embeddedDir = join(work, 'berth-embedded');
      const startEmbedded = (): Promise<RunningServer> =>
        startOurs({
          dataDir: embeddedDir,
          port: oursPort,
          logFile: join(work, 'berth-embedded.log'),
          readyTimeoutMs: 240_000,
        });
      ours = await retryOnce(() => startEmbedded(), notes);
      startup.oursEmbeddedFirst = [ours.readyMs / 1000];
      await ours.stop();
      startup.oursEmbeddedRestart = [];
      for (let i = 0; i < settings.startupRuns; i++) {
        ours = await retryOnce(() => startEmbedded(), notes);
        startup.oursEmbeddedRestart.push(ours.readyMs / 1000);
        await ours.stop();
      }
      startup.theirsFirst = [theirs.readyMs / 1000];
      startup.theirsRestart = [];
      for (let i = 0; i < settings.startupRuns; i++) {
        const again = await startDistribution({
          dir: join(work, 'distribution'),
          port: await freePort(),
          logFile: join(work, 'distribution.log'),
        });
        startup.theirsRestart.push(again.readyMs / 1000);
        await again.stop();
      }
      extraRows.push(
        fixedRow(
          'startup',
          'start-up to ready, embedded PostgreSQL, initialised data dir',
          's',
          'lower',
          startup.oursEmbeddedRestart,
          startup.theirsRestart,
          [{ kind: 'abs-max', value: 3, label: 'Berth < 3 s' }],
          limits,
        ),
        fixedRow(
          'startup-external',
          'start-up to ready, external PostgreSQL, migrated database',
          's',
          'lower',
          startup.oursExternalRestart,
          startup.theirsRestart,
          [{ kind: 'abs-max', value: 3, label: 'Berth < 3 s' }],
          limits,
        ),
      );
      notes.push(
        `Berth first starts: external PostgreSQL with a fresh database (runs migrations) ${startup.oursExternalFirst[0].toFixed(2)} s; embedded PostgreSQL on an empty data dir (initdb) ${startup.oursEmbeddedFirst[0].toFixed(2)} s. Start-up is spawn to the first 200 from /readyz (Distribution: /v2/).`,
      );
      log(
        `start-up: embedded restart ${startup.oursEmbeddedRestart.map((v) => v.toFixed(2)).join(', ')} s; external restart ${startup.oursExternalRestart.map((v) => v.toFixed(2)).join(', ')} s; Distribution ${startup.theirsRestart.map((v) => v.toFixed(2)).join(', ')} s`,
      );
    } catch (err) {
      // A start-up that fails (e.g. the working tree was rebuilt mid-run) must not lose the run.
      notes.push(`start-up measurement failed: ${String(err).slice(0, 2000)}`);
      log(`start-up measurement FAILED: ${String(err)}`);
    }
  }

  await cleanup();
  clearTimeout(guard);

  // --- report ---
  const rows: Row[] = [];
  for (const w of workloads) for (const m of w.metrics) rows.push(buildRow(w, m, runs, limits));
  rows.push(...extraRows);
  const durationSec = (performance.now() - t0) / 1000;
  const loadEnd = loadavg().map((v) => Math.round(v * 100) / 100);
  const table = renderTable(rows, limits);
  const details = renderDetails(runs, workloads);
  const targets = renderTargets(rows);
  const machineText = renderMachine(machine, limits, [
    `Load average at end: ${loadEnd.join(', ')}; CPU pressure (PSI some avg60) ${cpuPressure() ?? 'n/a'}% (other work on the machine competes with both registries)`,
    `Berth: ${build}`,
    `Versions: ${versions.distribution}; ${versions.skopeo}; ${versions.postgres}; ${versions.openssl}`,
    `Settings: ${settings.quick ? 'BENCH_QUICK=1, ' : ''}${settings.rounds} round(s), A/B order alternating per round; MB = 10^6 bytes`,
    `Total run time: ${(durationSec / 60).toFixed(1)} min`,
  ]);
  const rowNotes = rows.flatMap((r) => r.notes.map((n) => `${r.id}: ${n}`));
  const markdown = [
    `# Berth vs Distribution benchmark (${new Date().toISOString()})`,
    '',
    machineText,
    '',
    table,
    '',
    '## Workloads',
    '',
    ...workloads.map((w) => `- ${w.id}: ${w.title}`),
    '- peak-rss: peak resident memory (VmHWM) of each server process over the whole run',
    '- startup / startup-external: spawn to first 200 from /readyz on an initialised data dir',
    '',
    '## Targets',
    '',
    targets,
    '',
    '## Details (medians over rounds)',
    '',
    details,
    '',
    ...(notes.length + rowNotes.length
      ? ['## Notes', '', ...[...notes, ...rowNotes].map((n) => `- ${n}`), '']
      : []),
  ].join('\n');
  process.stdout.write(`\n${markdown}\n`);

  const outName =
    process.env.BENCH_OUT ??
    (profiling
      ? 'profile'
      : settings.only
        ? 'latest-partial'
        : settings.quick
          ? 'latest-quick'
          : 'latest');
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = {
    startedAt: new Date(Date.now() - durationSec * 1000).toISOString(),
    durationSec,
    settings: { ...settings, only: settings.only ? [...settings.only] : undefined },
    machine: { ...machine, loadAverageAtEnd: loadEnd },
    limits,
    versions,
    build,
    seedingSec: seeding,
    rows,
    startup,
    runs,
    profiles,
    notes,
  };
  const jsonFile = join(resultsDir, `${outName}.json`);
  writeFileSync(jsonFile, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(join(resultsDir, `${outName}.md`), `${markdown}\n`);
  spawnSync(join(REPO_ROOT, 'node_modules', '.bin', 'prettier'), ['--write', jsonFile], {
    stdio: 'ignore',
    timeout: 60_000,
  });
  log(`wrote ${jsonFile} and ${outName}.md in ${(durationSec / 60).toFixed(1)} min`);
}

/** Start-up measurements tolerate one failed start (recorded in the notes). */
async function retryOnce(
  start: () => Promise<RunningServer>,
  notes: string[],
): Promise<RunningServer> {
  try {
    return await start();
  } catch (err) {
    notes.push(`a start failed and was retried: ${String(err).slice(0, 500)}`);
    log(`start failed, retrying once: ${String(err)}`);
    await new Promise((r) => setTimeout(r, 2000));
    return start();
  }
}

function failedDetail(err: unknown): RunDetail {
  return {
    ops: 0,
    requests: 0,
    bytes: 0,
    elapsedMs: NaN,
    opsPerSec: NaN,
    reqPerSec: NaN,
    mbPerSec: NaN,
    latency: { p50: NaN, p90: NaN, p99: NaN, max: NaN },
    errors: 1,
    firstErrors: [err instanceof Error ? err.message.slice(0, 1000) : String(err)],
    serverCpuSec: NaN,
  };
}

async function stopAndPeak(server: RunningServer): Promise<number> {
  await server.stop();
  return server.peakRssKiB;
}

function fixedRow(
  id: string,
  title: string,
  unit: string,
  better: 'higher' | 'lower',
  ours: number[],
  theirs: number[],
  targets: Parameters<typeof evaluateTarget>[0][],
  limits: MachineLimits,
): Row {
  const o = spread(ours);
  const t = spread(theirs);
  // One value per registry for the whole run (peak RSS, start-up): no pairs.
  const ratio = o.median / t.median;
  return {
    id,
    workload: id,
    title,
    metric: unit,
    unit,
    better,
    ours: o,
    theirs: t,
    ratio,
    pairRatios: [],
    ratioOfMedians: ratio,
    limitFractions: [],
    targets: targets.map((target) => evaluateTarget(target, o.median, ratio, limits)),
    notes: [],
  };
}

process.once('SIGINT', () => {
  log('interrupted: cleaning up');
  void cleanup().finally(() => process.exit(130));
});
process.once('SIGTERM', () => {
  void cleanup().finally(() => process.exit(143));
});

main().catch(async (err: unknown) => {
  log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  keepLogs();
  await cleanup();
  process.exit(1);
});
