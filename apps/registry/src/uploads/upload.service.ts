import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { pipeline, type Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { OciError, OciErrorCode, parseDigest, type Digest } from '@berth/oci';
import { StorageLayout, type ByteRange, type StorageDriver } from '@berth/storage';
import { BlobService, type BlobInfo } from '../blobs/blob.service';
import { MetricsService } from '../observability/metrics.service';
import { STORAGE_DRIVER } from '../storage/storage.module';
import { UsageService } from '../usage/usage.service';
import { WriteGateService } from '../write-gate/write-gate.service';
import { BodyLengthError, HashingStream } from './hashing-stream';
import { HashPool, type Hasher } from './hashing/hash-pool';
import { KeyedMutex } from './keyed-mutex';

export interface UploadState {
  id: string;
  repository: string;
  /** Bytes received so far. */
  size: number;
}

export interface ChunkOptions {
  /** The chunk's `Content-Range`, when the client sent one. */
  range?: ByteRange;
  /** The request's `Content-Length`, when known. */
  contentLength?: number;
}

interface RunningHash {
  offset: number;
  hasher: Hasher;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_RUNNING_HASHES = 10_000;

/**
 * Blob upload sessions (monolithic, chunked and streamed). Bytes are hashed while they
 * stream, on a worker thread of `HashPool` for all but small bodies; the running SHA-256 of
 * each open upload is kept (in that worker) between chunks and, when
 * it is missing (another process took an earlier chunk, or the digest is sha512), the
 * upload is hashed again from storage before it is committed. Nothing becomes visible until
 * the digest is verified: the bytes are moved into place, then the metadata is written.
 *
 * Requests that would add bytes (a new upload, a chunk, a final chunk) first ask the write
 * gate (quota, maintenance), before reading the body. A request already streaming when the
 * gate closes finishes; completing an upload without a final chunk adds nothing and is
 * always accepted. Every change of stored or received bytes is reported to `UsageService`.
 */
@Injectable()
export class UploadService {
  private readonly mutex = new KeyedMutex();
  private readonly hashes = new Map<string, RunningHash>();

  constructor(
    private readonly db: DataSource,
    private readonly blobs: BlobService,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly layout: StorageLayout,
    private readonly metrics: MetricsService,
    private readonly gate: WriteGateService,
    private readonly usage: UsageService,
    private readonly hashers: HashPool,
  ) {}

  async start(repository: string): Promise<UploadState> {
    await this.gate.assertWritable();
    const id = randomUUID();
    await this.storage.createUpload(id);
    await this.db.query('INSERT INTO uploads (id, repository_name) VALUES ($1, $2)', [
      id,
      repository,
    ]);
    this.usage.uploadStarted();
    return { id, repository, size: 0 };
  }

  async status(repository: string, id: string): Promise<UploadState> {
    if (!UUID_PATTERN.test(id)) throw unknownUpload(id);
    const rows: { size: string }[] = await this.db.query(
      'SELECT size FROM uploads WHERE id = $1 AND repository_name = $2',
      [id, repository],
    );
    const row = rows[0];
    if (!row) throw unknownUpload(id);
    return { id, repository, size: Number(row.size) };
  }

  /** PATCH: appends a chunk (with `Content-Range`) or a stream (without) at the current end. */
  async append(
    repository: string,
    id: string,
    body: Readable,
    options: ChunkOptions,
  ): Promise<UploadState> {
    await this.gate.assertWritable();
    return this.mutex.run(id, async () => {
      const upload = await this.status(repository, id);
      return this.appendLocked(upload, body, options);
    });
  }

  /** PUT: appends an optional last chunk, verifies the digest and commits the blob. */
  async complete(
    repository: string,
    id: string,
    digestParam: string | undefined,
    body: Readable | undefined,
    options: ChunkOptions,
  ): Promise<BlobInfo> {
    const digest = requireDigest(digestParam);
    if (body) await this.gate.assertWritable();
    return this.mutex.run(id, async () => {
      let upload = await this.status(repository, id);
      // The final chunk's size is written to the row only if the upload does not end here.
      const sizeRecorded = !body;
      if (body) upload = await this.appendLocked(upload, body, options, { recordSize: false });
      try {
        return await this.verifyAndCommit(upload, digest);
      } catch (err) {
        // The upload lives on (a failed commit can be retried): its row must match storage.
        if (!sizeRecorded) await this.recordSize(upload).catch(noop);
        throw err;
      }
    });
  }

  /** Checks the digest (discarding the upload on a mismatch) and commits the blob. */
  private async verifyAndCommit(upload: UploadState, digest: Digest): Promise<BlobInfo> {
    const { id, repository } = upload;
    const running = this.hashes.get(id);
    let actual: string | undefined;
    if (digest.algorithm === 'sha256' && running && running.offset === upload.size) {
      // A failed worker loses the state; the bytes in storage are still there to hash.
      actual = await running.hasher.digest().then(
        (hex) => `sha256:${hex}`,
        () => undefined,
      );
    }
    actual ??= await this.rehash(id, digest);
    if (actual !== digest.value) {
      await this.discard(id, upload.size);
      throw new OciError(
        OciErrorCode.DIGEST_INVALID,
        `uploaded content has digest ${actual}, not ${digest.value}`,
      );
    }
    if (await this.commit(id, repository, digest.value, upload.size, id)) {
      this.usage.uploadEnded(upload.size);
    }
    this.forgetHash(id);
    return { digest: digest.value, size: upload.size };
  }

  /** POST with `?digest=`: the whole blob in one request, verified as it streams. */
  async uploadMonolithic(
    repository: string,
    digestParam: string,
    body: Readable,
    contentLength: number | undefined,
  ): Promise<BlobInfo> {
    const digest = requireDigest(digestParam);
    await this.gate.assertWritable();
    const id = randomUUID();
    await this.storage.createUpload(id);
    const hasher = this.hashers.create(digest.algorithm, contentLength);
    try {
      const hashing = new HashingStream(hasher, contentLength);
      const size = await this.storage.writeUpload(id, 0, pipeline(body, hashing, noop));
      this.metrics.bytesReceived(hashing.bytes);
      const actual = `${digest.algorithm}:${await hasher.digest()}`;
      if (actual !== digest.value) {
        throw new OciError(
          OciErrorCode.DIGEST_INVALID,
          `uploaded content has digest ${actual}, not ${digest.value}`,
        );
      }
      await this.commit(id, repository, digest.value, size);
      return { digest: digest.value, size };
    } catch (err) {
      await this.storage.deleteUpload(id).catch(noop);
      throw mapBodyError(err);
    } finally {
      hasher.dispose();
    }
  }

  async cancel(repository: string, id: string): Promise<void> {
    await this.mutex.run(id, async () => {
      const upload = await this.status(repository, id);
      await this.discard(id, upload.size);
    });
  }

  private async appendLocked(
    upload: UploadState,
    body: Readable,
    { range, contentLength }: ChunkOptions,
    { recordSize } = { recordSize: true },
  ): Promise<UploadState> {
    let expected = contentLength;
    if (range) {
      if (range.start !== upload.size) throw outOfOrder(upload, range);
      const rangeLength = range.end - range.start + 1;
      if (contentLength !== undefined && contentLength !== rangeLength) {
        throw new OciError(
          OciErrorCode.RANGE_INVALID,
          `Content-Range covers ${rangeLength} bytes but Content-Length is ${contentLength}`,
          { status: 416, headers: uploadHeaders(upload) },
        );
      }
      expected = rangeLength;
    }
    // The running hash goes on from where the last chunk left it (on a copy, so that a failed
    // chunk leaves it as it was). Without one, hashing this chunk alone would be useless: the
    // upload is hashed from storage when it completes.
    const running = this.hashes.get(upload.id);
    const hasher =
      running && running.offset === upload.size
        ? running.hasher.copy()
        : upload.size === 0
          ? this.hashers.create('sha256', expected)
          : undefined;
    const hashing = new HashingStream(hasher, expected);
    let size: number;
    try {
      size = await this.storage.writeUpload(upload.id, upload.size, pipeline(body, hashing, noop));
    } catch (err) {
      hasher?.dispose();
      throw mapBodyError(err);
    }
    this.metrics.bytesReceived(hashing.bytes);
    if (recordSize) await this.recordSize({ ...upload, size });
    this.usage.uploadGrew(size - upload.size);
    if (hasher) this.rememberHash(upload.id, { offset: size, hasher });
    else this.forgetHash(upload.id);
    return { ...upload, size };
  }

  private async recordSize(upload: UploadState): Promise<void> {
    await this.db.query('UPDATE uploads SET size = $1, updated_at = now() WHERE id = $2', [
      upload.size,
      upload.id,
    ]);
  }

  private async rehash(id: string, digest: Digest): Promise<string> {
    const hasher = this.hashers.create(digest.algorithm);
    try {
      const content = await this.storage.readUpload(id);
      for await (const chunk of content) await hasher.update(chunk as Buffer);
      return `${digest.algorithm}:${await hasher.digest()}`;
    } finally {
      hasher.dispose();
    }
  }

  /** Moves the bytes into place and links the blob; with `uploadRow`, ends that row too. */
  private async commit(
    id: string,
    repository: string,
    digest: string,
    size: number,
    uploadRow?: string,
  ): Promise<boolean> {
    const key = this.layout.blob(digest);
    // Under the blob's row lock, which garbage collection also takes before it deletes bytes:
    // either collection finished first (the bytes are gone and ours go in), or it waits and
    // then sees the new link.
    const { created, uploadEnded } = await this.blobs.link(
      repository,
      digest,
      size,
      async () => {
        if ((await this.storage.stat(key)) !== undefined) {
          // Same bytes already stored (another repository, or a concurrent push): keep those.
          await this.storage.deleteUpload(id);
        } else {
          await this.storage.commitUpload(id, key);
        }
      },
      uploadRow,
    );
    if (created) this.usage.blobStored(size);
    return uploadEnded;
  }

  private async discard(id: string, size: number): Promise<void> {
    this.forgetHash(id);
    await this.removeRow(id, size);
    await this.storage.deleteUpload(id);
  }

  /** Ends the upload session's row (unless garbage collection purged it meanwhile). */
  private async removeRow(id: string, size: number): Promise<void> {
    const result: [unknown[], number] = await this.db.query('DELETE FROM uploads WHERE id = $1', [
      id,
    ]);
    if (result[1] > 0) this.usage.uploadEnded(size);
  }

  private rememberHash(id: string, running: RunningHash): void {
    this.forgetHash(id);
    if (this.hashes.size >= MAX_RUNNING_HASHES) {
      const oldest = this.hashes.keys().next().value;
      if (oldest !== undefined) this.forgetHash(oldest);
    }
    this.hashes.set(id, running);
  }

  private forgetHash(id: string): void {
    this.hashes.get(id)?.hasher.dispose();
    this.hashes.delete(id);
  }
}

/** Headers that tell a client where an upload stands. */
export function uploadHeaders(upload: UploadState): Record<string, string> {
  return {
    Location: `/v2/${upload.repository}/blobs/uploads/${upload.id}`,
    Range: `0-${Math.max(upload.size - 1, 0)}`,
    'Docker-Upload-UUID': upload.id,
  };
}

function requireDigest(value: string | undefined): Digest {
  if (value === undefined || value === '') {
    throw new OciError(OciErrorCode.DIGEST_INVALID, 'the digest query parameter is required');
  }
  return parseDigest(value);
}

function unknownUpload(id: string): OciError {
  return new OciError(OciErrorCode.BLOB_UPLOAD_UNKNOWN, `upload ${id} is not known`);
}

function outOfOrder(upload: UploadState, range: ByteRange): OciError {
  return new OciError(
    OciErrorCode.RANGE_INVALID,
    `chunk starts at ${range.start} but the upload has ${upload.size} bytes`,
    { status: 416, headers: uploadHeaders(upload) },
  );
}

function mapBodyError(err: unknown): unknown {
  if (err instanceof BodyLengthError) {
    return new OciError(OciErrorCode.SIZE_INVALID, err.message);
  }
  return err;
}

function noop(): void {}
