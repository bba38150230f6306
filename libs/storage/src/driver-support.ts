import type { ByteRange } from './storage-driver';

/** Argument checks and stream helpers shared by the drivers (not part of the public API). */

export function assertByteRange(range: ByteRange): void {
  const valid =
    Number.isSafeInteger(range.start) &&
    Number.isSafeInteger(range.end) &&
    range.start >= 0 &&
    range.end >= range.start;
  if (!valid) throw new RangeError(`invalid byte range ${range.start}-${range.end}`);
}

export function assertUploadOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`invalid upload offset ${offset}`);
  }
}

/** Chunks of a byte stream as Buffers (a Readable may yield strings or Uint8Arrays). */
export function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError('upload body must be a byte stream');
}

/** An `Error` carrying a Node system error code such as ENOENT. */
export function hasErrorCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
