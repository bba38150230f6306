/**
 * buildah and podman (rootful, vfs storage in a temp dir so the host's container storage is not
 * touched): build an image from scratch, push it, pull it into fresh storage and compare the file
 * inside it byte for byte.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import { RegistryClient } from './registry-client';
import {
  type ImageIndex,
  type ImageManifest,
  hexOf,
  makeTempDir,
  MiB,
  readTar,
  removeDir,
  requireCommand,
  run,
  type RunResult,
  sha256,
} from './tools';

const TIMEOUT = 10 * 60_000;

/** One isolated containers/storage root with the flags every podman/buildah call needs. */
class Storage {
  constructor(
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  private flags(): string[] {
    return [
      '--storage-driver',
      'vfs',
      '--root',
      join(this.dir, 'root'),
      '--runroot',
      join(this.dir, 'runroot'),
    ];
  }

  buildah(args: string[]): Promise<RunResult> {
    return run('buildah', [...this.flags(), ...args], { env: this.env, timeoutMs: 5 * 60_000 });
  }

  podman(args: string[]): Promise<RunResult> {
    return run('podman', [...this.flags(), ...args], { env: this.env, timeoutMs: 5 * 60_000 });
  }
}

/** Reads the file at `path` from an OCI layout written by `podman save --format oci-dir`. */
async function fileFromOciDir(dir: string, path: string): Promise<Buffer | undefined> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const top = index.manifests[0];
  assert.ok(top !== undefined, 'saved layout has no manifest');
  const manifest = JSON.parse(
    await readFile(join(dir, 'blobs', 'sha256', hexOf(top.digest)), 'utf8'),
  ) as ImageManifest;
  let found: Buffer | undefined;
  for (const layer of manifest.layers) {
    const files = readTar(await readFile(join(dir, 'blobs', 'sha256', hexOf(layer.digest))));
    found = files.get(path) ?? found; // later layers win
  }
  return found;
}

describe('podman and buildah', () => {
  let reg: RunningRegistry;
  let work: string;
  let env: Record<string, string>;
  let builder: Storage;
  const payload = randomBytes(2 * MiB);
  const note = Buffer.from(`built by berth e2e ${new Date().toISOString()}\n`);
  let builtId = '';

  before(async () => {
    await requireCommand('buildah');
    await requireCommand('podman');
    work = await makeTempDir('podman');
    // rootful, no systemd: cgroupfs and file event logging; an empty registries.conf so host
    // settings cannot redirect our fully qualified 127.0.0.1:PORT references
    await writeFile(
      join(work, 'containers.conf'),
      '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
    );
    await writeFile(join(work, 'registries.conf'), 'unqualified-search-registries = []\n');
    env = {
      CONTAINERS_CONF: join(work, 'containers.conf'),
      CONTAINERS_REGISTRIES_CONF: join(work, 'registries.conf'),
    };
    builder = new Storage(join(work, 'builder'), env);
    reg = await startRegistry();
  });

  after(async () => {
    await reg?.stop();
    if (work !== undefined) await removeDir(work);
  });

  it('builds from scratch and pushes with buildah', { timeout: TIMEOUT }, async () => {
    const ctr = (await builder.buildah(['from', 'scratch'])).stdout.trim();
    assert.notEqual(ctr, '');
    await writeFile(join(work, 'payload.bin'), payload);
    await writeFile(join(work, 'note.txt'), note);
    await builder.buildah(['copy', ctr, join(work, 'payload.bin'), '/data/payload.bin']);
    await builder.buildah(['copy', ctr, join(work, 'note.txt'), '/note.txt']);
    await builder.buildah(['config', '--label', 'org.berth.e2e=podman-buildah', ctr]);
    builtId = (
      await builder.buildah(['commit', '--quiet', ctr, 'localhost/e2e-built:1'])
    ).stdout.trim();
    assert.match(builtId, /^[0-9a-f]{64}$/);
    await builder.buildah([
      'push',
      '--quiet',
      '--tls-verify=false',
      'localhost/e2e-built:1',
      `docker://${reg.host}/e2e/buildah:1`,
    ]);
    const tags = await new RegistryClient(reg.url).tags('e2e/buildah');
    assert.deepEqual(tags, ['1']);
  });

  it(
    'pulls with podman into fresh storage and gets the same bytes',
    { timeout: TIMEOUT },
    async () => {
      const puller = new Storage(join(work, 'puller'), env);
      await puller.podman(['pull', '--quiet', '--tls-verify=false', `${reg.host}/e2e/buildah:1`]);
      const inspect = JSON.parse(
        (await puller.podman(['image', 'inspect', `${reg.host}/e2e/buildah:1`])).stdout,
      ) as { Id: string; Labels: Record<string, string> | null; RepoDigests: string[] }[];
      const info = inspect[0];
      assert.ok(info !== undefined);
      // the image id is the config digest: unchanged by push + pull
      assert.equal(info.Id, builtId);
      assert.equal(info.Labels?.['org.berth.e2e'], 'podman-buildah');

      // the digest podman recorded is the manifest the registry serves
      const served = await new RegistryClient(reg.url).getManifest('e2e/buildah', '1');
      assert.equal(served.status, 200);
      assert.ok(
        info.RepoDigests.includes(`${reg.host}/e2e/buildah@${sha256(served.body)}`),
        `RepoDigests ${JSON.stringify(info.RepoDigests)} lack ${sha256(served.body)}`,
      );

      const saved = join(work, 'saved-buildah');
      await puller.podman([
        'save',
        '--format',
        'oci-dir',
        '-o',
        saved,
        `${reg.host}/e2e/buildah:1`,
      ]);
      const got = await fileFromOciDir(saved, 'data/payload.bin');
      assert.ok(got !== undefined, 'data/payload.bin missing from the pulled image');
      assert.ok(got.equals(payload), 'payload differs byte for byte');
      assert.ok((await fileFromOciDir(saved, 'note.txt'))?.equals(note), 'note.txt differs');
    },
  );

  it('pushes with podman and pulls it back', { timeout: TIMEOUT }, async () => {
    // podman and buildah share containers/storage: podman sees the image buildah committed
    await builder.podman([
      'push',
      '--quiet',
      '--tls-verify=false',
      'localhost/e2e-built:1',
      `${reg.host}/e2e/podman:latest`,
    ]);
    const puller = new Storage(join(work, 'puller2'), env);
    await puller.podman(['pull', '--quiet', '--tls-verify=false', `${reg.host}/e2e/podman:latest`]);
    const id = (
      await puller.podman([
        'image',
        'inspect',
        '--format',
        '{{.Id}}',
        `${reg.host}/e2e/podman:latest`,
      ])
    ).stdout.trim();
    assert.equal(id, builtId);
    const saved = join(work, 'saved-podman');
    await puller.podman([
      'save',
      '--format',
      'oci-dir',
      '-o',
      saved,
      `${reg.host}/e2e/podman:latest`,
    ]);
    assert.ok(
      (await fileFromOciDir(saved, 'data/payload.bin'))?.equals(payload),
      'payload differs',
    );

    // both repositories hold the same config blob
    const client = new RegistryClient(reg.url);
    const cfg = await client.fetchBlobHashed('e2e/podman', `sha256:${builtId}`);
    assert.equal(cfg.status, 200);
    assert.equal(cfg.digest, `sha256:${builtId}`);
  });
});
