import { randomUUID } from 'node:crypto';
import { constants as fsConstants, readSync, type Dirent } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { BufferPool } from './buffer-pool';
import { assertByteRange, assertUploadOffset, hasErrorCode, toBuffer } from './driver-support';
import type { ByteRange, ObjectCopy, ObjectInfo, StorageDriver } from './storage-driver';
import { StorageNotFoundError } from './storage-driver';
import { StorageLayout } from './storage-layout';

export interface FilesystemStorageOptions {
  /**
   * How downloads (`openCopy`) read the file:
   *
   * - `adaptive` (the default): the first read of each download goes through libuv's thread
   *   pool, the following ones are plain `pread`s on the calling thread for as long as they
   *   come back fast, that is from the page cache. A read slower than `slowReadMs` (the disk
   *   was hit) moves that download back to the pool, and every download for the next
   *   `INLINE_READ_PAUSE_MS`. Handing each 256 KiB read to a pool thread and back costs two
   *   thread wake-ups; on two vCPUs that wait, not the copy, bounded pulls (docs/performance.md,
   *   finding 11). nginx serves files the same way by default (blocking reads in its event
   *   loop, `aio threads` opt-in).
   * - `pool`: every read through the thread pool, as Node's file streams do. For storage
   *   where even a cached read may block (a network filesystem under load).
   */
  reads?: 'adaptive' | 'pool';
  /** An inline read slower than this counts as a disk read (default 3 ms). */
  slowReadMs?: number;
  /** Milliseconds clock for timing inline reads (tests). */
  clock?: () => number;
}

/** Reads of `openCopy` downloads so far: inline, through the pool, inline reads found slow. */
export interface ReadCounts {
  inline: number;
  pool: number;
  slow: number;
}

/**
 * Storage on a local (or shared POSIX) filesystem, rooted at `rootDir`:
 *
 * - objects are files at `<root>/<key>`;
 * - `put` writes `<root>/tmp/<random>`, fsyncs it and renames it over the target, so readers
 *   see the old or the new file, never a partial one (rename(2) is atomic within a filesystem);
 * - an upload is the single file `<root>/uploads/<id>/data`, appended to in place;
 *   `commitUpload` renames it to the blob key, which is O(1) and atomic.
 *
 * Readers hold an open descriptor, so a concurrent replace or delete never truncates a read in
 * progress. Concurrent `writeUpload` calls on the same upload are the caller's to prevent.
 */
export class FilesystemStorageDriver implements StorageDriver {
  readonly kind = 'filesystem' as const;
  private readonly root: string;
  private readonly layout = new StorageLayout();
  /** Buffers of `openCopy` downloads, reused: two per download in progress, 8 kept idle. */
  private readonly readBuffers = new BufferPool(READ_CHUNK_BYTES, 8);
  private readonly inlineReads: InlineReads;

  constructor(rootDir: string, options: FilesystemStorageOptions = {}) {
    this.root = path.resolve(rootDir);
    this.inlineReads = new InlineReads(
      options.reads !== 'pool',
      options.slowReadMs ?? SLOW_INLINE_READ_MS,
      options.clock,
    );
  }

  /** How `openCopy` downloads have read so far (see `FilesystemStorageOptions.reads`). */
  readCounts(): ReadCounts {
    return this.inlineReads.counts();
  }

  async stat(key: string): Promise<ObjectInfo | undefined> {
    try {
      const stats = await fs.stat(this.pathOf(key));
      return stats.isFile() ? { size: stats.size } : undefined;
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const { handle, start, length } = await this.openRange(key, range);
    // An empty object has no last byte to name as `end`.
    const end = length > 0 ? start + length - 1 : undefined;
    return handle.createReadStream({ start, end, highWaterMark: READ_CHUNK_BYTES });
  }

  async openCopy(key: string, range?: ByteRange): Promise<ObjectCopy> {
    const { handle, start, length } = await this.openRange(key, range);
    return new FileCopy(handle, key, start, length, this.readBuffers, this.inlineReads);
  }

  async readAll(key: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.pathOf(key));
    } catch (error) {
      if (isMissing(error) || hasErrorCode(error, 'EISDIR')) throw new StorageNotFoundError(key);
      throw error;
    }
  }

  async put(key: string, body: Buffer): Promise<void> {
    const target = this.pathOf(key);
    const temp = await this.tempPath();
    try {
      const handle = await fs.open(temp, 'wx');
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(path.dirname(target));
  }

  async delete(key: string): Promise<void> {
    try {
      await fs.unlink(this.pathOf(key));
    } catch (error) {
      // EISDIR: the key is only a prefix of other keys, as in S3 there is nothing to delete.
      if (isMissing(error) || hasErrorCode(error, 'EISDIR')) return;
      throw error;
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    StorageLayout.assertPrefix(prefix);
    // Walk the deepest directory that contains every key with this (string) prefix.
    const directory = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    for await (const key of this.walk(directory)) {
      if (key.startsWith(prefix)) yield key;
    }
  }

  presignedReadUrl(key: string, expiresInSeconds: number): Promise<string | undefined> {
    void key;
    void expiresInSeconds;
    return Promise.resolve(undefined);
  }

  async createUpload(id: string): Promise<void> {
    const dataPath = this.uploadDataPath(id);
    await fs.mkdir(path.dirname(dataPath), { recursive: true });
    try {
      const handle = await fs.open(dataPath, 'wx');
      await handle.close();
    } catch (error) {
      if (hasErrorCode(error, 'EEXIST')) throw new Error(`upload ${id} already exists`);
      throw error;
    }
  }

  async writeUpload(id: string, offset: number, body: Readable): Promise<number> {
    assertUploadOffset(offset);
    const dataPath = this.uploadDataPath(id);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(dataPath, 'r+');
    } catch (error) {
      if (isMissing(error)) throw new StorageNotFoundError(this.layout.upload(id));
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (offset > size) {
        throw new Error(`cannot write upload ${id} at offset ${offset}: it only has ${size} bytes`);
      }
      if (size > offset) await handle.truncate(offset);
      let position = offset;
      // One write in flight while the next batch is read: reading the request and writing the
      // disk overlap, and memory stays at two batches. Network-sized chunks (16-64 KiB) are
      // gathered into one writev of up to 1 MiB.
      let inFlight: Promise<unknown> = Promise.resolve();
      // Early write-back: every EARLY_SYNC_BYTES written, a datasync runs in the background, so
      // the disk writes while the request is still arriving and the final fsync finds little
      // left to do. At most one at a time; its failure fails the upload like a failed write.
      let syncing: Promise<void> | undefined;
      let syncError: Error | undefined;
      let unsynced = 0;
      const submit = async (buffers: Buffer[], total: number): Promise<void> => {
        await inFlight;
        if (syncError !== undefined) throw syncError;
        unsynced += total;
        if (unsynced >= EARLY_SYNC_BYTES && syncing === undefined) {
          unsynced = 0;
          syncing = handle.datasync().then(
            () => void (syncing = undefined),
            (error: unknown) => {
              syncError ??= error instanceof Error ? error : new Error(String(error));
              syncing = undefined;
            },
          );
        }
        const at = position;
        position += total;
        const write = writeAllFully(handle, buffers, total, at);
        write.catch(() => undefined); // awaited below; never an unhandled rejection
        inFlight = write;
      };
      try {
        let batch: Buffer[] = [];
        let batched = 0;
        for await (const chunk of body) {
          const buffer = toBuffer(chunk);
          batch.push(buffer);
          batched += buffer.length;
          if (batched >= WRITE_BATCH_BYTES) {
            await submit(batch, batched);
            batch = [];
            batched = 0;
          }
        }
        if (batched > 0) await submit(batch, batched);
        await inFlight;
        await syncing;
        if (syncError !== undefined) throw syncError;
        await handle.sync();
      } catch (error) {
        await inFlight.catch(() => undefined);
        await syncing;
        // Leave exactly `offset` bytes so the retry of this chunk starts from a known size.
        await handle.truncate(offset).catch(() => undefined);
        throw error;
      }
      return position;
    } finally {
      await handle.close();
    }
  }

  async uploadSize(id: string): Promise<number> {
    try {
      return (await fs.stat(this.uploadDataPath(id))).size;
    } catch (error) {
      if (isMissing(error)) throw new StorageNotFoundError(this.layout.upload(id));
      throw error;
    }
  }

  async readUpload(id: string): Promise<Readable> {
    const { handle } = await this.openForReading(this.uploadDataPath(id), this.layout.upload(id));
    return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
  }

  async commitUpload(id: string, key: string): Promise<void> {
    const dataPath = this.uploadDataPath(id);
    const target = this.pathOf(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    try {
      await fs.rename(dataPath, target);
    } catch (error) {
      if (isMissing(error)) throw new StorageNotFoundError(this.layout.upload(id));
      throw error;
    }
    await syncDirectory(path.dirname(target));
    await fs.rm(path.dirname(dataPath), { recursive: true, force: true });
  }

  async deleteUpload(id: string): Promise<void> {
    await fs.rm(path.dirname(this.uploadDataPath(id)), { recursive: true, force: true });
  }

  async ping(): Promise<void> {
    await fs.mkdir(this.root, { recursive: true });
    await fs.access(this.root, fsConstants.W_OK);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private pathOf(key: string): string {
    StorageLayout.assertKey(key);
    return path.join(this.root, ...key.split('/'));
  }

  private uploadDataPath(id: string): string {
    return path.join(this.root, ...this.layout.upload(id).split('/').filter(Boolean), 'data');
  }

  private async tempPath(): Promise<string> {
    const directory = path.join(this.root, StorageLayout.tmpPrefix);
    await fs.mkdir(directory, { recursive: true });
    return path.join(directory, `put-${randomUUID()}`);
  }

  /**
   * Opens a committed object for reading `range` (the whole object without one): the range is
   * checked against the object's size before anything is read (RangeError past its end).
   */
  private async openRange(
    key: string,
    range: ByteRange | undefined,
  ): Promise<{ handle: fs.FileHandle; start: number; length: number }> {
    if (range !== undefined) assertByteRange(range);
    const { handle, size } = await this.openForReading(this.pathOf(key), key);
    if (range === undefined) return { handle, start: 0, length: size };
    try {
      return { handle, start: range.start, length: clampRange(key, range, size) - range.start + 1 };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  private async openForReading(
    file: string,
    key: string,
  ): Promise<{ handle: fs.FileHandle; size: number }> {
    try {
      const handle = await fs.open(file, 'r');
      const stats = await handle.stat();
      if (!stats.isFile()) {
        await handle.close();
        throw new StorageNotFoundError(key);
      }
      return { handle, size: stats.size };
    } catch (error) {
      if (isMissing(error) || hasErrorCode(error, 'EISDIR')) throw new StorageNotFoundError(key);
      throw error;
    }
  }

  /** Regular files below `<root>/<directory>`, as keys; tolerates concurrent deletions. */
  private async *walk(directory: string): AsyncGenerator<string> {
    let entries: AsyncIterable<Dirent>;
    try {
      entries = await fs.opendir(
        directory === '' ? this.root : path.join(this.root, ...directory.split('/')),
      );
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for await (const entry of entries) {
      const key = directory === '' ? entry.name : `${directory}/${entry.name}`;
      if (entry.isDirectory()) yield* this.walk(key);
      else if (entry.isFile()) yield key;
    }
  }
}

const WRITE_BATCH_BYTES = 1024 * 1024;

/** An upload starts writing its bytes back to disk after this many, not only at its end. */
const EARLY_SYNC_BYTES = 32 * 1024 * 1024;

/**
 * An inline read of 256 KiB from the page cache takes ~0.16 ms here (1.6 GB/s). One slower than
 * this waited for the disk, or lost its CPU: on a busy two-vCPU machine preempted reads took
 * 1.3-1.9 ms, so the limit tolerates that much and moves downloads to the pool only beyond it.
 */
const SLOW_INLINE_READ_MS = 3;

/** After a slow inline read, every download reads through the thread pool for this long. */
const INLINE_READ_PAUSE_MS = 2_000;

/**
 * Reads of 256 KiB: a 10 MiB pull is 40 reads and socket writes, not 160 (the default 64 KiB).
 * 1 MiB was no faster (16 concurrent pulls: 403 against 496 MB/s) and held 32 MiB of buffers.
 */
const READ_CHUNK_BYTES = 256 * 1024;

/** The last byte a range may read (its end clamped to the object); RangeError past the end. */
function clampRange(key: string, range: ByteRange, size: number): number {
  if (range.start >= size) {
    throw new RangeError(
      `range ${range.start}-${range.end} not satisfiable: ${key} has ${size} bytes`,
    );
  }
  return Math.min(range.end, size - 1);
}

/**
 * A download by double buffering: the next chunk is read while the previous one is written,
 * and a buffer is read into again only after its write has completed (the destination then
 * holds no reference to it), so a download allocates nothing per chunk.
 */
class FileCopy implements ObjectCopy {
  written = 0;
  private closed = false;
  /** Cleared by this download's first slow inline read. */
  private inline = true;

  constructor(
    private readonly handle: fs.FileHandle,
    private readonly key: string,
    private readonly start: number,
    readonly length: number,
    private readonly buffers: BufferPool,
    private readonly inlineReads: InlineReads,
  ) {}

  async writeTo(destination: Writable): Promise<void> {
    // An HTTP response whose socket is gone drops writes without calling back: its 'close'
    // fails the write in flight instead.
    let failPending: ((error: Error) => void) | undefined;
    const onClose = (): void => failPending?.(new Error('the destination closed'));
    destination.once('close', onClose);
    const writeChunk = (chunk: Buffer): Promise<void> =>
      new Promise((resolve, reject) => {
        if (destination.destroyed) {
          reject(new Error('the destination closed'));
          return;
        }
        failPending = reject;
        destination.write(chunk, (error) => (error ? reject(error) : resolve()));
      });
    try {
      await this.copy(writeChunk);
    } finally {
      destination.removeListener('close', onClose);
    }
  }

  private async copy(writeChunk: (chunk: Buffer) => Promise<void>): Promise<void> {
    const buffers = [this.buffers.take(), this.buffers.take()] as const;
    let writing: Promise<void> | undefined;
    let pendingBytes = 0;
    let position = this.start;
    let remaining = this.length;
    try {
      for (let turn = 0; remaining > 0; turn ^= 1) {
        const buffer = buffers[turn];
        const bytesRead = await this.read(buffer, Math.min(buffer.length, remaining), position);
        if (bytesRead === 0) throw new Error(`${this.key} ended ${remaining} bytes early`);
        position += bytesRead;
        remaining -= bytesRead;
        if (writing) await writing;
        this.written += pendingBytes;
        pendingBytes = bytesRead;
        writing = writeChunk(buffer.subarray(0, bytesRead));
        writing.catch(() => undefined); // awaited on the next turn; never an unhandled rejection
      }
      if (writing) await writing;
      this.written += pendingBytes;
    } catch (error) {
      // A write may still hold a buffer: leave both to the garbage collector.
      await this.close();
      throw error;
    }
    await this.close();
    this.buffers.give(buffers[0]);
    this.buffers.give(buffers[1]);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  /** One read at `position`: inline while `InlineReads` allows it (never the first), else pooled. */
  private async read(buffer: Buffer, length: number, position: number): Promise<number> {
    const policy = this.inlineReads;
    if (this.inline && position !== this.start && policy.allowed()) {
      const started = policy.now();
      const bytesRead = readSync(this.handle.fd, buffer, 0, length, position);
      if (!policy.record(policy.now() - started)) this.inline = false;
      return bytesRead;
    }
    policy.pooled();
    return (await this.handle.read(buffer, 0, length, position)).bytesRead;
  }
}

/**
 * The adaptive read policy shared by a driver's downloads (`FilesystemStorageOptions.reads`):
 * counts reads, and pauses inline reads for everyone after a slow one.
 */
class InlineReads {
  private inlineCount = 0;
  private poolCount = 0;
  private slowCount = 0;
  private pausedUntil = -Infinity;

  constructor(
    private readonly enabled: boolean,
    private readonly slowReadMs: number,
    readonly now: () => number = () => performance.now(),
  ) {}

  allowed(): boolean {
    return this.enabled && this.now() >= this.pausedUntil;
  }

  /** Records an inline read's duration; false when it was slow (the download should stop). */
  record(elapsedMs: number): boolean {
    this.inlineCount++;
    if (elapsedMs <= this.slowReadMs) return true;
    this.slowCount++;
    this.pausedUntil = this.now() + INLINE_READ_PAUSE_MS;
    return false;
  }

  pooled(): void {
    this.poolCount++;
  }

  counts(): ReadCounts {
    return { inline: this.inlineCount, pool: this.poolCount, slow: this.slowCount };
  }
}

/** Writes buffers at `position` with one writev, finishing a short write with plain writes. */
async function writeAllFully(
  handle: fs.FileHandle,
  buffers: Buffer[],
  total: number,
  position: number,
): Promise<number> {
  const { bytesWritten } = await handle.writev(buffers, position);
  if (bytesWritten < total) {
    const rest = Buffer.concat(buffers, total).subarray(bytesWritten);
    await writeFully(handle, rest, position + bytesWritten);
  }
  return total;
}

async function writeFully(
  handle: fs.FileHandle,
  buffer: Buffer,
  position: number,
): Promise<number> {
  let written = 0;
  while (written < buffer.length) {
    const result = await handle.write(buffer, written, buffer.length - written, position + written);
    written += result.bytesWritten;
  }
  return written;
}

async function syncDirectory(directory: string): Promise<void> {
  // Makes the rename durable. Best effort: some filesystems refuse fsync on directories.
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(directory, 'r');
    await handle.sync();
  } catch {
    // ignored
  } finally {
    await handle?.close();
  }
}

function isMissing(error: unknown): boolean {
  return hasErrorCode(error, 'ENOENT') || hasErrorCode(error, 'ENOTDIR');
}
