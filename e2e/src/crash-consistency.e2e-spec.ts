/**
 * Crash consistency: concurrent pushes (blobs by every upload method, cross-repository mounts,
 * image manifests, indexes, tags) while the registry is SIGKILLed at random moments, several
 * rounds. After every restart:
 *   - every tag listed by tags/list, for every repository in _catalog, resolves to a manifest
 *     whose blobs (and child manifests) all exist and hash to their digests;
 *   - every push the registry acknowledged (201 on the manifest PUT) before the kill is still
 *     there under its tag with the same digest (durability of acknowledged writes);
 *   - pushes work again.
 *
 *   E2E_CRASH_ROUNDS   kill/restart rounds (default 5)
 *   E2E_CRASH_WORKERS  concurrent pushers (default 4)
 *   E2E_SEED           seed for sizes and kill moments (printed; set it to replay a run)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import { checkConsistency, RegistryClient } from './registry-client';
import {
  blobOf,
  descriptorOf,
  envSeed,
  type GeneratedImage,
  type ImageIndex,
  KiB,
  MediaType,
  randomImage,
  seededRandom,
  sha256,
} from './tools';

const ROUNDS = Number(process.env['E2E_CRASH_ROUNDS'] ?? '5');
const WORKERS = Number(process.env['E2E_CRASH_WORKERS'] ?? '4');
const REPOS = ['crash/alpha', 'crash/beta', 'crash/gamma/nested'];

interface Acked {
  repo: string;
  tag: string;
  digest: string;
}

describe('crash consistency', () => {
  let reg: RunningRegistry;
  let client: RegistryClient;
  const seed = envSeed();
  const rnd = seededRandom(seed);
  const acked: Acked[] = [];
  const pick = <T>(xs: readonly T[]): T => {
    const x = xs[Math.floor(rnd() * xs.length)];
    if (x === undefined) throw new Error('empty list');
    return x;
  };

  before(async () => {
    reg = await startRegistry();
    client = new RegistryClient(reg.url);
  });

  after(async () => {
    await reg?.stop();
  });

  /** Pushes one image (and sometimes an index over it) by a random mix of upload methods. */
  async function pushOne(worker: number, round: number, i: number): Promise<void> {
    const repo = pick(REPOS);
    const sizes = Array.from({ length: 1 + Math.floor(rnd() * 4) }, () =>
      Math.floor(KiB + rnd() * 768 * KiB),
    );
    const img: GeneratedImage = randomImage(sizes, { gzip: rnd() < 0.3 });
    for (const [j, b] of img.blobs.entries()) {
      switch ((i + j) % 3) {
        case 0:
          await client.pushBlob(repo, b);
          break;
        case 1:
          await client.pushBlobSinglePost(repo, b);
          break;
        default:
          await client.pushBlobChunked(repo, b, Math.max(1, Math.floor(b.size / 3) + 1));
      }
    }
    // a cross-repository mount of one of the blobs into another repository
    if (rnd() < 0.3) {
      const other = pick(REPOS.filter((r) => r !== repo));
      const b = pick(img.blobs);
      if (!(await client.mountBlob(other, b.digest, repo))) await client.pushBlob(other, b);
    }
    const tag = `w${worker}-r${round}-${i}`;
    if (rnd() < 0.25) {
      // an index over the image, pushed by tag; the image by digest only
      await client.pushManifest(repo, img.manifest.digest, img.manifest);
      const index: ImageIndex = {
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [descriptorOf(img.manifest, { platform: img.platform })],
      };
      const idx = blobOf(Buffer.from(JSON.stringify(index)), MediaType.ociIndex);
      await client.pushManifest(repo, tag, idx);
      acked.push({ repo, tag, digest: idx.digest });
    } else {
      await client.pushManifest(repo, tag, img.manifest);
      acked.push({ repo, tag, digest: img.manifest.digest });
    }
  }

  async function verify(label: string): Promise<string> {
    const report = await checkConsistency(client);
    const problems = report.problems.map((p) => `${p.where}: ${p.problem}`);
    for (const a of acked) {
      const got = report.resolved.get(a.repo)?.get(a.tag);
      if (got !== a.digest) {
        problems.push(
          `acknowledged ${a.repo}:${a.tag} -> ${a.digest} is ${got === undefined ? 'missing' : `now ${got}`}`,
        );
      }
    }
    assert.deepEqual(
      problems,
      [],
      `${label}: ${problems.length} consistency problem(s) (E2E_SEED=${seed})`,
    );
    return `${label}: repositories=${report.repositories} tags=${report.tags} manifests=${report.manifests} blobs=${report.blobs} acknowledged=${acked.length}`;
  }

  it('survives SIGKILL during concurrent pushes', { timeout: 30 * 60_000 }, async (t) => {
    t.diagnostic(`E2E_SEED=${seed} rounds=${ROUNDS} workers=${WORKERS}`);
    for (let round = 0; round < ROUNDS; round++) {
      let killed = false;
      const unexpected: string[] = [];
      const interrupted: string[] = [];
      let pushed = 0;
      const worker = async (w: number): Promise<void> => {
        for (let i = 0; !killed; i++) {
          try {
            await pushOne(w, round, i);
            pushed++;
          } catch (e) {
            // errors are expected once the process is gone (connection refused/reset, 5xx)
            (killed ? interrupted : unexpected).push(
              `worker ${w} push ${i}: ${(e as Error).message}`,
            );
            if (killed) return;
          }
        }
      };
      const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
      const delay = 250 + Math.floor(rnd() * 1750);
      await new Promise((r) => setTimeout(r, delay));
      killed = true;
      await reg.kill('SIGKILL');
      await Promise.all(workers);
      assert.deepEqual(
        unexpected,
        [],
        `round ${round}: pushes failed before the kill:\n${reg.logs()}`,
      );
      await reg.restart();
      t.diagnostic(
        `round ${round}: killed after ${delay} ms, ${pushed} pushes acknowledged this round, ` +
          `${interrupted.length} interrupted`,
      );
      t.diagnostic(await verify(`after round ${round}`));

      // pushes work again after the restart
      const img = randomImage([64 * KiB, 3 * KiB]);
      await client.pushImage('crash/after-restart', img, `round-${round}`);
      const back = await client.getManifest('crash/after-restart', `round-${round}`);
      assert.equal(back.status, 200);
      assert.equal(sha256(back.body), img.manifest.digest);
      for (const b of img.blobs) {
        const got = await client.fetchBlobHashed('crash/after-restart', b.digest);
        assert.equal(got.digest, b.digest);
      }
      acked.push({
        repo: 'crash/after-restart',
        tag: `round-${round}`,
        digest: img.manifest.digest,
      });
    }
    // and everything is still consistent after a clean restart
    await reg.restart();
    t.diagnostic(await verify('after final clean restart'));
  });
});
