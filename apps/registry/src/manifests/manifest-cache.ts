import type { StoredManifest } from './manifest.service';

/**
 * A short-lived cache of manifest lookups (`repository` + tag or digest) for the pull hot path.
 *
 * Consistency: every manifest or tag change made through this process calls `invalidate()`,
 * which empties the cache and bumps a generation, so this process always reads its own writes;
 * a lookup that raced a change is not stored (its generation is stale). Changes made by another
 * process of the same registry (a second replica, the worker) are seen after at most `ttlMs`.
 * `ttlMs` 0 switches caching off.
 */
export class ManifestCache {
  private readonly entries = new Map<string, { at: number; manifest: StoredManifest }>();
  private generation = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): StoredManifest | undefined {
    if (this.ttlMs === 0) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.manifest;
  }

  /** The generation to pass to `set` for a lookup starting now. */
  begin(): number {
    return this.generation;
  }

  set(key: string, manifest: StoredManifest, generation: number): void {
    if (this.ttlMs === 0 || generation !== this.generation) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { at: this.now(), manifest });
  }

  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }
}
