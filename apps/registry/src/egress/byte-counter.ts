import { Transform, type TransformCallback } from 'node:stream';

/** Passes bytes through unchanged and counts them (what a download really handed the socket). */
export class ByteCounter extends Transform {
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}
