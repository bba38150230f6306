import type { StoredManifest } from './manifest.service';

/** 16 MiB: thousands of typical (1-10 KiB) manifests, a few large indexes. */
const DEFAULT_MAX_BYTES = 16 * 1024 * 1024;
/** Map entry, entry object, StoredManifest, Buffer object and digest/media type strings. */
const ENTRY_OVERHEAD_BYTES = 512;

/**
 * A short-lived cache of manifest lookups (`repository` + tag or digest) for the pull hot path.
 *
 * Consistency: every manifest or tag change made through this process calls `invalidate()`,
 * which empties the cache and bumps a generation, so this process always reads its own writes;
 * a lookup that raced a change is not stored (its generation is stale). Changes made by another
 * process of the same registry (a second replica, the worker) are seen after at most `ttlMs`.
 * `ttlMs` 0 switches caching off.
 *
 * Bounded by entries and by bytes (manifest content plus key and a per-entry overhead): a
 * manifest may be up to REGISTRY_MAX_MANIFEST_BYTES (4 MiB by default), so an entry count alone
 * would allow gigabytes. The oldest entries go first; a manifest larger than an eighth of the
 * byte budget is not cached at all.
 */
export class ManifestCache {
  private readonly entries = new Map<
    string,
    { at: number; manifest: StoredManifest; bytes: number }
  >();
  private generation = 0;
  private bytes = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
  ) {}

  /** Bytes held (content, keys and per-entry overhead), for tests and diagnostics. */
  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  get(key: string): StoredManifest | undefined {
    if (this.ttlMs === 0) return undefined;
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() - entry.at >= this.ttlMs) {
      this.remove(key);
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
    const bytes = manifest.content.length + key.length * 2 + ENTRY_OVERHEAD_BYTES;
    if (bytes > this.maxBytes / 8) return;
    this.remove(key);
    while (
      this.entries.size > 0 &&
      (this.entries.size >= this.maxEntries || this.bytes + bytes > this.maxBytes)
    ) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
    this.entries.set(key, { at: this.now(), manifest, bytes });
    this.bytes += bytes;
  }

  invalidate(): void {
    this.generation++;
    this.entries.clear();
    this.bytes = 0;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }
}
