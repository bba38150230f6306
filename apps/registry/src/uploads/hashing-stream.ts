import { Transform, type TransformCallback } from 'node:stream';
import type { Hasher } from './hashing/hash-pool';

/**
 * Passes bytes through while hashing and counting them, so a blob is verified as it streams
 * and never held in memory. With `expectedBytes`, a body that ends early or runs long fails.
 * The hasher may work on another thread (`HashPool`); when it has as many bytes in flight as
 * it may hold, the stream waits for it, which pauses reading the request.
 */
export class HashingStream extends Transform {
  bytes = 0;

  constructor(
    /** Without one, the stream only counts. */
    readonly hasher: Hasher | undefined,
    private readonly expectedBytes?: number,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.expectedBytes !== undefined && this.bytes > this.expectedBytes) {
      callback(new BodyLengthError(this.expectedBytes, this.bytes));
      return;
    }
    let wait: Promise<void> | undefined;
    try {
      wait = this.hasher?.update(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (wait === undefined) callback(null, chunk);
    else wait.then(() => callback(null, chunk), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (this.expectedBytes !== undefined && this.bytes !== this.expectedBytes) {
      callback(new BodyLengthError(this.expectedBytes, this.bytes));
      return;
    }
    callback();
  }
}

export class BodyLengthError extends Error {
  constructor(
    readonly expected: number,
    readonly received: number,
  ) {
    super(`request body has ${received} bytes, Content-Length said ${expected}`);
    this.name = 'BodyLengthError';
  }
}
