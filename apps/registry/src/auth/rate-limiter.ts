/**
 * A fixed-window request limit per client IP (`limit` requests per `windowMs`). In memory,
 * per process. `limit` 0 switches it off.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Milliseconds to wait when over the limit, else 0 (and the request is counted). */
  take(ip: string): number {
    if (!this.enabled) return 0;
    const now = this.now();
    let window = this.windows.get(ip);
    if (!window || now - window.start >= this.windowMs) {
      if (this.windows.size >= 100_000) this.sweep(now);
      window = { start: now, count: 0 };
      this.windows.set(ip, window);
    }
    window.count++;
    return window.count > this.limit ? window.start + this.windowMs - now : 0;
  }

  private sweep(now: number): void {
    for (const [ip, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(ip);
    if (this.windows.size >= 100_000) this.windows.clear();
  }
}
