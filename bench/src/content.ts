import { createHash, randomFillSync, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/**
 * Test content: random (incompressible) bytes generated locally. Every blob's digest is
 * computed once, before any timed phase, so the load generator never hashes while it pushes.
 */
export interface BlobSource {
  digest: string;
  size: number;
  /** The bytes [start, end) as a stream or buffer. */
  body(start?: number, end?: number): Readable | Buffer;
}

const POOL_STRIDE = 4099; // a prime: blobs at different offsets never share an alignment

/** A pool of random bytes; small blobs are distinct windows into it (no copies). */
export class RandomPool {
  readonly bytes: Buffer;
  private cursor = 0;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
    randomFillSync(this.bytes);
  }

  /** The next `count` distinct blobs of `size` bytes (digests computed now). */
  take(count: number, size: number): MemoryBlob[] {
    const slots = Math.floor((this.bytes.length - size) / POOL_STRIDE);
    if (slots < 1) throw new Error(`random pool too small for ${size}-byte blobs`);
    const blobs: MemoryBlob[] = [];
    for (let i = 0; i < count; i++) {
      const slot = this.cursor++;
      if (slot >= slots) throw new Error('random pool exhausted: raise its size');
      const offset = slot * POOL_STRIDE;
      blobs.push(new MemoryBlob(this.bytes.subarray(offset, offset + size)));
    }
    return blobs;
  }
}

export class MemoryBlob implements BlobSource {
  readonly digest: string;
  readonly size: number;

  constructor(readonly bytes: Buffer) {
    this.size = bytes.length;
    this.digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  }

  body(start = 0, end = this.size): Buffer {
    return this.bytes.subarray(start, end);
  }
}

/**
 * A large blob: a pre-generated random file plus a short suffix. The file is hashed once;
 * each variant (different suffix) costs only a copy of that hash state, so every round can
 * push fresh content without generating or hashing another 256 MiB.
 */
export class FileBlobBase {
  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly hash: Hash,
  ) {}

  static async generate(path: string, size: number): Promise<FileBlobBase> {
    const hash = createHash('sha256');
    const out = createWriteStream(path, { highWaterMark: 4 * 1024 * 1024 });
    const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
    let left = size;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      randomFillSync(chunk, 0, n);
      const piece = Buffer.from(chunk.subarray(0, n));
      hash.update(piece);
      if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
      left -= n;
    }
    out.end();
    await finished(out);
    return new FileBlobBase(path, size, hash);
  }

  variant(tag: string): FileBlob {
    const suffix = Buffer.from(createHash('sha256').update(tag).digest());
    const digest = `sha256:${this.hash.copy().update(suffix).digest('hex')}`;
    return new FileBlob(this.path, this.size, suffix, digest);
  }
}

export class FileBlob implements BlobSource {
  readonly size: number;

  constructor(
    private readonly path: string,
    private readonly fileSize: number,
    private readonly suffix: Buffer,
    readonly digest: string,
  ) {
    this.size = fileSize + suffix.length;
  }

  body(start = 0, end = this.size): Readable {
    const { path, fileSize, suffix } = this;
    async function* bytes(): AsyncGenerator<Buffer> {
      if (start < fileSize) {
        const stream = createReadStream(path, {
          start,
          end: Math.min(end, fileSize) - 1,
          highWaterMark: 1024 * 1024,
        });
        for await (const chunk of stream) yield chunk as Buffer;
      }
      if (end > fileSize) {
        yield suffix.subarray(Math.max(0, start - fileSize), end - fileSize);
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }
}

// --- OCI image layouts for skopeo ---------------------------------------------------------

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';
export const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface LayoutInfo {
  dir: string;
  tag: string;
  manifestDigest: string;
  blobs: Descriptor[];
  totalBytes: number;
}

/**
 * Writes an OCI image layout (oci-layout, index.json, blobs/sha256/*) with `layers` layers of
 * `layerSize` random bytes each. Layers are gzip streams of stored (level 0) deflate blocks:
 * real gzip, so skopeo keeps them as they are instead of compressing them on push, and
 * incompressible, so their size is the random payload's.
 */
export async function writeOciLayout(
  dir: string,
  layers: number,
  layerSize: number,
  tag = 'latest',
): Promise<LayoutInfo> {
  const blobDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const layerDescriptors: Descriptor[] = [];
  const diffIds: string[] = [];
  const chunk = Buffer.allocUnsafe(Math.min(layerSize, 4 * 1024 * 1024));
  for (let i = 0; i < layers; i++) {
    const temp = join(dir, `layer-${i}.tmp`);
    const raw = createHash('sha256');
    const packed = createHash('sha256');
    let packedSize = 0;
    const gzip = createGzip({ level: 0 });
    const out = createWriteStream(temp);
    gzip.on('data', (data: Buffer) => {
      packed.update(data);
      packedSize += data.length;
      if (!out.write(data)) {
        gzip.pause();
        out.once('drain', () => gzip.resume());
      }
    });
    const gzipDone = new Promise<void>((resolve, reject) => {
      gzip.once('end', resolve);
      gzip.once('error', reject);
    });
    let left = layerSize;
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      randomFillSync(chunk, 0, n);
      const piece = Buffer.from(chunk.subarray(0, n));
      raw.update(piece);
      if (!gzip.write(piece)) await new Promise<void>((r) => gzip.once('drain', () => r()));
      left -= n;
    }
    gzip.end();
    await gzipDone;
    out.end();
    await finished(out);
    const digest = `sha256:${packed.digest('hex')}`;
    await rename(temp, join(blobDir, digest.slice(7)));
    layerDescriptors.push({ mediaType: OCI_LAYER_GZIP, digest, size: packedSize });
    diffIds.push(`sha256:${raw.digest('hex')}`);
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
      history: diffIds.map(() => ({ created_by: 'berth bench', comment: 'random layer' })),
    }),
  );
  const configDescriptor = await writeBlob(blobDir, config, OCI_CONFIG);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: configDescriptor,
      layers: layerDescriptors,
    }),
  );
  const manifestDescriptor = await writeBlob(blobDir, manifest, OCI_MANIFEST);
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { ...manifestDescriptor, annotations: { 'org.opencontainers.image.ref.name': tag } },
      ],
    }),
  );
  const blobs = [configDescriptor, ...layerDescriptors];
  return {
    dir,
    tag,
    manifestDigest: manifestDescriptor.digest,
    blobs,
    totalBytes: blobs.reduce((sum, b) => sum + b.size, 0) + manifest.length,
  };
}

async function writeBlob(blobDir: string, bytes: Buffer, mediaType: string): Promise<Descriptor> {
  const hex = createHash('sha256').update(bytes).digest('hex');
  await writeFile(join(blobDir, hex), bytes);
  return { mediaType, digest: `sha256:${hex}`, size: bytes.length };
}

/** A tiny image (config + one layer + manifest) used to seed tags and repositories. */
export interface TinyImage {
  config: MemoryBlob;
  layer: MemoryBlob;
  manifest: Buffer;
  manifestDigest: string;
}

export function tinyImage(label: string): TinyImage {
  const layer = new MemoryBlob(Buffer.from(`berth bench tiny layer ${label}\n`));
  const config = new MemoryBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: { bench: label } },
        rootfs: { type: 'layers', diff_ids: [layer.digest] },
      }),
    ),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: [{ mediaType: OCI_LAYER_TAR, digest: layer.digest, size: layer.size }],
    }),
  );
  return {
    config,
    layer,
    manifest,
    manifestDigest: `sha256:${createHash('sha256').update(manifest).digest('hex')}`,
  };
}
