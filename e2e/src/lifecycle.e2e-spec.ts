/**
 * Lifecycle with real clients: immutable tags refuse crane and skopeo overwrites and deletes,
 * mutable tags move freely, and `berth registry gc` then frees what a deleted image left.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import { makeTar, makeTempDir, randomId, removeDir, run, toolPath, type RunResult } from './tools';

const TIMEOUT = 5 * 60_000;
const ADMIN_PASSWORD = `admin-${randomId()}`;

describe('lifecycle with real clients', () => {
  let reg: RunningRegistry;
  let work: string;
  let craneBin: string;
  const crane = (args: string[]): Promise<RunResult> =>
    run(craneBin, [...args, '--insecure'], {
      timeoutMs: TIMEOUT,
      allowFailure: true,
      env: { DOCKER_CONFIG: join(work, 'docker') },
    });
  const admin = (method: string, path: string, body?: unknown): Promise<Response> =>
    fetch(`${reg.url}/admin/v1${path}`, {
      method,
      headers: {
        Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`,
        'Content-Type': 'application/json',
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  async function appendLayer(ref: string, content: string): Promise<RunResult> {
    const tar = join(work, `${randomId()}.tar`);
    await writeFile(tar, makeTar([{ name: 'app/data.txt', data: Buffer.from(content) }]));
    return crane(['append', '--oci-empty-base', '-f', tar, '-t', ref]);
  }

  before(async () => {
    craneBin = toolPath('crane');
    work = await makeTempDir('lifecycle');
    reg = await startRegistry({
      env: {
        REGISTRY_AUTH: 'token',
        REGISTRY_ADMIN_USER: 'admin',
        REGISTRY_ADMIN_PASSWORD: ADMIN_PASSWORD,
        REGISTRY_GC_GRACE_SECONDS: '0',
      },
    });
    const login = await crane(['auth', 'login', reg.host, '-u', 'admin', '-p', ADMIN_PASSWORD]);
    assert.equal(login.code, 0, login.stderr);
    const rules = await admin('PUT', '/immutability', {
      rules: [{ repositories: 'life/**', tags: 'v*' }],
    });
    assert.equal(rules.status, 200, await rules.text());
  });
  after(async () => {
    await reg?.stop();
    if (work !== undefined) await removeDir(work);
  });

  it(
    'refuses to overwrite or delete an immutable tag, with crane and skopeo',
    { timeout: TIMEOUT },
    async () => {
      const first = await appendLayer(`${reg.host}/life/app:v1`, 'first');
      assert.equal(first.code, 0, first.stderr);
      const digest = (await crane(['digest', `${reg.host}/life/app:v1`])).stdout.trim();
      const overwrite = await appendLayer(`${reg.host}/life/app:v1`, 'second');
      assert.notEqual(overwrite.code, 0, 'crane overwrote an immutable tag');
      assert.match(overwrite.stderr, /DENIED|immutable/);
      const del = await crane(['delete', `${reg.host}/life/app@${digest}`]);
      assert.notEqual(del.code, 0, 'crane deleted the manifest of an immutable tag');
      assert.match(del.stderr, /DENIED|immutable/);
      const skopeo = await run(
        'skopeo',
        [
          'delete',
          '--tls-verify=false',
          '--creds',
          `admin:${ADMIN_PASSWORD}`,
          `docker://${reg.host}/life/app:v1`,
        ],
        { timeoutMs: TIMEOUT, allowFailure: true },
      );
      assert.notEqual(skopeo.code, 0, 'skopeo deleted an immutable tag');
      assert.equal((await crane(['digest', `${reg.host}/life/app:v1`])).stdout.trim(), digest);
    },
  );

  it(
    'lets mutable tags move and be deleted, and GC frees what they left',
    { timeout: TIMEOUT },
    async () => {
      assert.equal((await appendLayer(`${reg.host}/life/app:latest`, 'one')).code, 0);
      const old = (await crane(['digest', `${reg.host}/life/app:latest`])).stdout.trim();
      assert.equal((await appendLayer(`${reg.host}/life/app:latest`, 'two')).code, 0);
      assert.notEqual((await crane(['digest', `${reg.host}/life/app:latest`])).stdout.trim(), old);
      const del = await crane(['delete', `${reg.host}/life/app@${old}`]);
      assert.equal(del.code, 0, del.stderr);
      const gc = spawnSync(
        process.execPath,
        [resolve(__dirname, '..', '..', 'bin', 'berth.js'), 'registry', 'gc'],
        {
          env: {
            ...process.env,
            DATABASE_URL: reg.databaseUrl,
            DATA_DIR: reg.dataDir,
            REGISTRY_GC_GRACE_SECONDS: '0',
          },
          encoding: 'utf8',
        },
      );
      assert.equal(gc.status, 0, gc.stderr);
      assert.match(gc.stdout, /freed [1-9]\d* blobs/);
      // What is still tagged pulls completely.
      for (const tag of ['v1', 'latest']) {
        const pulled = await crane([
          'pull',
          `${reg.host}/life/app:${tag}`,
          join(work, `${tag}.tar`),
        ]);
        assert.equal(pulled.code, 0, pulled.stderr);
      }
    },
  );
});
