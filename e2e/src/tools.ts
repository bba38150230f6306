/**
 * Helpers shared by the end-to-end specs: running external tools, locating the Go tools built by
 * scripts/setup-tools.sh, random content generators (OCI image layouts, tar layers) and hashing.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/** Repository root (this file compiles to e2e/dist/tools.js). */
export const repoRoot = resolve(__dirname, '..', '..');

export type Target = 'berth' | 'distribution';

/** Which registry implementation the specs run against (`E2E_TARGET`, default our registry). */
export function e2eTarget(): Target {
  const t = process.env['E2E_TARGET'] ?? 'berth';
  if (t === 'berth' || t === '') return 'berth';
  if (t === 'distribution') return 'distribution';
  throw new Error(`E2E_TARGET must be unset, "berth" or "distribution", got ${JSON.stringify(t)}`);
}

// ------------------------------------------------------------------ running commands

export interface RunOptions {
  timeoutMs?: number;
  cwd?: string;
  /** Merged over process.env. */
  env?: Record<string, string>;
  input?: string | Buffer;
  /** Resolve with a non-zero exit code instead of rejecting. */
  allowFailure?: boolean;
  /** Keep stdout as raw bytes (e.g. for tar output); `stdout` is then latin1-decoded. */
  binary?: boolean;
}

export interface RunResult {
  command: string;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
}

const MAX_OUTPUT_IN_ERROR = 8000;

function tail(text: string, max = MAX_OUTPUT_IN_ERROR): string {
  return text.length <= max ? text : `…(${text.length - max} chars cut)…\n${text.slice(-max)}`;
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

/** Runs a command to completion, capturing its output; rejects with the output on failure. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions = {},
): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const command = [cmd, ...args].map(quoteArg).join(' ');
  const started = Date.now();
  return new Promise<RunResult>((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`failed to start ${command}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      const result: RunResult = {
        command,
        stdoutBytes,
        stdout: stdoutBytes.toString(opts.binary ? 'latin1' : 'utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        code,
        signal,
        durationMs: Date.now() - started,
      };
      if (timedOut) {
        reject(new Error(`${command} timed out after ${timeoutMs} ms\n${describeOutput(result)}`));
      } else if (code !== 0 && !opts.allowFailure) {
        reject(
          new Error(
            `${command} exited with ${code ?? `signal ${signal ?? '?'}`}\n${describeOutput(result)}`,
          ),
        );
      } else {
        resolvePromise(result);
      }
    });
    child.stdin.on('error', () => undefined); // the command may exit without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

function describeOutput(r: RunResult): string {
  const parts: string[] = [];
  if (r.stdout.trim() !== '') parts.push(`--- stdout ---\n${tail(r.stdout)}`);
  if (r.stderr.trim() !== '') parts.push(`--- stderr ---\n${tail(r.stderr)}`);
  return parts.length > 0 ? parts.join('\n') : '(no output)';
}

// ------------------------------------------------------------------ tools

export type GoTool = 'crane' | 'oras' | 'conformance';

export function toolsDir(): string {
  return process.env['BERTH_TOOLS_DIR'] ?? join(homedir(), '.cache', 'berth-tools');
}

/** Path of a Go tool installed by scripts/setup-tools.sh; throws a clear error if missing. */
export function toolPath(name: GoTool): string {
  const p = join(toolsDir(), 'bin', name);
  if (!existsSync(p)) {
    throw new Error(
      `${name} not found at ${p}: run scripts/setup-tools.sh (or set BERTH_TOOLS_DIR)`,
    );
  }
  return p;
}

/** Checks that a command is on PATH (Debian packages installed by scripts/setup-tools.sh). */
export async function requireCommand(name: string): Promise<void> {
  const r = await run('sh', ['-c', `command -v ${quoteArg(name)}`], { allowFailure: true });
  if (r.code !== 0) {
    throw new Error(`${name} is not installed: run scripts/setup-tools.sh`);
  }
}

// ------------------------------------------------------------------ hashing

export type Digest = `sha256:${string}`;

export function sha256(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function sha256File(path: string): Promise<Digest> {
  return new Promise((resolvePromise, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (b) => h.update(b))
      .on('error', reject)
      .on('end', () => resolvePromise(`sha256:${h.digest('hex')}`));
  });
}

/** sha256 of every regular file under `dir`, keyed by path relative to `dir` (sorted). */
export async function sha256Tree(dir: string): Promise<Map<string, Digest>> {
  const result = new Map<string, Digest>();
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) result.set(relative(dir, p), await sha256File(p));
    }
  };
  await walk(dir);
  return result;
}

/** One digest for a whole directory tree: sha256 over "path\0digest\n" lines. */
export async function sha256Dir(dir: string): Promise<Digest> {
  const tree = await sha256Tree(dir);
  const h = createHash('sha256');
  for (const [p, d] of tree) h.update(`${p}\0${d}\n`);
  return `sha256:${h.digest('hex')}`;
}

export function hexOf(digest: string): string {
  const i = digest.indexOf(':');
  return i < 0 ? digest : digest.slice(i + 1);
}

// ------------------------------------------------------------------ temp dirs

export async function makeTempDir(prefix: string): Promise<string> {
  const base = process.env['E2E_TMPDIR'] ?? tmpdir();
  await mkdir(base, { recursive: true });
  return mkdtemp(join(base, `berth-e2e-${prefix}-`));
}

export async function removeDir(dir: string): Promise<void> {
  if (process.env['E2E_KEEP'] === '1') return;
  await rm(dir, { recursive: true, force: true });
}

/** Short random lowercase id, usable in repository names and database names. */
export function randomId(bytes = 6): string {
  return randomBytes(bytes).toString('hex');
}

// ------------------------------------------------------------------ tar

export interface TarEntry {
  name: string;
  data: Buffer;
  mode?: number;
}

function tarHeader(name: string, size: number, mode: number, type: '0' | '5' | 'x'): Buffer {
  const h = Buffer.alloc(512, 0);
  const nameBytes = Buffer.from(name, 'utf8');
  if (nameBytes.length > 100) throw new Error(`tar name too long for this writer: ${name}`);
  nameBytes.copy(h, 0);
  const octal = (n: number, len: number): string => n.toString(8).padStart(len - 1, '0') + '\0';
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii'); // mtime: fixed for reproducible layers
  h.write('        ', 148, 'ascii'); // checksum placeholder
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** A minimal ustar archive (regular files; parent directories are added automatically). */
export function makeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  const dirs = new Set<string>();
  for (const e of entries) {
    const segs = e.name.split('/');
    for (let i = 1; i < segs.length; i++) {
      const d = `${segs.slice(0, i).join('/')}/`;
      if (!dirs.has(d)) {
        dirs.add(d);
        parts.push(tarHeader(d, 0, 0o755, '5'));
      }
    }
    parts.push(tarHeader(e.name, e.data.length, e.mode ?? 0o644, '0'));
    parts.push(e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad > 0) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** Reads regular files from a tar (gzip detected by magic); handles PAX and GNU long names. */
export function readTar(archive: Buffer): Map<string, Buffer> {
  const buf = archive[0] === 0x1f && archive[1] === 0x8b ? gunzipSync(archive) : archive;
  const files = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  const field = (start: number, len: number): string =>
    buf
      .subarray(start, start + len)
      .toString('utf8')
      .replace(/\0.*$/s, '');
  while (off + 512 <= buf.length) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const size = parseInt(field(off + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] ?? 0);
    const prefix = field(off + 345, 155);
    const baseName = field(off, 100);
    const dataStart = off + 512;
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(data.toString('utf8'));
      if (m?.[1] !== undefined) longName = m[1];
      continue;
    }
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0.*$/s, '');
      continue;
    }
    if (type === 'g') continue;
    const name = (longName ?? (prefix !== '' ? `${prefix}/${baseName}` : baseName)).replace(
      /^\.\//,
      '',
    );
    longName = undefined;
    if (type === '0' || type === '\0' || type === '7') files.set(name, Buffer.from(data));
  }
  return files;
}

// ------------------------------------------------------------------ OCI content

export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerTar: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** Accept header that asks for every manifest kind a registry may hold. */
export const MANIFEST_ACCEPT = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerList,
].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export function isIndex(m: unknown): m is ImageIndex {
  return typeof m === 'object' && m !== null && Array.isArray((m as ImageIndex).manifests);
}

/** A blob with its bytes in memory. */
export interface Blob {
  digest: Digest;
  size: number;
  data: Buffer;
  mediaType: string;
}

export function blobOf(data: Buffer, mediaType: string): Blob {
  return { digest: sha256(data), size: data.length, data, mediaType };
}

export function descriptorOf(b: Blob, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size, ...extra };
}

/** A tar layer holding one file of incompressible random bytes (optionally gzipped). */
export function randomLayer(
  contentBytes: number,
  opts: { gzip?: boolean; name?: string } = {},
): { blob: Blob; diffId: Digest; files: Map<string, Buffer> } {
  const name = opts.name ?? `data/${randomId()}.bin`;
  const content = randomBytes(contentBytes);
  const tar = makeTar([{ name, data: content }]);
  const diffId = sha256(tar);
  const data = opts.gzip ? gzipSync(tar, { level: 1 }) : tar;
  return {
    blob: blobOf(data, opts.gzip ? MediaType.ociLayerGzip : MediaType.ociLayerTar),
    diffId,
    files: new Map([[name, content]]),
  };
}

export interface GeneratedImage {
  manifest: Blob;
  config: Blob;
  layers: Blob[];
  /** All blobs (config + layers), manifest excluded. */
  blobs: Blob[];
  platform: { os: string; architecture: string };
  files: Map<string, Buffer>;
}

/** An OCI image manifest + config + random layers, all in memory. */
export function randomImage(
  layerSizes: readonly number[],
  opts: {
    platform?: { os: string; architecture: string };
    gzip?: boolean;
    annotations?: Record<string, string>;
  } = {},
): GeneratedImage {
  const platform = opts.platform ?? { os: 'linux', architecture: 'amd64' };
  const layers = layerSizes.map((s) => randomLayer(s, { gzip: opts.gzip ?? false }));
  const config = blobOf(
    Buffer.from(
      JSON.stringify({
        architecture: platform.architecture,
        os: platform.os,
        created: '2026-01-01T00:00:00Z',
        config: { Labels: { 'org.berth.e2e': randomId() } },
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: layers.map(() => ({ created_by: 'berth e2e random layer' })),
      }),
    ),
    MediaType.ociConfig,
  );
  const manifestBody: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: descriptorOf(config),
    layers: layers.map((l) => descriptorOf(l.blob)),
    ...(opts.annotations ? { annotations: opts.annotations } : {}),
  };
  const manifest = blobOf(Buffer.from(JSON.stringify(manifestBody)), MediaType.ociManifest);
  const files = new Map<string, Buffer>();
  for (const l of layers) for (const [k, v] of l.files) files.set(k, v);
  return {
    manifest,
    config,
    layers: layers.map((l) => l.blob),
    blobs: [config, ...layers.map((l) => l.blob)],
    platform,
    files,
  };
}

export interface GeneratedIndex {
  index: Blob;
  images: GeneratedImage[];
}

/** A multi-platform OCI index over freshly generated images. */
export function randomIndex(
  platforms: readonly { os: string; architecture: string }[],
  layerSizes: readonly number[],
): GeneratedIndex {
  const images = platforms.map((p) => randomImage(layerSizes, { platform: p }));
  const body: ImageIndex = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map((img) => descriptorOf(img.manifest, { platform: img.platform })),
  };
  return { index: blobOf(Buffer.from(JSON.stringify(body)), MediaType.ociIndex), images };
}

const REF_NAME = 'org.opencontainers.image.ref.name';

async function writeBlob(layoutDir: string, b: Blob): Promise<void> {
  const dir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, hexOf(b.digest)), b.data);
}

/**
 * Writes an OCI image layout directory (usable as `oci:<dir>:<tag>` by skopeo) holding the
 * given images/indexes, each tagged with its ref name.
 */
export async function writeOciLayout(
  dir: string,
  entries: readonly { tag: string; content: GeneratedImage | GeneratedIndex }[],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const top: Descriptor[] = [];
  for (const { tag, content } of entries) {
    const images = 'index' in content ? content.images : [content];
    for (const img of images) {
      for (const b of [...img.blobs, img.manifest]) await writeBlob(dir, b);
    }
    const root = 'index' in content ? content.index : content.manifest;
    await writeBlob(dir, root);
    top.push(descriptorOf(root, { annotations: { [REF_NAME]: tag } }));
  }
  const index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: top };
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
}

export interface LayoutContent {
  /** Root descriptor (manifest or index) for the tag. */
  root: Descriptor;
  /** Every manifest reachable from the root (root included), by digest. */
  manifests: Map<string, Buffer>;
  /** Digests of every config/layer blob reachable from the root. */
  blobDigests: Set<string>;
}

/**
 * Reads the content reachable from `tag` in an OCI layout and verifies that every blob file
 * hashes to its name.
 */
export async function readOciLayout(dir: string, tag?: string): Promise<LayoutContent> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  const root =
    tag === undefined
      ? index.manifests[0]
      : index.manifests.find((d) => d.annotations?.[REF_NAME] === tag);
  if (root === undefined) throw new Error(`tag ${tag ?? '(first)'} not found in ${dir}/index.json`);
  const manifests = new Map<string, Buffer>();
  const blobDigests = new Set<string>();
  const readVerified = async (digest: string): Promise<Buffer> => {
    const [alg, hex] = digest.split(':');
    const data = await readFile(join(dir, 'blobs', alg ?? 'sha256', hex ?? ''));
    if (sha256(data) !== digest)
      throw new Error(`blob ${digest} in ${dir} does not match its digest`);
    return data;
  };
  const visit = async (d: Descriptor): Promise<void> => {
    const data = await readVerified(d.digest);
    manifests.set(d.digest, data);
    const parsed = JSON.parse(data.toString('utf8')) as unknown;
    if (isIndex(parsed)) {
      for (const child of parsed.manifests) await visit(child);
    } else {
      const m = parsed as ImageManifest;
      for (const b of [m.config, ...m.layers]) {
        await readVerified(b.digest);
        blobDigests.add(b.digest);
      }
    }
  };
  await visit(root);
  return { root, manifests, blobDigests };
}

/** Size of a file in bytes. */
export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

// ------------------------------------------------------------------ misc

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Small seeded PRNG (mulberry32) for reproducible random schedules; seed from E2E_SEED. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function envSeed(): number {
  const s = process.env['E2E_SEED'];
  return s !== undefined && s !== '' ? Number(s) >>> 0 : randomBytes(4).readUInt32LE(0);
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
