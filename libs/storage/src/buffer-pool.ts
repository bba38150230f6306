/**
 * Equal-sized buffers for reuse. `take` hands out a kept buffer or a new one; `give` keeps at
 * most `keep` of them, the rest go to the garbage collector. A buffer must be given back only
 * when nothing (a pending write) refers to it any more.
 */
export class BufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    readonly bufferBytes: number,
    private readonly keep: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferBytes);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep && buffer.length === this.bufferBytes) this.free.push(buffer);
  }
}
