/**
 * skopeo (containers/image) against the registry: push/pull of OCI layouts with byte-for-byte
 * comparison, multi-arch indexes with --all, many layers, inspect, list-tags, delete, and the same
 * single-image round trip on S3 storage.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import { RegistryClient } from './registry-client';
import {
  type GeneratedImage,
  hexOf,
  makeTempDir,
  randomImage,
  randomIndex,
  readOciLayout,
  removeDir,
  requireCommand,
  run,
  type RunResult,
  sha256,
  KiB,
  MiB,
  writeOciLayout,
} from './tools';

const TIMEOUT = 10 * 60_000;

function skopeo(args: string[], allowFailure = false): Promise<RunResult> {
  return run('skopeo', args, { timeoutMs: 5 * 60_000, allowFailure });
}

/** push: OCI layout -> registry, keeping digests (no recompression) */
async function pushLayout(dir: string, tag: string, dest: string, all = false): Promise<void> {
  await skopeo([
    'copy',
    '--quiet',
    ...(all ? ['--all'] : []),
    '--preserve-digests',
    '--dest-tls-verify=false',
    `oci:${dir}:${tag}`,
    `docker://${dest}`,
  ]);
}

async function pullToLayout(src: string, dir: string, tag: string, all = false): Promise<void> {
  await skopeo([
    'copy',
    '--quiet',
    ...(all ? ['--all'] : []),
    '--preserve-digests',
    '--src-tls-verify=false',
    `docker://${src}`,
    `oci:${dir}:${tag}`,
  ]);
}

/** Pulls `ref` back into a fresh OCI layout and a `dir:` copy and compares every byte with `img`. */
async function assertRoundTrip(ref: string, img: GeneratedImage, work: string): Promise<void> {
  const out = join(work, `pulled-oci-${Math.random().toString(36).slice(2)}`);
  await pullToLayout(ref, out, 'pulled');
  const pulled = await readOciLayout(out, 'pulled');
  assert.equal(
    pulled.root.digest,
    img.manifest.digest,
    'manifest digest changed on the round trip',
  );
  assert.deepEqual(
    [...pulled.blobDigests].sort(),
    img.blobs.map((b) => b.digest).sort(),
    'pulled blob set differs',
  );
  for (const b of [...img.blobs, img.manifest]) {
    const bytes = await readFile(join(out, 'blobs', 'sha256', hexOf(b.digest)));
    assert.ok(bytes.equals(b.data), `blob ${b.digest} differs byte for byte`);
  }

  // the dir: transport writes the manifest and each blob as plain files
  const dirOut = join(work, `pulled-dir-${Math.random().toString(36).slice(2)}`);
  await skopeo(['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `dir:${dirOut}`]);
  const manifestBytes = await readFile(join(dirOut, 'manifest.json'));
  assert.ok(manifestBytes.equals(img.manifest.data), 'dir: manifest.json differs');
  for (const b of img.blobs) {
    const bytes = await readFile(join(dirOut, hexOf(b.digest)));
    assert.ok(bytes.equals(b.data), `dir: blob ${b.digest} differs byte for byte`);
  }
}

describe('skopeo', () => {
  let reg: RunningRegistry;
  let work: string;
  let single: GeneratedImage;
  let client: RegistryClient;

  before(async () => {
    await requireCommand('skopeo');
    work = await makeTempDir('skopeo');
    reg = await startRegistry();
    client = new RegistryClient(reg.url);
    single = randomImage([3 * MiB, 512 * KiB, 10 * KiB], { gzip: true });
  });

  after(async () => {
    await reg?.stop();
    if (work !== undefined) await removeDir(work);
  });

  it(
    'copies a single image to the registry and back byte for byte',
    { timeout: TIMEOUT },
    async () => {
      const layout = join(work, 'single');
      await writeOciLayout(layout, [{ tag: 'v1', content: single }]);
      await pushLayout(layout, 'v1', `${reg.host}/e2e/single:v1`);
      await assertRoundTrip(`${reg.host}/e2e/single:v1`, single, work);
    },
  );

  it('inspects the image', { timeout: TIMEOUT }, async () => {
    const r = await skopeo(['inspect', '--tls-verify=false', `docker://${reg.host}/e2e/single:v1`]);
    const info = JSON.parse(r.stdout) as {
      Digest: string;
      Layers: string[];
      Architecture: string;
      Os: string;
      RepoTags: string[];
      Labels: Record<string, string> | null;
    };
    assert.equal(info.Digest, single.manifest.digest);
    assert.deepEqual(
      info.Layers,
      single.layers.map((l) => l.digest),
    );
    assert.equal(info.Architecture, 'amd64');
    assert.equal(info.Os, 'linux');
    assert.ok(info.RepoTags.includes('v1'), `RepoTags ${JSON.stringify(info.RepoTags)}`);
    const config = JSON.parse(single.config.data.toString('utf8')) as {
      config: { Labels: Record<string, string> };
    };
    assert.deepEqual(info.Labels, config.config.Labels);

    const raw = await run(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/e2e/single:v1`],
      { binary: true },
    );
    assert.equal(sha256(raw.stdoutBytes), single.manifest.digest, '--raw bytes differ');
    const cfg = await run(
      'skopeo',
      ['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/e2e/single:v1`],
      { binary: true },
    );
    assert.equal(sha256(cfg.stdoutBytes), single.config.digest, '--config --raw bytes differ');
  });

  it('copies a multi-arch index with --all', { timeout: TIMEOUT }, async () => {
    const idx = randomIndex(
      [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64' },
      ],
      [MiB, 64 * KiB],
    );
    const layout = join(work, 'multi');
    await writeOciLayout(layout, [{ tag: 'multi', content: idx }]);
    await pushLayout(layout, 'multi', `${reg.host}/e2e/multi:v1`, true);

    const raw = await run(
      'skopeo',
      ['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/e2e/multi:v1`],
      { binary: true },
    );
    assert.ok(raw.stdoutBytes.equals(idx.index.data), 'index bytes differ');

    const out = join(work, 'multi-pulled');
    await pullToLayout(`${reg.host}/e2e/multi:v1`, out, 'multi', true);
    const pulled = await readOciLayout(out, 'multi');
    assert.equal(pulled.root.digest, idx.index.digest);
    const expectedManifests = [idx.index, ...idx.images.map((i) => i.manifest)];
    assert.deepEqual(
      [...pulled.manifests.keys()].sort(),
      expectedManifests.map((m) => m.digest).sort(),
    );
    for (const m of expectedManifests) {
      assert.ok(pulled.manifests.get(m.digest)?.equals(m.data), `manifest ${m.digest} differs`);
    }
    const blobs = idx.images.flatMap((i) => i.blobs);
    assert.deepEqual(
      [...pulled.blobDigests].sort(),
      [...new Set(blobs.map((b) => b.digest))].sort(),
    );
    for (const b of blobs) {
      const bytes = await readFile(join(out, 'blobs', 'sha256', hexOf(b.digest)));
      assert.ok(bytes.equals(b.data), `blob ${b.digest} differs`);
    }

    // without --all skopeo picks one platform: the arm64 child must be reachable by digest too
    const arm = idx.images[1];
    assert.ok(arm !== undefined);
    await assertRoundTrip(`${reg.host}/e2e/multi@${arm.manifest.digest}`, arm, work);
  });

  it('copies an image with 60 layers', { timeout: TIMEOUT }, async () => {
    const sizes = Array.from({ length: 60 }, (_, i) => 1024 + ((i * 7919) % 97) * 1024);
    const img = randomImage(sizes, { gzip: true });
    const layout = join(work, 'many');
    await writeOciLayout(layout, [{ tag: 'many', content: img }]);
    await pushLayout(layout, 'many', `${reg.host}/e2e/many-layers:v1`);
    await assertRoundTrip(`${reg.host}/e2e/many-layers:v1`, img, work);
  });

  it('lists tags and deletes one by reference', { timeout: TIMEOUT }, async () => {
    const other = randomImage([100 * KiB], { gzip: true });
    const layout = join(work, 'other');
    await writeOciLayout(layout, [{ tag: 'v2', content: other }]);
    await pushLayout(layout, 'v2', `${reg.host}/e2e/single:v2`);

    const tagsOf = async (): Promise<string[]> => {
      const r = await skopeo([
        'list-tags',
        '--tls-verify=false',
        `docker://${reg.host}/e2e/single`,
      ]);
      return (JSON.parse(r.stdout) as { Tags: string[] }).Tags.sort();
    };
    assert.deepEqual(await tagsOf(), ['v1', 'v2']);

    await skopeo(['delete', '--tls-verify=false', `docker://${reg.host}/e2e/single:v2`]);
    assert.deepEqual(await tagsOf(), ['v1']);
    const gone = await skopeo(
      ['inspect', '--tls-verify=false', `docker://${reg.host}/e2e/single:v2`],
      true,
    );
    assert.notEqual(gone.code, 0, 'deleted tag still inspectable');
    const byDigest = await client.getManifest('e2e/single', other.manifest.digest);
    assert.equal(byDigest.status, 404, 'deleted manifest still served by digest');
    // the other tag is untouched
    await assertRoundTrip(`${reg.host}/e2e/single:v1`, single, work);
  });

  it('round-trips a single image on S3 storage', { timeout: TIMEOUT }, async () => {
    // fails with a clear message when S3_ENDPOINT / S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY are absent
    const s3reg = await startRegistry({ storage: 's3' });
    try {
      const img = randomImage([2 * MiB, 50 * KiB], { gzip: true });
      const layout = join(work, 's3');
      await writeOciLayout(layout, [{ tag: 'v1', content: img }]);
      await pushLayout(layout, 'v1', `${s3reg.host}/e2e/s3:v1`);
      await assertRoundTrip(`${s3reg.host}/e2e/s3:v1`, img, work);
    } finally {
      await s3reg.stop();
    }
  });
});
