import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  paginateListObjectsV2,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Readable } from 'node:stream';
import { assertByteRange, assertUploadOffset, toBuffer } from './driver-support';
import { PartBuffer } from './part-buffer';
import {
  emptyS3UploadState,
  parseS3UploadState,
  s3UploadObjectNames,
  s3UploadSize,
  type S3UploadPart,
  type S3UploadSegment,
  type S3UploadState,
} from './s3-upload-state';
import type { ByteRange, ObjectInfo, StorageDriver } from './storage-driver';
import { StorageNotFoundError } from './storage-driver';
import { StorageLayout } from './storage-layout';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
/** S3's minimum size of every multipart part but the last. */
const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part, and largest single CopyObject. */
const MAX_PART_SIZE = 5 * GiB;
const MAX_PARTS = 10_000;
const STATE_NAME = 'state.json';

export interface S3StorageDriverOptions {
  /** Custom endpoint (MinIO, Ceph, R2…); omit for AWS. */
  endpoint?: string;
  region: string;
  bucket: string;
  /** Static credentials; when omitted the AWS default provider chain is used. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Path-style addressing; defaults to true when `endpoint` is set, false otherwise. */
  forcePathStyle?: boolean;
  /** Key prefix inside the bucket (e.g. `registry/`), so that a bucket can be shared. */
  prefix?: string;
  /** Whether `presignedReadUrl` hands out presigned GET URLs (else it returns undefined). */
  presignedReads?: boolean;
  /**
   * Size of the parts `writeUpload` cuts bodies into; each write in flight holds one part in
   * memory, and an upload can have at most 10,000 parts (78 GiB at the default 8 MiB).
   * Between 5 MiB and 512 MiB.
   */
  partSize?: number;
  /**
   * Committed objects larger than this are copied to their key with a multipart copy instead
   * of one CopyObject. Default and maximum: 5 GiB, the S3 limit of CopyObject.
   */
  multipartCopyThreshold?: number;
  /** Target size of each UploadPartCopy range in a multipart copy (default 1 GiB, at most 5 GiB). */
  copyPartSize?: number;
}

/**
 * Storage in an S3 bucket (AWS or any S3-compatible server). Objects are `<prefix><key>`;
 * `put` is a PutObject and commits are CopyObject / CompleteMultipartUpload, all atomic in S3.
 *
 * Uploads are S3 multipart uploads fed by arbitrary-sized chunks: each `writeUpload` streams
 * its body through a one-part buffer, uploads every full part, and stores the remainder below
 * the 5 MiB part minimum as a small `tail-<n>` object that is prepended to the next write. The
 * bookkeeping lives in `uploads/<id>/state.json` and is replaced only after a write succeeded,
 * so a failed write can be retried at the same offset. See docs/storage-layout.md.
 *
 * Concurrent calls on the same upload id are the caller's to prevent.
 */
export class S3StorageDriver implements StorageDriver {
  readonly kind = 's3' as const;
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly prefix: string;
  private readonly presignedReads: boolean;
  private readonly partSize: number;
  private readonly multipartCopyThreshold: number;
  private readonly copyPartSize: number;
  private readonly layout = new StorageLayout();

  constructor(options: S3StorageDriverOptions) {
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix ?? '');
    this.presignedReads = options.presignedReads ?? false;
    this.partSize = checkedSize('partSize', options.partSize ?? 8 * MiB, MIN_PART_SIZE, 512 * MiB);
    this.multipartCopyThreshold = checkedSize(
      'multipartCopyThreshold',
      options.multipartCopyThreshold ?? MAX_PART_SIZE,
      1,
      MAX_PART_SIZE,
    );
    this.copyPartSize = checkedSize(
      'copyPartSize',
      options.copyPartSize ?? GiB,
      MIN_PART_SIZE,
      MAX_PART_SIZE,
    );
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle ?? options.endpoint !== undefined,
      // Flexible checksums (CRC32 headers on every request) are not understood by every
      // S3-compatible server and would have to be tracked per multipart part; content is
      // verified end to end by the registry's digest check instead.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (options.endpoint !== undefined) config.endpoint = options.endpoint;
    if (options.accessKeyId !== undefined && options.secretAccessKey !== undefined) {
      config.credentials = {
        accessKeyId: options.accessKeyId,
        secretAccessKey: options.secretAccessKey,
      };
    }
    this.client = new S3Client(config);
  }

  /** Creates the bucket when it does not exist (tests, quick-start set-ups). */
  async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
      return;
    } catch (error) {
      if (!isS3Error(error, 'NotFound', 'NoSuchBucket')) throw error;
    }
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      if (!isS3Error(error, 'BucketAlreadyOwnedByYou')) throw error;
    }
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isS3Error(error, 'NotFound', 'NoSuchKey')) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    if (range !== undefined) assertByteRange(range);
    return this.getStream(this.objectKey(key), key, range);
  }

  async readAll(key: string): Promise<Buffer> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      if (response.Body === undefined) return Buffer.alloc(0);
      return Buffer.from(await response.Body.transformToByteArray());
    } catch (error) {
      if (isS3Error(error, 'NoSuchKey', 'NotFound')) throw new StorageNotFoundError(key);
      throw error;
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentLength: body.length,
      }),
    );
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 for a missing key too.
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
    );
  }

  async *list(prefix: string): AsyncIterable<string> {
    StorageLayout.assertPrefix(prefix);
    const pages = paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: this.prefix + prefix },
    );
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield object.Key.slice(this.prefix.length);
      }
    }
  }

  async presignedReadUrl(key: string, expiresInSeconds: number): Promise<string | undefined> {
    if (!this.presignedReads) return undefined;
    return getSignedUrl(
      this.client,
      new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      { expiresIn: expiresInSeconds },
    );
  }

  async createUpload(id: string): Promise<void> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.uploadKey(id, STATE_NAME),
          Body: JSON.stringify(emptyS3UploadState()),
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      if (isS3Error(error, 'PreconditionFailed')) throw new Error(`upload ${id} already exists`);
      throw error;
    }
  }

  async writeUpload(id: string, offset: number, body: Readable): Promise<number> {
    assertUploadOffset(offset);
    let state = await this.loadState(id);
    const size = s3UploadSize(state);
    if (offset > size) {
      throw new Error(`cannot write upload ${id} at offset ${offset}: it only has ${size} bytes`);
    }
    if (offset < size) state = await this.truncate(id, state, offset);
    return s3UploadSize(await this.append(id, state, body));
  }

  async uploadSize(id: string): Promise<number> {
    return s3UploadSize(await this.loadState(id));
  }

  /**
   * Parts of an unfinished multipart upload cannot be read back, so when the upload has
   * parts this first completes them (with the tail as last part) into `uploads/<id>/data-<n>`,
   * which becomes the upload's base; later writes continue after it (copying it server-side
   * into a new multipart upload when they need parts).
   */
  async readUpload(id: string): Promise<Readable> {
    let state = await this.loadState(id);
    if (state.parts.length > 0) state = (await this.materialize(id, state)).state;
    const segments = [state.base, state.tail].filter(
      (segment): segment is S3UploadSegment => segment !== undefined,
    );
    return Readable.from(this.segmentChunks(id, segments));
  }

  async commitUpload(id: string, key: string): Promise<void> {
    const target = this.objectKey(key);
    const { state, whole } = await this.materialize(id, await this.loadState(id));
    if (whole === undefined) {
      await this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: target, Body: Buffer.alloc(0) }),
      );
    } else {
      await this.copyObject(this.uploadKey(id, whole.name), whole.size, target);
    }
    // From here on the upload is gone; what is left under its prefix is garbage.
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.bucket, Key: this.uploadKey(id, STATE_NAME) }),
    );
    // Best effort: the blob is committed whatever happens now; leftovers are only garbage
    // under uploads/<id>/ without a state.json, which deleteUpload(id) or a sweep removes.
    await this.removeUploadObjects(id, state.multipart).catch(() => undefined);
  }

  async deleteUpload(id: string): Promise<void> {
    let state: S3UploadState | undefined;
    try {
      state = await this.loadState(id);
    } catch (error) {
      if (!(error instanceof StorageNotFoundError)) throw error;
    }
    await this.removeUploadObjects(id, state?.multipart);
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }

  // ---- uploads -------------------------------------------------------------------------

  /**
   * Streams `body` after the state's carried bytes (tail, and a base too small to be a part)
   * into parts and a new tail, then persists and returns the new state. With `body`
   * undefined it only folds the carried bytes into one new object (used by `materialize`).
   */
  private async append(
    id: string,
    state: S3UploadState,
    body: Readable | undefined,
  ): Promise<S3UploadState> {
    const carried: S3UploadSegment[] = [];
    let base = state.base;
    if (base !== undefined && base.size < MIN_PART_SIZE) {
      carried.push(base);
      base = undefined;
    }
    if (state.tail !== undefined) carried.push(state.tail);

    // `persisted` is always content-equivalent to `state`; it changes when a multipart upload
    // has to be opened (and the base copied into it) before the first part goes up.
    let persisted = state;
    let multipart = state.multipart;
    let parts: S3UploadPart[] = [...state.parts];
    const uploadPart = async (data: Buffer): Promise<void> => {
      if (multipart === undefined || base !== undefined) {
        persisted = await this.openMultipart(id, persisted);
        multipart = persisted.multipart;
        parts = [...persisted.parts];
        base = undefined;
      }
      if (multipart === undefined) throw new Error('unreachable: no multipart upload');
      // One part number stays free for the tail, which commit appends as the last part.
      if (parts.length >= MAX_PARTS - 1) {
        throw new Error(
          `upload ${id} exceeds ${MAX_PARTS} parts of ${this.partSize} bytes (raise partSize)`,
        );
      }
      const partNumber = parts.length + 1;
      const response = await this.client.send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: this.uploadKey(id, multipart.name),
          UploadId: multipart.uploadId,
          PartNumber: partNumber,
          Body: data,
          ContentLength: data.length,
        }),
      );
      parts.push({ partNumber, etag: requireEtag(response.ETag), size: data.length });
    };

    const buffer = new PartBuffer(this.partSize);
    let bodyBytes = 0;
    let uploadedParts = 0;
    const chunks = async function* (carriedChunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
      yield* carriedChunks;
      if (body === undefined) return;
      for await (const chunk of body) {
        const bytes = toBuffer(chunk);
        bodyBytes += bytes.length;
        yield bytes;
      }
    };
    // Pulling one chunk at a time and awaiting each part upload is the backpressure: memory
    // stays at one part however large the body is.
    for await (let chunk of chunks(this.segmentChunks(id, carried))) {
      while (chunk.length > 0) {
        chunk = chunk.subarray(buffer.fill(chunk));
        if (buffer.full) {
          await uploadPart(buffer.view());
          uploadedParts += 1;
          buffer.clear();
        }
      }
    }
    if (body !== undefined && bodyBytes === 0 && uploadedParts === 0) return state;

    let generation = persisted.generation;
    let tail: S3UploadSegment | undefined;
    const remainder = buffer.view();
    if (remainder.length >= MIN_PART_SIZE) {
      await uploadPart(remainder);
      generation = persisted.generation;
    } else if (remainder.length > 0) {
      generation += 1;
      const name = `tail-${generation}`;
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.uploadKey(id, name),
          Body: remainder,
          ContentLength: remainder.length,
        }),
      );
      tail = { name, size: remainder.length, objectSize: remainder.length };
    }
    const next: S3UploadState = { version: 1, generation, parts };
    if (base !== undefined) next.base = base;
    if (multipart !== undefined) next.multipart = multipart;
    if (tail !== undefined) next.tail = tail;
    await this.replaceState(id, state, next);
    return next;
  }

  /**
   * Returns a persisted, content-equivalent state with an open multipart upload, into which
   * a base of at least the minimum part size has been copied server-side as the first parts.
   */
  private async openMultipart(id: string, state: S3UploadState): Promise<S3UploadState> {
    const next: S3UploadState = { ...state, parts: [...state.parts] };
    if (next.multipart === undefined) {
      next.generation += 1;
      const name = `data-${next.generation}`;
      const created = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: this.uploadKey(id, name) }),
      );
      if (created.UploadId === undefined) throw new Error('S3 returned no UploadId');
      next.multipart = { uploadId: created.UploadId, name };
      // Recorded at once so that deleteUpload/commitUpload can always abort it.
      await this.saveState(id, next);
    }
    const base = next.base;
    if (base !== undefined && base.size >= MIN_PART_SIZE) {
      next.parts = await this.copyParts(
        this.uploadKey(id, base.name),
        base.size,
        this.uploadKey(id, next.multipart.name),
        next.multipart.uploadId,
        1,
      );
      delete next.base;
      await this.saveState(id, next);
    }
    return next;
  }

  /**
   * Discards the content past `offset`; persisted before anything new is written, so parts
   * dropped here are never referenced again. Offsets inside a multipart part need the upload
   * completed first (parts cannot be cut), which `materialize` does.
   */
  private async truncate(id: string, state: S3UploadState, offset: number): Promise<S3UploadState> {
    let next: S3UploadState = { ...state, parts: [...state.parts] };
    const partsEnd = (state.base?.size ?? 0) + state.parts.reduce((sum, p) => sum + p.size, 0);
    if (offset >= partsEnd) {
      const tail = state.tail;
      if (tail !== undefined && offset > partsEnd) next.tail = { ...tail, size: offset - partsEnd };
      else delete next.tail;
    } else if (state.base !== undefined) {
      delete next.tail;
      if (offset > 0) next.base = { ...state.base, size: offset };
      else delete next.base;
    } else {
      delete next.tail;
      let end = 0;
      const keep = state.parts.findIndex((part) => {
        if (end === offset) return true;
        end += part.size;
        return false;
      });
      if (keep >= 0) {
        next.parts = state.parts.slice(0, keep);
      } else {
        const { state: completed } = await this.materialize(id, state);
        next = { ...completed };
        if (completed.base === undefined) throw new Error('unreachable: no base after completion');
        next.base = { ...completed.base, size: offset };
        state = completed;
      }
    }
    await this.replaceState(id, state, next);
    return next;
  }

  /**
   * Makes the upload content one whole object: returns it (undefined for an empty upload)
   * with the persisted state, in which it is the base. Small content is rewritten as a new
   * tail; otherwise the multipart upload (with the base copied in first, and the tail as last
   * part) is completed.
   */
  private async materialize(
    id: string,
    state: S3UploadState,
  ): Promise<{ state: S3UploadState; whole: S3UploadSegment | undefined }> {
    const size = s3UploadSize(state);
    if (size === 0) return { state, whole: undefined };
    const segments = [state.base, state.tail].filter(
      (segment): segment is S3UploadSegment => segment !== undefined,
    );
    const single = segments[0];
    if (state.parts.length === 0 && segments.length === 1 && single.size === single.objectSize) {
      return { state, whole: single };
    }
    if (
      state.parts.length === 0 &&
      (size < MIN_PART_SIZE || (state.base?.size ?? 0) < MIN_PART_SIZE)
    ) {
      // Re-stream the small pieces: either one new tail object, or parts (when >= 5 MiB).
      state = await this.append(id, state, undefined);
      if (state.parts.length === 0) return { state, whole: state.tail };
    }

    state = await this.openMultipart(id, state);
    const multipart = state.multipart;
    if (multipart === undefined) throw new Error('unreachable: no multipart upload');
    const targetKey = this.uploadKey(id, multipart.name);
    const parts = [...state.parts];
    if (state.tail !== undefined) {
      parts.push(
        ...(await this.copyParts(
          this.uploadKey(id, state.tail.name),
          state.tail.size,
          targetKey,
          multipart.uploadId,
          parts.length + 1,
        )),
      );
    }
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: targetKey,
          UploadId: multipart.uploadId,
          MultipartUpload: {
            Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
          },
        }),
      );
    } catch (error) {
      // A previous attempt completed it but failed to record that: the object is there.
      if (
        !isS3Error(error, 'NoSuchUpload') ||
        (await this.stat(this.layout.upload(id) + multipart.name))?.size !== size
      ) {
        throw error;
      }
    }
    const whole: S3UploadSegment = { name: multipart.name, size, objectSize: size };
    const next: S3UploadState = {
      version: 1,
      generation: state.generation,
      base: whole,
      parts: [],
    };
    await this.replaceState(id, state, next);
    return { state: next, whole };
  }

  /**
   * UploadPartCopy of the first `size` bytes of `sourceKey` into an open multipart upload, as
   * parts numbered from `firstPartNumber`. Ranges are even and, when `size` allows it, at
   * least the minimum part size, so the copied parts may be followed by more.
   */
  private async copyParts(
    sourceKey: string,
    size: number,
    targetKey: string,
    uploadId: string,
    firstPartNumber: number,
  ): Promise<S3UploadPart[]> {
    const count = Math.max(
      1,
      Math.min(Math.ceil(size / this.copyPartSize), Math.floor(size / MIN_PART_SIZE)),
    );
    if (firstPartNumber + count - 1 > MAX_PARTS) throw new Error('too many multipart parts');
    const parts: S3UploadPart[] = [];
    let start = 0;
    for (let index = 0; index < count; index += 1) {
      const length = Math.floor(size / count) + (index < size % count ? 1 : 0);
      const partNumber = firstPartNumber + index;
      const response = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: targetKey,
          UploadId: uploadId,
          PartNumber: partNumber,
          CopySource: this.copySource(sourceKey),
          CopySourceRange: `bytes=${start}-${start + length - 1}`,
        }),
      );
      parts.push({ partNumber, etag: requireEtag(response.CopyPartResult?.ETag), size: length });
      start += length;
    }
    return parts;
  }

  /** Server-side copy of a whole object; multipart above the copy threshold. */
  private async copyObject(sourceKey: string, size: number, targetKey: string): Promise<void> {
    if (size <= this.multipartCopyThreshold) {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: targetKey,
          CopySource: this.copySource(sourceKey),
        }),
      );
      return;
    }
    const created = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: targetKey }),
    );
    const uploadId = created.UploadId;
    if (uploadId === undefined) throw new Error('S3 returned no UploadId');
    try {
      const parts = await this.copyParts(sourceKey, size, targetKey, uploadId, 1);
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: targetKey,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })),
          },
        }),
      );
    } catch (error) {
      await this.abortMultipart(targetKey, uploadId).catch(() => undefined);
      throw error;
    }
  }

  /** Aborts the open multipart upload, then deletes every object of the upload, state last. */
  private async removeUploadObjects(
    id: string,
    multipart: S3UploadState['multipart'],
  ): Promise<void> {
    if (multipart !== undefined) {
      await this.abortMultipart(this.uploadKey(id, multipart.name), multipart.uploadId);
    }
    const stateKey = this.uploadKey(id, STATE_NAME);
    const keys: string[] = [];
    const pages = paginateListObjectsV2(
      { client: this.client },
      { Bucket: this.bucket, Prefix: this.uploadKey(id, '') },
    );
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined && object.Key !== stateKey) keys.push(object.Key);
      }
    }
    await Promise.all(
      keys.map((key) =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })),
      ),
    );
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: stateKey }));
  }

  private async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }),
      );
    } catch (error) {
      if (!isS3Error(error, 'NoSuchUpload')) throw error;
    }
  }

  private async loadState(id: string): Promise<S3UploadState> {
    const key = this.uploadKey(id, STATE_NAME);
    try {
      const response = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key }),
      );
      const text = response.Body === undefined ? '' : await response.Body.transformToString();
      return parseS3UploadState(text, key);
    } catch (error) {
      if (isS3Error(error, 'NoSuchKey', 'NotFound')) {
        throw new StorageNotFoundError(this.layout.upload(id));
      }
      throw error;
    }
  }

  private async saveState(id: string, state: S3UploadState): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: this.uploadKey(id, STATE_NAME),
        Body: JSON.stringify(state),
        ContentType: 'application/json',
      }),
    );
  }

  /** Persists `next`, then deletes (best effort) objects only `previous` referred to. */
  private async replaceState(
    id: string,
    previous: S3UploadState,
    next: S3UploadState,
  ): Promise<void> {
    await this.saveState(id, next);
    const kept = new Set(s3UploadObjectNames(next));
    const obsolete = s3UploadObjectNames(previous).filter((name) => !kept.has(name));
    await Promise.all(
      obsolete.map((name) =>
        this.client
          .send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.uploadKey(id, name) }))
          .catch(() => undefined),
      ),
    );
  }

  /** The bytes of upload segments in order, each object fetched when its turn comes. */
  private async *segmentChunks(id: string, segments: S3UploadSegment[]): AsyncGenerator<Buffer> {
    for (const segment of segments) {
      const stream = await this.getStream(this.uploadKey(id, segment.name), segment.name, {
        start: 0,
        end: segment.size - 1,
      });
      for await (const chunk of stream) yield toBuffer(chunk);
    }
  }

  // ---- keys and helpers ------------------------------------------------------------------

  private async getStream(fullKey: string, key: string, range?: ByteRange): Promise<Readable> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: fullKey,
          Range: range === undefined ? undefined : `bytes=${range.start}-${range.end}`,
        }),
      );
      const body = response.Body;
      if (body === undefined) return Readable.from([]);
      if (!(body instanceof Readable)) throw new Error('S3 response body is not a Node stream');
      return body;
    } catch (error) {
      if (isS3Error(error, 'NoSuchKey', 'NotFound')) throw new StorageNotFoundError(key);
      if (isS3Error(error, 'InvalidRange')) {
        throw new RangeError(`range ${range?.start}-${range?.end} not satisfiable for ${key}`);
      }
      throw error;
    }
  }

  private objectKey(key: string): string {
    StorageLayout.assertKey(key);
    return this.prefix + key;
  }

  private uploadKey(id: string, name: string): string {
    return this.prefix + this.layout.upload(id) + name;
  }

  private copySource(fullKey: string): string {
    return `${this.bucket}/${fullKey.split('/').map(encodeURIComponent).join('/')}`;
  }
}

function normalizePrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+/, '').replace(/\/+$/, '');
  if (trimmed === '') return '';
  StorageLayout.assertKey(trimmed);
  return `${trimmed}/`;
}

function checkedSize(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`S3StorageDriver option ${name} must be an integer in [${min}, ${max}]`);
  }
  return value;
}

function requireEtag(etag: string | undefined): string {
  if (etag === undefined) throw new Error('S3 returned no ETag for a part');
  return etag;
}

function isS3Error(error: unknown, ...names: string[]): boolean {
  return error instanceof S3ServiceException && names.includes(error.name);
}
