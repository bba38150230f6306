import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Passes bytes through while hashing and counting them, so a blob is verified as it streams
 * and never held in memory. With `expectedBytes`, a body that ends early or runs long fails.
 */
export class HashingStream extends Transform {
  bytes = 0;

  constructor(
    readonly hash: Hash = createHash('sha256'),
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
    this.hash.update(chunk);
    callback(null, chunk);
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
