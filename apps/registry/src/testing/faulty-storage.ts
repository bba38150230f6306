import type { Readable } from 'node:stream';
import type { ByteRange, ObjectInfo, StorageDriver } from '@berth/storage';

export type FaultPoint = 'writeUpload' | 'commitUpload' | 'midWrite';

/**
 * Wraps a real storage driver and fails chosen operations on demand, to prove that a
 * storage failure answers 5xx and commits no metadata.
 */
export class FaultyStorage implements StorageDriver {
  readonly kind: StorageDriver['kind'];
  private readonly armed = new Set<FaultPoint>();

  constructor(private readonly inner: StorageDriver) {
    this.kind = inner.kind;
  }

  arm(point: FaultPoint): void {
    this.armed.add(point);
  }

  disarm(): void {
    this.armed.clear();
  }

  stat(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.stat(key);
  }
  read(key: string, range?: ByteRange): Promise<Readable> {
    return this.inner.read(key, range);
  }
  readAll(key: string): Promise<Buffer> {
    return this.inner.readAll(key);
  }
  put(key: string, body: Buffer): Promise<void> {
    return this.inner.put(key, body);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  list(prefix: string): AsyncIterable<string> {
    return this.inner.list(prefix);
  }
  presignedReadUrl(key: string, expiresInSeconds: number): Promise<string | undefined> {
    return this.inner.presignedReadUrl(key, expiresInSeconds);
  }
  createUpload(id: string): Promise<void> {
    return this.inner.createUpload(id);
  }
  async writeUpload(id: string, offset: number, body: Readable): Promise<number> {
    if (this.armed.has('writeUpload')) throw new Error('injected storage failure: writeUpload');
    if (this.armed.has('midWrite')) {
      // Let part of the body reach the disk, then fail like a full disk would.
      let seen = 0;
      body.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen > 1024) body.destroy(new Error('injected storage failure: ENOSPC'));
      });
    }
    return this.inner.writeUpload(id, offset, body);
  }
  uploadSize(id: string): Promise<number> {
    return this.inner.uploadSize(id);
  }
  readUpload(id: string): Promise<Readable> {
    return this.inner.readUpload(id);
  }
  async commitUpload(id: string, key: string): Promise<void> {
    if (this.armed.has('commitUpload')) throw new Error('injected storage failure: commitUpload');
    return this.inner.commitUpload(id, key);
  }
  deleteUpload(id: string): Promise<void> {
    return this.inner.deleteUpload(id);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
