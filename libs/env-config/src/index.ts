/**
 * Reading configuration from the environment: every problem is collected, so one start-up
 * shows them all, and secret values are never echoed back.
 */
export type Env = Record<string, string | undefined>;

/** Thrown with every problem found; the CLI prints them and exits with code 2. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export class EnvReader {
  readonly problems: string[] = [];

  constructor(
    private readonly env: Env,
    private readonly secretKeys: ReadonlySet<string> = new Set(),
  ) {}

  string(key: string): string | undefined {
    const value = this.env[key];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  int(key: string, fallback: number, min: number, max: number): number {
    const raw = this.string(key);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw)) {
      this.problems.push(
        `${key}=${this.show(key, raw)} is not a whole number (expected ${min}..${max})`,
      );
      return fallback;
    }
    const value = Number(raw);
    if (value < min || value > max) {
      this.problems.push(`${key}=${raw} is out of range (expected ${min}..${max})`);
      return fallback;
    }
    return value;
  }

  bool(key: string, fallback: boolean): boolean {
    const raw = this.string(key);
    if (raw === undefined) return fallback;
    const lower = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
    if (['0', 'false', 'no', 'off'].includes(lower)) return false;
    this.problems.push(`${key}=${this.show(key, raw)} is not a boolean (use true or false)`);
    return fallback;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(key);
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    this.problems.push(`${key}=${this.show(key, raw)} is not one of: ${allowed.join(', ')}`);
    return fallback;
  }

  url(key: string, protocols: readonly string[]): string | undefined {
    const raw = this.string(key);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${key} must use ${protocols.join(' or ')} (got ${parsed.protocol})`);
      }
    } catch {
      this.problems.push(`${key}=${this.show(key, raw)} is not a valid URL`);
    }
    return raw;
  }

  /** Records a problem found by a check outside this reader. */
  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws a ConfigError when any problem was found. */
  done(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }

  private show(key: string, raw: string): string {
    return this.secretKeys.has(key) ? '<redacted>' : JSON.stringify(raw);
  }
}

/** A URL with its password replaced, for logs. */
export function maskUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '<redacted>';
    return u.toString();
  } catch {
    return '<redacted>';
  }
}
