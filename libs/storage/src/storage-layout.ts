/**
 * Where things live in a storage backend. Every key the registry hands to a `StorageDriver`
 * comes from here; docs/storage-layout.md describes the resulting tree for each driver.
 *
 * ```
 * blobs/<alg>/<first two hex>/<hex>   content-addressed blobs (layers, configs, manifests)
 * uploads/<id>/...                    resumable uploads in progress (driver-private)
 * tmp/...                             filesystem driver staging for `put` (driver-private)
 * ```
 *
 * Manifests are blobs too: the metadata database maps tags and repositories to digests.
 */
export class StorageLayout {
  /** Prefix of every blob key (for garbage collection listings). */
  static readonly blobsPrefix = 'blobs/';
  /** Prefix of all upload state; reserved for drivers. */
  static readonly uploadsPrefix = 'uploads/';
  /** Prefix reserved for driver staging files. */
  static readonly tmpPrefix = 'tmp/';

  private static readonly algorithmPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*$/;
  private static readonly hexPattern = /^[a-f0-9]+$/;
  private static readonly knownHexLengths: Readonly<Record<string, number>> = {
    sha256: 64,
    sha512: 128,
  };
  private static readonly uploadIdPattern = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
  private static readonly blobKeyPattern = /^blobs\/([^/]+)\/([a-f0-9]{2})\/([a-f0-9]+)$/;

  /**
   * Key of a blob, e.g. `sha256:4f2a…` → `blobs/sha256/4f/4f2a…`. The two-character fan-out
   * keeps directories (and S3 listing pages) small. Throws on a malformed digest so that no
   * caller input can escape the `blobs/` tree.
   */
  blob(digest: string): string {
    const separator = digest.indexOf(':');
    const algorithm = separator > 0 ? digest.slice(0, separator) : '';
    const hex = separator > 0 ? digest.slice(separator + 1) : '';
    if (!StorageLayout.algorithmPattern.test(algorithm) || !StorageLayout.hexPattern.test(hex)) {
      throw new Error(`invalid digest for a blob key: ${JSON.stringify(digest)}`);
    }
    const expectedLength = StorageLayout.knownHexLengths[algorithm];
    if (expectedLength !== undefined ? hex.length !== expectedLength : hex.length < 2) {
      throw new Error(
        `invalid ${algorithm} digest length for a blob key: ${JSON.stringify(digest)}`,
      );
    }
    return `${StorageLayout.blobsPrefix}${algorithm}/${hex.slice(0, 2)}/${hex}`;
  }

  /** Inverse of `blob()`: the digest stored at a key, or undefined for any other key. */
  digestOfBlobKey(key: string): string | undefined {
    const match = StorageLayout.blobKeyPattern.exec(key);
    if (match === null) return undefined;
    const [, algorithm, fanOut, hex] = match;
    if (!hex.startsWith(fanOut)) return undefined;
    const digest = `${algorithm}:${hex}`;
    try {
      return this.blob(digest) === key ? digest : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * Prefix (ending in `/`) under which a driver keeps the state of upload `id`. Only drivers
   * use it; upload ids are validated here (letters, digits, `-`, `_`; a UUID fits).
   */
  upload(id: string): string {
    StorageLayout.assertUploadId(id);
    return `${StorageLayout.uploadsPrefix}${id}/`;
  }

  static assertUploadId(id: string): void {
    if (!StorageLayout.uploadIdPattern.test(id)) {
      throw new Error(`invalid upload id: ${JSON.stringify(id)}`);
    }
  }

  /**
   * Drivers call this on every key they receive: a key is a non-empty relative path of
   * non-empty segments, none of them `.` or `..`, without backslashes or control characters.
   */
  static assertKey(key: string): void {
    const invalid =
      key.length === 0 ||
      key.length > 1024 ||
      // eslint-disable-next-line no-control-regex
      /[\\\u0000-\u001f\u007f]/.test(key) ||
      key.split('/').some((segment) => segment === '' || segment === '.' || segment === '..');
    if (invalid) throw new Error(`invalid storage key: ${JSON.stringify(key)}`);
  }

  /** Like `assertKey` for a listing prefix, which may be empty or end with `/`. */
  static assertPrefix(prefix: string): void {
    if (prefix === '') return;
    StorageLayout.assertKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  }
}
