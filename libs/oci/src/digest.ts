import { createHash, type Hash } from 'node:crypto';

import { OciError, OciErrorCode } from './errors';
import { quote } from './internal/quote';

export type DigestAlgorithm = 'sha256' | 'sha512';

/** Algorithms the registry verifies content with. */
export const SUPPORTED_DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = Object.freeze([
  'sha256',
  'sha512',
]);

/** A parsed, validated content digest. */
export interface Digest {
  algorithm: DigestAlgorithm;
  /** The encoded part: lowercase hex. */
  hex: string;
  /** The canonical string form, e.g. `sha256:…`. */
  value: string;
}

/**
 * Digest grammar of the OCI image spec:
 *   digest    ::= algorithm ":" encoded
 *   algorithm ::= [a-z0-9]+ ([+._-] [a-z0-9]+)*
 *   encoded   ::= [a-zA-Z0-9=_-]+
 */
export const DIGEST_PATTERN = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

const ENCODED_PATTERN: Record<DigestAlgorithm, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

/** Whether `s` is syntactically a digest (any algorithm, encoding not checked). */
export function isDigestString(s: string): boolean {
  return typeof s === 'string' && DIGEST_PATTERN.test(s);
}

export function isSupportedDigestAlgorithm(algorithm: string): algorithm is DigestAlgorithm {
  return (SUPPORTED_DIGEST_ALGORITHMS as readonly string[]).includes(algorithm);
}

/**
 * Parse and validate a digest. Throws OciError(DIGEST_INVALID) when `s` is malformed, uses an
 * algorithm the registry does not support, or has an encoded part of the wrong form for its
 * algorithm (sha256: 64 lowercase hex characters, sha512: 128).
 */
export function parseDigest(s: string): Digest {
  if (typeof s !== 'string' || !DIGEST_PATTERN.test(s)) {
    throw digestInvalid(s, `invalid digest ${describe(s)}: expected "<algorithm>:<encoded>"`);
  }
  const colon = s.indexOf(':');
  const algorithm = s.slice(0, colon);
  const hex = s.slice(colon + 1);
  if (!isSupportedDigestAlgorithm(algorithm)) {
    throw digestInvalid(
      s,
      `digest algorithm ${quote(algorithm)} is not supported; supported algorithms: ${SUPPORTED_DIGEST_ALGORITHMS.join(', ')}`,
    );
  }
  if (!ENCODED_PATTERN[algorithm].test(hex)) {
    const length = algorithm === 'sha256' ? 64 : 128;
    throw digestInvalid(
      s,
      `invalid ${algorithm} digest ${quote(s)}: the encoded part must be ${length} lowercase hex characters`,
    );
  }
  return { algorithm, hex, value: s };
}

/** Digest of in-memory content, e.g. `sha256:…`. */
export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  assertSupported(algorithm);
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** Incremental digest of streamed content. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  private readonly hash: Hash;
  private bytes = 0;
  private result: string | undefined;

  constructor(algorithm: DigestAlgorithm = 'sha256') {
    assertSupported(algorithm);
    this.algorithm = algorithm;
    this.hash = createHash(algorithm);
  }

  /** Number of bytes hashed so far. */
  get size(): number {
    return this.bytes;
  }

  update(chunk: Uint8Array): this {
    if (this.result !== undefined) throw new Error('Digester: update() after digest()');
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
    return this;
  }

  /** The digest of everything written (e.g. `sha256:…`); further calls return the same value. */
  digest(): string {
    this.result ??= `${this.algorithm}:${this.hash.digest('hex')}`;
    return this.result;
  }
}

function assertSupported(algorithm: string): asserts algorithm is DigestAlgorithm {
  if (!isSupportedDigestAlgorithm(algorithm)) {
    throw new OciError(
      OciErrorCode.DIGEST_INVALID,
      `digest algorithm ${quote(String(algorithm))} is not supported`,
    );
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? quote(value) : typeof value;
}

function digestInvalid(value: unknown, message: string): OciError {
  return new OciError(OciErrorCode.DIGEST_INVALID, message, {
    detail: typeof value === 'string' ? { digest: value.slice(0, 200) } : undefined,
  });
}
