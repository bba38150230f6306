import { Inject, Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { isValidRepositoryName } from '@berth/oci';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import type { AccessEntry } from './access-scope';
import { KeyRingService } from './key-ring.service';
import { PermissionService } from './permission.service';
import { isUuid, sha256, type Authenticated, type Principal } from './principal.service';

/** Claims of a registry token (Docker token specification plus our revocation handles). */
export interface RegistryClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: AccessEntry[];
  /** Principal id; absent for anonymous tokens. */
  pid?: string;
  /** Access token id the credentials came from, so revoking it revokes this token. */
  tid?: string;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
  access: AccessEntry[];
  refreshToken?: string;
}

const REFRESH_PREFIX = 'brr_';

/**
 * Mints short-lived registry tokens whose `access` claim lists exactly the requested actions
 * the caller holds (requested ∩ allowed), and long-lived opaque refresh tokens (stored hashed).
 */
@Injectable()
export class TokenService {
  constructor(
    private readonly db: DataSource,
    private readonly keys: KeyRingService,
    private readonly permissions: PermissionService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async issue(
    caller: Authenticated | undefined,
    requested: AccessEntry[],
    withRefresh: boolean,
  ): Promise<IssuedToken> {
    const principal = caller?.principal;
    const access: AccessEntry[] = [];
    for (const entry of requested) {
      const granted = await this.grant(principal, entry);
      if (granted.length > 0) access.push({ type: entry.type, name: entry.name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const ttl = this.config.auth.tokenTtlSeconds;
    const claims: RegistryClaims = {
      iss: this.config.auth.issuer,
      sub: principal?.name ?? '',
      aud: this.config.auth.service,
      exp: now + ttl,
      nbf: now - 5,
      iat: now,
      jti: randomUUID(),
      access,
      ...(principal ? { pid: principal.id } : {}),
      ...(caller?.accessTokenId ? { tid: caller.accessTokenId } : {}),
    };
    const refreshToken =
      withRefresh && principal ? await this.createRefreshToken(caller) : undefined;
    return {
      token: this.keys.sign({ ...claims }),
      expiresIn: ttl,
      issuedAt: new Date(now * 1000).toISOString(),
      access,
      refreshToken,
    };
  }

  /** The principal a refresh token stands for, while it and its principal are valid. */
  async redeemRefreshToken(
    token: string,
  ): Promise<{ principalId: string; accessTokenId?: string } | undefined> {
    const match = /^brr_([0-9a-f-]{36})_([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match || !isUuid(match[1])) return undefined;
    const rows: { principal_id: string; access_token_id: string | null }[] = await this.db.query(
      `SELECT principal_id, access_token_id FROM refresh_tokens
        WHERE id = $1 AND secret_hash = $2 AND revoked_at IS NULL AND expires_at > now()`,
      [match[1], sha256(match[2])],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { principalId: row.principal_id, accessTokenId: row.access_token_id ?? undefined };
  }

  private async grant(principal: Principal | undefined, entry: AccessEntry): Promise<string[]> {
    if (entry.type === 'registry') {
      if (entry.name === 'catalog' && entry.actions.includes('*')) return ['*'];
      const admin =
        principal !== undefined && (principal.role === 'owner' || principal.role === 'admin');
      if (entry.name === 'admin' && entry.actions.includes('*') && admin) return ['*'];
      return [];
    }
    if (!isValidRepositoryName(entry.name)) return [];
    const allowed = await this.permissions.allowedActions(principal, entry.name);
    return entry.actions.filter((a) => allowed.has(a as 'pull' | 'push' | 'delete'));
  }

  private async createRefreshToken(caller: Authenticated | undefined): Promise<string | undefined> {
    if (!caller) return undefined;
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.db.query(
      `INSERT INTO refresh_tokens (id, principal_id, access_token_id, secret_hash, expires_at)
       VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
      [
        id,
        caller.principal.id,
        caller.accessTokenId ?? null,
        sha256(secret),
        this.config.auth.refreshTokenTtlSeconds,
      ],
    );
    return `${REFRESH_PREFIX}${id}_${secret}`;
  }
}
