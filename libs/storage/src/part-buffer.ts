/**
 * A fixed-capacity byte buffer that cuts a stream into multipart-upload parts: the S3 driver
 * copies incoming chunks in and uploads the buffer each time it is full, so a write holds at
 * most one part in memory whatever the body size. The backing memory is allocated on first use.
 */
export class PartBuffer {
  private buffer: Buffer | undefined;
  private used = 0;

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.used;
  }

  get full(): boolean {
    return this.used === this.capacity;
  }

  /** Copies as much of `chunk` as fits; returns the number of bytes taken. */
  fill(chunk: Buffer): number {
    this.buffer ??= Buffer.allocUnsafe(this.capacity);
    const taken = Math.min(chunk.length, this.capacity - this.used);
    chunk.copy(this.buffer, this.used, 0, taken);
    this.used += taken;
    return taken;
  }

  /** The bytes held so far (a view: valid until the next `fill` after `clear`). */
  view(): Buffer {
    return this.buffer === undefined ? Buffer.alloc(0) : this.buffer.subarray(0, this.used);
  }

  clear(): void {
    this.used = 0;
  }
}
