/**
 * Counts failed authentications per user and per client IP in a sliding window; past the
 * threshold the user or IP is locked out for the cool-down. Success clears the user's count
 * (not the IP's: one good password must not whitewash a spraying address). In memory, per
 * process: a registry's data plane is one process per tenant.
 */
export interface ThrottleSettings {
  threshold: number;
  windowMs: number;
  cooldownMs: number;
}

export interface Lockout {
  subject: 'user' | 'ip';
  key: string;
  until: number;
}

const MAX_TRACKED = 100_000;

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly locked = new Map<string, number>();

  constructor(
    private readonly settings: ThrottleSettings,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the user or IP may try again; 0 when not locked. */
  retryAfterMs(user: string | undefined, ip: string): number {
    const now = this.now();
    let wait = 0;
    for (const key of this.keys(user, ip)) {
      const until = this.locked.get(key);
      if (until === undefined) continue;
      if (until <= now) {
        this.locked.delete(key);
        this.failures.delete(key);
      } else {
        wait = Math.max(wait, until - now);
      }
    }
    return wait;
  }

  /** Records a failure; returns the lockouts it started. */
  fail(user: string | undefined, ip: string): Lockout[] {
    const now = this.now();
    const started: Lockout[] = [];
    for (const key of this.keys(user, ip)) {
      const recent = (this.failures.get(key) ?? []).filter((t) => now - t < this.settings.windowMs);
      recent.push(now);
      this.remember(this.failures, key, recent);
      if (recent.length >= this.settings.threshold && !this.locked.has(key)) {
        const until = now + this.settings.cooldownMs;
        this.remember(this.locked, key, until);
        started.push({
          subject: key.startsWith('user:') ? 'user' : 'ip',
          key: key.slice(key.indexOf(':') + 1),
          until,
        });
      }
    }
    return started;
  }

  succeed(user: string): void {
    this.failures.delete(`user:${user}`);
  }

  private keys(user: string | undefined, ip: string): string[] {
    return user === undefined ? [`ip:${ip}`] : [`user:${user}`, `ip:${ip}`];
  }

  private remember<V>(map: Map<string, V>, key: string, value: V): void {
    if (map.size >= MAX_TRACKED && !map.has(key)) {
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
    map.delete(key);
    map.set(key, value);
  }
}
