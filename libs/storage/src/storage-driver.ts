import type { Readable, Writable } from 'node:stream';

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ObjectInfo {
  size: number;
}

/**
 * The storage port: the only way the registry touches bytes. Keys are slash-separated
 * relative paths laid out by `StorageLayout` (see docs/storage-layout.md); drivers never
 * interpret them.
 *
 * Guarantees every driver must give (checked by the shared suite in
 * `testing/storage-driver.suite.ts`):
 * - `put` and `commitUpload` are atomic: a reader sees the whole object or nothing.
 * - `writeUpload` at offset N discards anything past N first, so a chunk that failed half way
 *   (client disconnect, storage error) can be retried at the same offset.
 * - `delete`, `deleteUpload` are idempotent.
 */
export interface StorageDriver {
  readonly kind: 'filesystem' | 's3';

  /** Size of a committed object, or undefined when there is none. */
  stat(key: string): Promise<ObjectInfo | undefined>;
  /** Stream a committed object (optionally a byte range); rejects with StorageNotFoundError. */
  read(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * Optional fast path for downloads: opens a committed object (or a byte range of it) so its
   * bytes can be written straight to a destination with reused buffers, where `read` allocates
   * a buffer per chunk and adds stream hops. Rejects with StorageNotFoundError, or RangeError
   * for a range past the end, before anything is written.
   */
  openCopy?(key: string, range?: ByteRange): Promise<ObjectCopy>;
  /** Whole small object in memory; rejects with StorageNotFoundError. */
  readAll(key: string): Promise<Buffer>;
  /** Atomically create or replace an object. */
  put(key: string, body: Buffer): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys under a prefix (for garbage collection and checks), in no particular order. */
  list(prefix: string): AsyncIterable<string>;
  /** A time-limited URL a client may GET directly, when the driver supports it. */
  presignedReadUrl(key: string, expiresInSeconds: number): Promise<string | undefined>;

  /** Resumable uploads: opaque id chosen by the caller (a UUID). */
  createUpload(id: string): Promise<void>;
  /**
   * Append `body` at `offset` (which must be <= the current size; data past `offset` is
   * discarded first). Resolves with the new size. On failure the upload keeps a size
   * of at least `offset` and at most what was written, and a retry at `offset` is valid.
   */
  writeUpload(id: string, offset: number, body: Readable): Promise<number>;
  /** Current size of an upload; rejects with StorageNotFoundError when it does not exist. */
  uploadSize(id: string): Promise<number>;
  /** Stream the whole upload content written so far (used to re-hash on another process). */
  readUpload(id: string): Promise<Readable>;
  /** Atomically move the upload content to `key` (replacing any existing object) and drop the upload. */
  commitUpload(id: string, key: string): Promise<void>;
  deleteUpload(id: string): Promise<void>;

  /** Cheap reachability check for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** An opened object (see `StorageDriver.openCopy`); `writeTo` or `close` must be called once. */
export interface ObjectCopy {
  /** Bytes `writeTo` will write. */
  readonly length: number;
  /** Bytes the destination has accepted so far (what a failed copy still delivered). */
  readonly written: number;
  /**
   * Writes the bytes to `destination`, each write awaited before its buffer is reused, then
   * closes the object. Does not end `destination`; on failure leaves it to the caller.
   */
  writeTo(destination: Writable): Promise<void>;
  close(): Promise<void>;
}

export class StorageNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`storage object not found: ${key}`);
    this.name = 'StorageNotFoundError';
  }
}
