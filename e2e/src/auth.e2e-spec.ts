/**
 * Docker token authentication with real clients: the registry runs with `REGISTRY_AUTH=token`,
 * principals are created through the admin API, and skopeo, podman/buildah, crane and oras log in
 * (each with its own temp auth file, so nothing reaches the host's credential stores), push and
 * pull according to their roles; anonymous pulls of public repositories; credentials given
 * without a login; revocation of an access token under a client holding a bearer token; a token
 * of another registry instance; and brute force against the token endpoint.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startRegistry, type RunningRegistry } from './harness';
import {
  type GeneratedImage,
  hexOf,
  KiB,
  makeTar,
  makeTempDir,
  MediaType,
  MiB,
  randomImage,
  readOciLayout,
  readTar,
  removeDir,
  requireCommand,
  run,
  type RunResult,
  sleep,
  toolPath,
  writeOciLayout,
} from './tools';

const TIMEOUT = 10 * 60_000;
const SERVICE = 'berth-registry';
/** What a client prints when the registry refuses it (403 DENIED or 401 UNAUTHORIZED). */
const REFUSED = /denied|403|unauthorized|401|forbidden|invalid username\/password/i;

interface Credentials {
  user: string;
  password: string;
}

/** Hex, so a secret never looks like a command-line flag. */
function secret(): string {
  return randomBytes(16).toString('hex');
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.user}:${c.password}`).toString('base64')}`;
}

function output(r: RunResult): string {
  return `${r.stdout}\n${r.stderr}`.trim();
}

/** The last line of a client's output that says why it was refused (for the report). */
function refusal(r: RunResult): string {
  const lines = output(r).split('\n');
  return lines.reverse().find((l) => REFUSED.test(l)) ?? lines[0] ?? '';
}

function assertRefused(r: RunResult, what: string): void {
  assert.notEqual(r.code, 0, `${what} succeeded but must be refused:\n${output(r)}`);
  assert.match(output(r), REFUSED, `${what} failed for another reason than auth:\n${output(r)}`);
}

/** The header of a JWT, decoded without verifying it. */
function jwtHeader(token: string): { alg?: string; kid?: string } {
  return JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
    alg?: string;
    kid?: string;
  };
}

/** A small HTTP client for the token endpoint and the admin API of one registry. */
class AuthApi {
  constructor(
    readonly url: string,
    readonly admin: Credentials,
  ) {}

  token(scopes: string[], credentials?: Credentials): Promise<Response> {
    const query = new URLSearchParams({ service: SERVICE });
    for (const s of scopes) query.append('scope', s);
    return fetch(`${this.url}/auth/token?${query.toString()}`, {
      headers: credentials ? { Authorization: basic(credentials) } : {},
    });
  }

  async bearer(scopes: string[], credentials?: Credentials): Promise<string> {
    const res = await this.token(scopes, credentials);
    const body = await res.text();
    assert.equal(
      res.status,
      200,
      `GET /auth/token as ${credentials?.user ?? 'anonymous'}: ${body}`,
    );
    return (JSON.parse(body) as { token: string }).token;
  }

  call(method: string, path: string, auth?: string, accept?: string): Promise<Response> {
    return fetch(`${this.url}${path}`, {
      method,
      headers: { ...(auth ? { Authorization: auth } : {}), ...(accept ? { Accept: accept } : {}) },
    });
  }

  adminCall(method: string, path: string, body?: unknown): Promise<Response> {
    return fetch(`${this.url}/admin/v1${path}`, {
      method,
      headers: {
        Authorization: basic(this.admin),
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async adminJson<T>(method: string, path: string, body: unknown, status: number): Promise<T> {
    const res = await this.adminCall(method, path, body);
    const text = await res.text();
    assert.equal(res.status, status, `${method} /admin/v1${path}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async createPrincipal(
    kind: 'user' | 'service_account',
    name: string,
    role: string,
    password?: string,
  ): Promise<string> {
    const created = await this.adminJson<{ id: string; name: string; role: string }>(
      'POST',
      '/principals',
      { kind, name, role, ...(password === undefined ? {} : { password }) },
      201,
    );
    assert.equal(created.name, name);
    assert.equal(created.role, role);
    return created.id;
  }

  /** Tags of a repository, read with an admin bearer token. */
  async tags(repository: string): Promise<string[]> {
    const t = await this.bearer([`repository:${repository}:pull`], this.admin);
    const res = await this.call('GET', `/v2/${repository}/tags/list`, `Bearer ${t}`);
    if (res.status === 404) return [];
    assert.equal(res.status, 200, await res.clone().text());
    return ((await res.json()) as { tags: string[] | null }).tags?.sort() ?? [];
  }
}

/** One isolated containers/storage root (root, vfs) with its own podman auth file. */
class Storage {
  constructor(
    readonly dir: string,
    private readonly env: Record<string, string>,
  ) {}

  private flags(): string[] {
    const dir = this.dir;
    return ['--storage-driver', 'vfs', '--root', join(dir, 'root'), '--runroot', join(dir, 'run')];
  }

  buildah(args: string[]): Promise<RunResult> {
    return run('buildah', [...this.flags(), ...args], { env: this.env, timeoutMs: 5 * 60_000 });
  }

  podman(
    args: string[],
    opts: { input?: string; allowFailure?: boolean } = {},
  ): Promise<RunResult> {
    return run('podman', [...this.flags(), ...args], {
      env: this.env,
      timeoutMs: 5 * 60_000,
      ...opts,
    });
  }
}

/** Asserts that a pulled layout holds exactly the pushed image, byte for byte. */
async function assertSameImage(dir: string, tag: string, img: GeneratedImage): Promise<void> {
  const pulled = await readOciLayout(dir, tag);
  assert.equal(pulled.root.digest, img.manifest.digest, 'manifest digest changed');
  assert.deepEqual(
    [...pulled.blobDigests].sort(),
    img.blobs.map((b) => b.digest).sort(),
    'pulled blob set differs from the pushed one',
  );
  for (const b of [...img.blobs, img.manifest]) {
    const bytes = await readFile(join(dir, 'blobs', 'sha256', hexOf(b.digest)));
    assert.ok(bytes.equals(b.data), `pulled ${b.digest} differs byte for byte from the pushed one`);
  }
}

/** Every {digest, artifactType} object anywhere in `oras discover --format json` output. */
function collectDescriptors(v: unknown): { digest: string; artifactType?: string }[] {
  const out: { digest: string; artifactType?: string }[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) {
      for (const y of x) walk(y);
    } else if (typeof x === 'object' && x !== null) {
      const o = x as Record<string, unknown>;
      if (typeof o['digest'] === 'string') {
        out.push({
          digest: o['digest'],
          ...(typeof o['artifactType'] === 'string' ? { artifactType: o['artifactType'] } : {}),
        });
      }
      for (const y of Object.values(o)) walk(y);
    }
  };
  walk(v);
  return out;
}

/** Credential stores of the host that a client could write to without an explicit auth file. */
function hostCredentialFiles(): string[] {
  const files = [
    join(homedir(), '.docker', 'config.json'),
    join(homedir(), '.config', 'containers', 'auth.json'),
    '/run/containers/0/auth.json',
    '/run/user/0/containers/auth.json',
  ];
  const xdg = process.env['XDG_RUNTIME_DIR'];
  if (xdg !== undefined && xdg !== '') files.push(join(xdg, 'containers', 'auth.json'));
  if (process.env['DOCKER_CONFIG']) files.push(join(process.env['DOCKER_CONFIG'], 'config.json'));
  if (process.env['REGISTRY_AUTH_FILE']) files.push(process.env['REGISTRY_AUTH_FILE']);
  return files;
}

describe('token authentication with real clients', () => {
  let reg: RunningRegistry;
  let api: AuthApi;
  let work: string;
  let craneBin: string;
  let orasBin: string;
  let containersEnv: Record<string, string>;
  const admin: Credentials = { user: 'admin', password: secret() };
  const dev: Credentials = { user: 'dev', password: secret() };
  const reader: Credentials = { user: 'reader', password: secret() };
  /** The CI service account; its password is its access token. */
  const ci: Credentials & { id: string; tokenId: string } = {
    user: 'ci',
    password: '',
    id: '',
    tokenId: '',
  };
  const teamImage = randomImage([MiB, 96 * KiB, 3 * KiB], { gzip: true });

  const authFile = (client: string, who: string): string =>
    join(work, 'auth', `${client}-${who}.json`);

  const skopeo = (args: string[], allowFailure = false, input?: string): Promise<RunResult> =>
    run('skopeo', args, {
      env: containersEnv,
      timeoutMs: 5 * 60_000,
      allowFailure,
      ...(input === undefined ? {} : { input }),
    });

  /** crane with its own DOCKER_CONFIG directory per principal ('anonymous': an empty one). */
  const crane = (who: string, args: string[], allowFailure = false, input?: string) =>
    run(craneBin, [...args, '--insecure'], {
      env: { DOCKER_CONFIG: join(work, 'auth', `crane-${who}`) },
      timeoutMs: 5 * 60_000,
      allowFailure,
      ...(input === undefined ? {} : { input }),
    });

  const oras = (
    args: string[],
    opts: { cwd?: string; allowFailure?: boolean; input?: string } = {},
  ): Promise<RunResult> =>
    run(orasBin, [...args, '--plain-http'], { timeoutMs: 5 * 60_000, ...opts });

  const skopeoLogin = async (who: Credentials): Promise<void> => {
    const r = await skopeo(
      [
        'login',
        '--tls-verify=false',
        '--authfile',
        authFile('skopeo', who.user),
        '-u',
        who.user,
        '--password-stdin',
        reg.host,
      ],
      false,
      `${who.password}\n`,
    );
    assert.match(output(r), /Login Succeeded/);
  };

  before(async () => {
    await requireCommand('skopeo');
    await requireCommand('podman');
    await requireCommand('buildah');
    craneBin = toolPath('crane');
    orasBin = toolPath('oras');
    work = await makeTempDir('auth');
    await mkdir(join(work, 'auth'), { recursive: true });
    await writeFile(
      join(work, 'containers.conf'),
      '[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n',
    );
    await writeFile(join(work, 'registries.conf'), 'unqualified-search-registries = []\n');
    await writeFile(join(work, 'auth', 'default-auth.json'), '{"auths":{}}\n');
    containersEnv = {
      CONTAINERS_CONF: join(work, 'containers.conf'),
      CONTAINERS_REGISTRIES_CONF: join(work, 'registries.conf'),
      // a client that ignored --authfile would write here, not into the host's stores
      REGISTRY_AUTH_FILE: join(work, 'auth', 'default-auth.json'),
    };
    reg = await startRegistry({
      env: {
        REGISTRY_AUTH: 'token',
        REGISTRY_ADMIN_USER: admin.user,
        REGISTRY_ADMIN_PASSWORD: admin.password,
        REGISTRY_RATE_LIMIT_REQUESTS: '0',
      },
    });
    api = new AuthApi(reg.url, admin);

    // the admin API refuses anonymous callers and non-administrators
    const anonymous = await fetch(`${reg.url}/admin/v1/principals`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Bearer realm="/);

    await api.createPrincipal('user', dev.user, 'developer', dev.password);
    await api.createPrincipal('user', reader.user, 'reader', reader.password);
    ci.id = await api.createPrincipal('service_account', ci.user, 'developer');
    const pat = await api.adminJson<{ id: string; token: string; name: string }>(
      'POST',
      `/principals/${ci.id}/tokens`,
      { name: 'e2e-pipeline' },
      201,
    );
    assert.match(pat.token, /^brt_/);
    ci.password = pat.token;
    ci.tokenId = pat.id;
    const listed = await api.adminJson<unknown[]>(
      'GET',
      `/principals/${ci.id}/tokens`,
      undefined,
      200,
    );
    assert.equal(listed.length, 1);
    assert.ok(!JSON.stringify(listed).includes(pat.token), 'token list shows the secret');
    const publicAccess = await api.adminJson<{ registryPublic: boolean; patterns: string[] }>(
      'PUT',
      '/public',
      { registryPublic: false, patterns: ['public/**'] },
      200,
    );
    assert.deepEqual(publicAccess, { registryPublic: false, patterns: ['public/**'] });

    const notAdmin = await fetch(`${reg.url}/admin/v1/principals`, {
      headers: { Authorization: basic(reader) },
    });
    assert.equal(notAdmin.status, 403, await notAdmin.clone().text());
  });

  after(async () => {
    await reg?.stop();
    if (work !== undefined) await removeDir(work);
  });

  it(
    'skopeo: dev logs in and pushes, reader pulls the same bytes and may not push',
    { timeout: TIMEOUT },
    async (t) => {
      const wrong = await skopeo(
        [
          'login',
          '--tls-verify=false',
          '--authfile',
          authFile('skopeo', 'wrong'),
          '-u',
          dev.user,
          '--password-stdin',
          reg.host,
        ],
        true,
        'not-the-password\n',
      );
      assertRefused(wrong, 'skopeo login with a wrong password');
      assert.ok(!existsSync(authFile('skopeo', 'wrong')), 'a failed login stored credentials');

      await skopeoLogin(dev);
      await skopeoLogin(reader);
      const stored = await readFile(authFile('skopeo', 'dev'), 'utf8');
      assert.ok(stored.includes(reg.host), 'skopeo login did not write its --authfile');

      const layout = join(work, 'team-layout');
      await writeOciLayout(layout, [{ tag: 'v1', content: teamImage }]);
      await skopeo([
        'copy',
        '--quiet',
        '--preserve-digests',
        '--dest-tls-verify=false',
        '--authfile',
        authFile('skopeo', 'dev'),
        `oci:${layout}:v1`,
        `docker://${reg.host}/team/app:v1`,
      ]);

      const pulled = join(work, 'team-pulled');
      await skopeo([
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        '--authfile',
        authFile('skopeo', 'reader'),
        `docker://${reg.host}/team/app:v1`,
        `oci:${pulled}:v1`,
      ]);
      await assertSameImage(pulled, 'v1', teamImage);

      const other = randomImage([64 * KiB], { gzip: true });
      const otherLayout = join(work, 'reader-layout');
      await writeOciLayout(otherLayout, [{ tag: 'v2', content: other }]);
      const push = await skopeo(
        [
          'copy',
          '--quiet',
          '--dest-tls-verify=false',
          '--authfile',
          authFile('skopeo', 'reader'),
          `oci:${otherLayout}:v2`,
          `docker://${reg.host}/team/app:v2`,
        ],
        true,
      );
      assertRefused(push, 'skopeo push as reader');
      t.diagnostic(`skopeo push as reader: ${refusal(push)}`);
      assert.deepEqual(await api.tags('team/app'), ['v1']);
    },
  );

  it(
    'podman: dev logs in and pushes a buildah-built image, reader pulls it and may not push',
    { timeout: TIMEOUT },
    async (t) => {
      const podmanLogin = async (storage: Storage, who: Credentials): Promise<void> => {
        const r = await storage.podman(
          [
            'login',
            '--tls-verify=false',
            '--authfile',
            authFile('podman', who.user),
            '-u',
            who.user,
            '--password-stdin',
            reg.host,
          ],
          { input: `${who.password}\n` },
        );
        assert.match(output(r), /Login Succeeded/);
      };
      const builder = new Storage(join(work, 'podman-builder'), containersEnv);
      const puller = new Storage(join(work, 'podman-puller'), containersEnv);
      await podmanLogin(builder, dev);
      await podmanLogin(puller, reader);

      const payload = randomBytes(512 * KiB);
      await writeFile(join(work, 'podman-payload.bin'), payload);
      const ctr = (await builder.buildah(['from', 'scratch'])).stdout.trim();
      await builder.buildah(['copy', ctr, join(work, 'podman-payload.bin'), '/data/payload.bin']);
      const builtId = (
        await builder.buildah(['commit', '--quiet', ctr, 'localhost/e2e-auth:1'])
      ).stdout.trim();
      assert.match(builtId, /^[0-9a-f]{64}$/);

      const ref = `${reg.host}/team/podman:1`;
      await builder.podman([
        'push',
        '--quiet',
        '--tls-verify=false',
        '--authfile',
        authFile('podman', 'dev'),
        'localhost/e2e-auth:1',
        ref,
      ]);
      await puller.podman([
        'pull',
        '--quiet',
        '--tls-verify=false',
        '--authfile',
        authFile('podman', 'reader'),
        ref,
      ]);
      const id = (
        await puller.podman(['image', 'inspect', '--format', '{{.Id}}', ref])
      ).stdout.trim();
      assert.equal(id, builtId, 'the pulled image is not the pushed one');

      const push = await puller.podman(
        [
          'push',
          '--quiet',
          '--tls-verify=false',
          '--authfile',
          authFile('podman', 'reader'),
          ref,
          `${reg.host}/team/podman:2`,
        ],
        { allowFailure: true },
      );
      assertRefused(push, 'podman push as reader');
      t.diagnostic(`podman push as reader: ${refusal(push)}`);
      assert.deepEqual(await api.tags('team/podman'), ['1']);
    },
  );

  it(
    'crane: the CI service account pushes with its access token; reader may not push',
    { timeout: TIMEOUT },
    async (t) => {
      const login = await crane(
        'ci',
        ['auth', 'login', reg.host, '-u', ci.user, '--password-stdin'],
        false,
        ci.password,
      );
      assert.equal(login.code, 0);
      const config = await readFile(join(work, 'auth', 'crane-ci', 'config.json'), 'utf8');
      assert.ok(config.includes(reg.host), 'crane auth login did not write DOCKER_CONFIG');

      const layout = join(work, 'ci-layout');
      const img = randomImage([128 * KiB], { gzip: true });
      await writeOciLayout(layout, [{ tag: '1', content: img }]);
      await crane('ci', ['push', layout, `${reg.host}/ci/app:1`]);
      const digest = (await crane('ci', ['digest', `${reg.host}/ci/app:1`])).stdout.trim();
      assert.equal(digest, img.manifest.digest);

      const content = randomBytes(100 * KiB);
      const tarPath = join(work, 'ci-layer.tar');
      await writeFile(tarPath, makeTar([{ name: 'ci/artifact.bin', data: content }]));
      const appended = await crane('ci', [
        'append',
        '--oci-empty-base',
        '-f',
        tarPath,
        '-t',
        `${reg.host}/ci/app:2`,
      ]);
      assert.match(appended.stdout.trim(), /@sha256:[0-9a-f]{64}$/);
      assert.deepEqual(await api.tags('ci/app'), ['1', '2']);

      await crane(
        'reader',
        ['auth', 'login', reg.host, '-u', reader.user, '--password-stdin'],
        false,
        reader.password,
      );
      const exported = await run(craneBin, ['export', `${reg.host}/ci/app:2`, '-', '--insecure'], {
        env: { DOCKER_CONFIG: join(work, 'auth', 'crane-reader') },
        binary: true,
      });
      assert.ok(readTar(exported.stdoutBytes).get('ci/artifact.bin')?.equals(content));
      const push = await crane(
        'reader',
        ['append', '--oci-empty-base', '-f', tarPath, '-t', `${reg.host}/ci/app:3`],
        true,
      );
      assertRefused(push, 'crane append as reader');
      t.diagnostic(`crane append as reader: ${refusal(push)}`);
      const copy = await crane(
        'reader',
        ['copy', `${reg.host}/ci/app:1`, `${reg.host}/ci/copy:1`],
        true,
      );
      assertRefused(copy, 'crane copy as reader');
      assert.deepEqual(await api.tags('ci/app'), ['1', '2']);
      assert.deepEqual(await api.tags('ci/copy'), []);
    },
  );

  it(
    'oras: dev logs in and pushes an artifact, reader pulls it, attach + discover',
    { timeout: TIMEOUT },
    async (t) => {
      const config = (who: string): string => join(work, 'auth', `oras-${who}.json`);
      for (const who of [dev, reader]) {
        const r = await oras(
          [
            'login',
            '--registry-config',
            config(who.user),
            '-u',
            who.user,
            '--password-stdin',
            reg.host,
          ],
          { input: who.password },
        );
        assert.match(output(r), /Login Succeeded/);
      }
      const src = join(work, 'oras-src');
      await mkdir(src, { recursive: true });
      const files: Record<string, Buffer> = {
        'a.bin': randomBytes(300 * KiB),
        'readme.txt': Buffer.from('token-authenticated artifact\n'),
      };
      for (const [name, data] of Object.entries(files)) await writeFile(join(src, name), data);
      const artifactType = 'application/vnd.berth.e2e.auth.v1';
      const ref = `${reg.host}/team/oras:art`;
      await oras(
        [
          'push',
          '--registry-config',
          config('dev'),
          ref,
          '--artifact-type',
          artifactType,
          'a.bin:application/vnd.berth.e2e.file',
          'readme.txt:text/plain',
        ],
        { cwd: src },
      );

      const out = join(work, 'oras-out');
      await oras(['pull', '--registry-config', config('reader'), ref, '-o', out]);
      for (const [name, data] of Object.entries(files)) {
        assert.ok((await readFile(join(out, name))).equals(data), `${name} differs after pull`);
      }

      const sigDir = join(work, 'oras-sig');
      await mkdir(sigDir, { recursive: true });
      await writeFile(join(sigDir, 'sig.json'), JSON.stringify({ nonce: secret() }));
      const sigType = 'application/vnd.berth.e2e.signature.v1';
      const attached = await oras(
        [
          'attach',
          '--registry-config',
          config('dev'),
          '--artifact-type',
          sigType,
          ref,
          'sig.json:application/json',
          '--format',
          'json',
        ],
        { cwd: sigDir },
      );
      const sigDigest = (JSON.parse(attached.stdout) as { digest: string }).digest;
      assert.match(sigDigest, /^sha256:[0-9a-f]{64}$/);
      const discovered = JSON.parse(
        (await oras(['discover', '--registry-config', config('reader'), '--format', 'json', ref]))
          .stdout,
      ) as unknown;
      assert.ok(
        collectDescriptors(discovered).some(
          (d) => d.digest === sigDigest && d.artifactType === sigType,
        ),
        `oras discover as reader did not list ${sigDigest}: ${JSON.stringify(discovered)}`,
      );

      const push = await oras(
        [
          'push',
          '--registry-config',
          config('reader'),
          `${reg.host}/team/oras:reader`,
          'readme.txt',
        ],
        { cwd: src, allowFailure: true },
      );
      assertRefused(push, 'oras push as reader');
      t.diagnostic(`oras push as reader: ${refusal(push)}`);
      // new content: re-attaching dev's signature would only find it already there
      await writeFile(join(sigDir, 'reader-sig.json'), JSON.stringify({ nonce: secret() }));
      const attach = await oras(
        [
          'attach',
          '--registry-config',
          config('reader'),
          '--artifact-type',
          sigType,
          ref,
          'reader-sig.json:application/json',
        ],
        { cwd: sigDir, allowFailure: true },
      );
      assertRefused(attach, 'oras attach as reader');
      t.diagnostic(`oras attach as reader: ${refusal(attach)}`);
    },
  );

  it(
    'anonymous clients pull public repositories only, and never push',
    { timeout: TIMEOUT },
    async (t) => {
      const img = randomImage([200 * KiB, 2 * KiB], { gzip: true });
      const layout = join(work, 'public-layout');
      await writeOciLayout(layout, [{ tag: '1', content: img }]);
      await skopeo([
        'copy',
        '--quiet',
        '--preserve-digests',
        '--dest-tls-verify=false',
        '--authfile',
        authFile('skopeo', 'dev'),
        `oci:${layout}:1`,
        `docker://${reg.host}/public/base:1`,
      ]);

      const pulled = join(work, 'public-pulled');
      await skopeo([
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        '--src-no-creds',
        `docker://${reg.host}/public/base:1`,
        `oci:${pulled}:1`,
      ]);
      await assertSameImage(pulled, '1', img);

      const privatePull = await skopeo(
        [
          'copy',
          '--quiet',
          '--src-tls-verify=false',
          '--src-no-creds',
          `docker://${reg.host}/team/app:v1`,
          `oci:${join(work, 'private-pulled')}:v1`,
        ],
        true,
      );
      assertRefused(privatePull, 'anonymous skopeo pull of team/app');
      t.diagnostic(`anonymous pull of team/app: ${refusal(privatePull)}`);

      const anonymousPush = await skopeo(
        [
          'copy',
          '--quiet',
          '--dest-tls-verify=false',
          '--dest-no-creds',
          `oci:${layout}:1`,
          `docker://${reg.host}/public/base:2`,
        ],
        true,
      );
      assertRefused(anonymousPush, 'anonymous skopeo push to public/base');
      t.diagnostic(`anonymous push to public/base: ${refusal(anonymousPush)}`);
      assert.deepEqual(await api.tags('public/base'), ['1']);

      // crane with an empty DOCKER_CONFIG: the catalog is filtered down to what anonymous may pull
      await mkdir(join(work, 'auth', 'crane-anonymous'), { recursive: true });
      const digest = (await crane('anonymous', ['digest', `${reg.host}/public/base:1`])).stdout;
      assert.equal(digest.trim(), img.manifest.digest);
      const catalog = (await crane('anonymous', ['catalog', reg.host])).stdout.trim().split('\n');
      assert.deepEqual(catalog, ['public/base'], 'anonymous catalog lists non-public repositories');
      const readerCatalog = (await crane('reader', ['catalog', reg.host])).stdout
        .trim()
        .split('\n');
      for (const repo of ['ci/app', 'public/base', 'team/app', 'team/oras', 'team/podman']) {
        assert.ok(
          readerCatalog.includes(repo),
          `reader catalog ${readerCatalog.join(',')} lacks ${repo}`,
        );
      }
    },
  );

  it('clients given credentials directly, without a login', { timeout: TIMEOUT }, async () => {
    const img = randomImage([80 * KiB], { gzip: true });
    const layout = join(work, 'direct-layout');
    await writeOciLayout(layout, [{ tag: '1', content: img }]);
    await skopeo([
      'copy',
      '--quiet',
      '--preserve-digests',
      '--dest-tls-verify=false',
      '--dest-creds',
      `${dev.user}:${dev.password}`,
      `oci:${layout}:1`,
      `docker://${reg.host}/team/direct:1`,
    ]);
    const pulled = join(work, 'direct-pulled');
    await skopeo([
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--src-creds',
      `${reader.user}:${reader.password}`,
      `docker://${reg.host}/team/direct:1`,
      `oci:${pulled}:1`,
    ]);
    await assertSameImage(pulled, '1', img);
    const wrong = await skopeo(
      [
        'copy',
        '--quiet',
        '--src-tls-verify=false',
        '--src-creds',
        `${reader.user}:wrong-password`,
        `docker://${reg.host}/team/direct:1`,
        `oci:${join(work, 'direct-wrong')}:1`,
      ],
      true,
    );
    assertRefused(wrong, 'skopeo pull with a wrong --src-creds password');

    const src = join(work, 'oras-direct');
    await mkdir(src, { recursive: true });
    const data = randomBytes(40 * KiB);
    await writeFile(join(src, 'direct.bin'), data);
    // an empty registry config: the credentials come from the flags only
    const empty = join(work, 'auth', 'oras-empty.json');
    await oras(
      [
        'push',
        '--registry-config',
        empty,
        '-u',
        dev.user,
        '-p',
        dev.password,
        `${reg.host}/team/oras-direct:1`,
        'direct.bin',
      ],
      { cwd: src },
    );
    const out = join(work, 'oras-direct-out');
    await oras([
      'pull',
      '--registry-config',
      empty,
      '-u',
      reader.user,
      '-p',
      reader.password,
      `${reg.host}/team/oras-direct:1`,
      '-o',
      out,
    ]);
    assert.ok((await readFile(join(out, 'direct.bin'))).equals(data));
    assert.ok(!existsSync(empty), 'oras stored flag credentials in its registry config');
  });

  it(
    'revoking the CI access token refuses the bearer token a client already holds',
    { timeout: TIMEOUT },
    async () => {
      const scope = 'repository:ci/app:pull';
      const bearer = await api.bearer([scope], ci);
      const path = '/v2/ci/app/manifests/1';
      const okRes = await api.call('GET', path, `Bearer ${bearer}`, MediaType.ociManifest);
      assert.equal(okRes.status, 200, await okRes.text());

      const revoke = await api.adminCall('DELETE', `/principals/${ci.id}/tokens/${ci.tokenId}`);
      assert.equal(revoke.status, 204, await revoke.text());

      const res = await api.call('GET', path, `Bearer ${bearer}`, MediaType.ociManifest);
      const body = await res.text();
      assert.equal(
        res.status,
        401,
        `GET ${path} with a bearer token of a revoked access token: expected 401, got ${res.status} ${body}`,
      );
      assert.match(res.headers.get('www-authenticate') ?? '', /scope="repository:ci\/app:pull"/);
      assert.equal(
        (JSON.parse(body) as { errors: { code: string }[] }).errors[0]?.code,
        'UNAUTHORIZED',
      );
      // no new token for it either, and the client that logged in with it is locked out
      assert.equal((await api.token([scope], ci)).status, 401);
      const craneAfter = await crane('ci', ['digest', `${reg.host}/ci/app:1`], true);
      assertRefused(craneAfter, 'crane with a revoked access token');
      const tokens = await api.adminJson<{ id: string; revokedAt: string | null }[]>(
        'GET',
        `/principals/${ci.id}/tokens`,
        undefined,
        200,
      );
      assert.ok(tokens.find((x) => x.id === ci.tokenId)?.revokedAt, 'token not listed as revoked');
    },
  );

  it(
    'a role downgrade applies to the bearer token a client already holds',
    { timeout: TIMEOUT },
    async () => {
      const demoted: Credentials = { user: 'demoted', password: secret() };
      const id = await api.createPrincipal('user', demoted.user, 'developer', demoted.password);
      const bearer = await api.bearer(['repository:team/demoted:pull,push'], demoted);
      const path = '/v2/team/demoted/blobs/uploads/';
      const before = await api.call('POST', path, `Bearer ${bearer}`);
      assert.equal(before.status, 202, await before.text());
      await api.adminJson('PATCH', `/principals/${id}`, { role: 'reader' }, 200);
      // a new token carries the new role
      const fresh = await api.bearer(['repository:team/demoted:pull,push'], demoted);
      const denied = await api.call('POST', path, `Bearer ${fresh}`);
      assert.equal(denied.status, 403, await denied.text());
      // and so must the old one: PATCH /admin/v1/principals/:id documents "Change role, disable or
      // enable (takes effect on the next request)"
      const after = await api.call('POST', path, `Bearer ${bearer}`);
      assert.equal(
        after.status,
        403,
        'after PATCH /admin/v1/principals/:id {"role":"reader"}, POST ' +
          `${path} with the bearer token issued while the principal was a developer answered ` +
          `${after.status} ${await after.text()}; expected 403 DENIED (the admin API says a role ` +
          'change takes effect on the next request, but the guard trusts the push action in the ' +
          'token until it expires)',
      );
    },
  );

  it('refuses a token minted by another registry instance', { timeout: TIMEOUT }, async () => {
    // same administrator name and password, issuer and service: only the key ring differs
    const other = await startRegistry({
      env: {
        REGISTRY_AUTH: 'token',
        REGISTRY_ADMIN_USER: admin.user,
        REGISTRY_ADMIN_PASSWORD: admin.password,
        REGISTRY_RATE_LIMIT_REQUESTS: '0',
      },
    });
    try {
      const otherApi = new AuthApi(other.url, admin);
      const foreign = await otherApi.bearer(['repository:team/app:pull'], admin);
      // valid where it was minted (404: that registry has no team/app, but the token passed)
      const there = await otherApi.call('GET', '/v2/team/app/manifests/v1', `Bearer ${foreign}`);
      assert.equal(there.status, 404, await there.text());

      const jwks = (await (await fetch(`${reg.url}/auth/jwks`)).json()) as {
        keys: { kid: string }[];
      };
      const kid = jwtHeader(foreign).kid;
      assert.ok(kid !== undefined && !jwks.keys.some((k) => k.kid === kid), 'kid collision');

      const res = await api.call('GET', '/v2/team/app/manifests/v1', `Bearer ${foreign}`);
      const body = await res.text();
      assert.equal(
        res.status,
        401,
        `GET /v2/team/app/manifests/v1 with a token of another registry: expected 401, got ${res.status} ${body}`,
      );
      const base = await api.call('GET', '/v2/', `Bearer ${foreign}`);
      assert.equal(base.status, 401, 'GET /v2/ accepted a token of another registry');
      // and our own token for the same request works
      const own = await api.bearer(['repository:team/app:pull'], admin);
      const ok = await api.call(
        'GET',
        '/v2/team/app/manifests/v1',
        `Bearer ${own}`,
        MediaType.ociManifest,
      );
      assert.equal(ok.status, 200);
    } finally {
      await other.stop();
    }
  });

  it('leaves no credentials in the host credential stores', async () => {
    for (const file of hostCredentialFiles()) {
      if (!existsSync(file)) continue;
      const text = await readFile(file, 'utf8');
      assert.ok(!text.includes(reg.host), `${file} holds credentials for ${reg.host}`);
    }
  });
});

describe('brute force against the token endpoint', () => {
  let reg: RunningRegistry;
  let api: AuthApi;
  const admin: Credentials = { user: 'admin', password: secret() };
  const reader: Credentials = { user: 'reader', password: secret() };
  const cooldownSeconds = 3;

  before(async () => {
    reg = await startRegistry({
      env: {
        REGISTRY_AUTH: 'token',
        REGISTRY_ADMIN_USER: admin.user,
        REGISTRY_ADMIN_PASSWORD: admin.password,
        REGISTRY_RATE_LIMIT_REQUESTS: '0',
        REGISTRY_LOCKOUT_THRESHOLD: '10',
        REGISTRY_LOCKOUT_COOLDOWN_SECONDS: String(cooldownSeconds),
      },
    });
    api = new AuthApi(reg.url, admin);
    await api.createPrincipal('user', reader.user, 'reader', reader.password);
  });

  after(async () => {
    await reg?.stop();
  });

  it(
    'locks the user and the IP out with 429 + Retry-After, even for the right password, until the cool-down',
    { timeout: TIMEOUT },
    async (t) => {
      const scope = ['repository:team/app:pull'];
      const statuses: number[] = [];
      const retryAfter: (string | null)[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await api.token(scope, {
          user: reader.user,
          password: `wrong-${i}-${secret()}`,
        });
        statuses.push(res.status);
        retryAfter.push(res.headers.get('retry-after'));
        await res.arrayBuffer();
      }
      t.diagnostic(`statuses of 20 wrong passwords: ${statuses.join(',')}`);
      // the 10th failure starts the lockout; it is itself answered 401
      assert.deepEqual(statuses, [...Array<number>(10).fill(401), ...Array<number>(10).fill(429)]);
      for (const r of retryAfter.slice(10)) {
        const seconds = Number(r);
        assert.ok(seconds >= 1 && seconds <= cooldownSeconds, `Retry-After ${r}`);
      }

      const during = await api.token(scope, reader);
      assert.equal(during.status, 429, 'the right password was accepted during the lockout');
      const wait = Number(during.headers.get('retry-after'));
      assert.ok(wait >= 1 && wait <= cooldownSeconds, `Retry-After ${wait}`);
      const body = (await during.json()) as { errors: { code: string }[] };
      assert.equal(body.errors[0]?.code, 'TOOMANYREQUESTS');
      // the client IP is locked out too: another user's right password from it is refused
      const sameIp = await api.token(scope, admin);
      assert.equal(sameIp.status, 429, 'the IP lockout let another user in');

      await sleep(wait * 1000 + 300);
      const afterCooldown = await api.token(scope, reader);
      assert.equal(afterCooldown.status, 200, await afterCooldown.text());

      const audit = await api.adminCall('GET', '/audit?action=auth.lockout');
      if (audit.status === 404) {
        t.diagnostic('GET /admin/v1/audit?action=auth.lockout answered 404: no audit API yet');
        return;
      }
      assert.equal(audit.status, 200, await audit.clone().text());
      // audit writes may be batched: give them a moment
      let events: { action: string; principal?: string; detail?: unknown }[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await api.adminCall('GET', '/audit?action=auth.lockout');
        events = ((await res.json()) as { events: typeof events }).events;
        if (events.length > 0) break;
        await sleep(250);
      }
      t.diagnostic(`audit auth.lockout events: ${JSON.stringify(events)}`);
      assert.ok(
        events.length > 0 && events.every((e) => e.action === 'auth.lockout'),
        'GET /admin/v1/audit?action=auth.lockout answers 200 but lists no ' +
          'auth.lockout event 5 s after a lockout (the lockout must be recorded in the audit ' +
          `log, not only written to the process log): ${JSON.stringify(events)}`,
      );
    },
  );
});
