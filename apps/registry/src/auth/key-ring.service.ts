import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { createHash, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';

export const SIGNING_ALGORITHM = 'ES256';

interface SigningKey {
  kid: string;
  privateKeyPem: string;
  publicKeyPem: string;
  publicJwk: JsonWebKey;
  createdAt: Date;
  retiredAt: Date | null;
}

export interface PublicKeyInfo {
  kid: string;
  algorithm: string;
  createdAt: string;
  retiredAt: string | null;
  active: boolean;
}

/**
 * The registry's own token signing keys (ES256), kept in its database: one active key signs,
 * retired keys keep verifying until the last token they signed has expired, then are
 * dropped. Rotation is one call. Keys are per registry, so a token minted by another registry
 * never verifies here (and its `iss`/`aud` differ too).
 */
@Injectable()
export class KeyRingService implements OnModuleInit {
  private readonly logger = new Logger(KeyRingService.name);
  private keys: SigningKey[] = [];

  constructor(
    private readonly db: DataSource,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    if (!this.active()) await this.rotate();
  }

  sign(claims: Record<string, unknown>): string {
    const key = this.active();
    if (!key) throw new Error('no active signing key');
    return jwt.sign(claims, key.privateKeyPem, { algorithm: SIGNING_ALGORITHM, keyid: key.kid });
  }

  /** The PEM public key for `kid`, reloading the ring once when another replica rotated. */
  async publicKeyFor(kid: string | undefined): Promise<string | undefined> {
    if (!kid) return undefined;
    let key = this.keys.find((k) => k.kid === kid);
    if (!key) {
      await this.reload();
      key = this.keys.find((k) => k.kid === kid);
    }
    if (!key || !this.stillVerifies(key)) return undefined;
    return key.publicKeyPem;
  }

  /** Creates a new active key; the previous one verifies until its tokens expire. */
  async rotate(): Promise<PublicKeyInfo> {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicJwk = publicKey.export({ format: 'jwk' });
    const kid = thumbprint(publicJwk);
    const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await this.db.transaction(async (m) => {
      await m.query('UPDATE signing_keys SET retired_at = now() WHERE retired_at IS NULL');
      await m.query(
        `INSERT INTO signing_keys (kid, algorithm, private_key_pem, public_jwk) VALUES ($1, $2, $3, $4)`,
        [kid, SIGNING_ALGORITHM, privateKeyPem, JSON.stringify(publicJwk)],
      );
      // Keys retired longer ago than any token lives can no longer verify anything.
      await m.query(
        `DELETE FROM signing_keys WHERE retired_at < now() - make_interval(secs => $1)`,
        [this.config.auth.tokenTtlSeconds * 2],
      );
    });
    await this.reload();
    this.logger.log(`signing key rotated: new kid ${kid}`);
    return this.describe(this.active() as SigningKey);
  }

  list(): PublicKeyInfo[] {
    return this.keys.filter((k) => this.stillVerifies(k)).map((k) => this.describe(k));
  }

  /** RFC 7517 key set of the keys that still verify. */
  jwks(): { keys: JsonWebKey[] } {
    return {
      keys: this.keys
        .filter((k) => this.stillVerifies(k))
        .map((k) => ({ ...k.publicJwk, kid: k.kid, alg: SIGNING_ALGORITHM, use: 'sig' })),
    };
  }

  private active(): SigningKey | undefined {
    return this.keys.find((k) => k.retiredAt === null);
  }

  private stillVerifies(key: SigningKey): boolean {
    if (key.retiredAt === null) return true;
    return Date.now() - key.retiredAt.getTime() <= (this.config.auth.tokenTtlSeconds + 60) * 1000;
  }

  private describe(key: SigningKey): PublicKeyInfo {
    return {
      kid: key.kid,
      algorithm: SIGNING_ALGORITHM,
      createdAt: key.createdAt.toISOString(),
      retiredAt: key.retiredAt ? key.retiredAt.toISOString() : null,
      active: key.retiredAt === null,
    };
  }

  private async reload(): Promise<void> {
    const rows: {
      kid: string;
      private_key_pem: string;
      public_jwk: JsonWebKey;
      created_at: Date;
      retired_at: Date | null;
    }[] = await this.db.query(
      'SELECT kid, private_key_pem, public_jwk, created_at, retired_at FROM signing_keys ORDER BY created_at DESC',
    );
    this.keys = rows.map((r) => ({
      kid: r.kid,
      privateKeyPem: r.private_key_pem,
      publicJwk: r.public_jwk,
      publicKeyPem: createPublicKey({ key: r.public_jwk, format: 'jwk' })
        .export({ format: 'pem', type: 'spki' })
        .toString(),
      createdAt: r.created_at,
      retiredAt: r.retired_at,
    }));
  }
}

/** RFC 7638 JWK thumbprint of an EC public key. */
function thumbprint(jwk: JsonWebKey): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
