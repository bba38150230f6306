import { Inject, Injectable } from '@nestjs/common';
import { hash, verify } from '@node-rs/argon2';
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { badRequest, conflict, notFound } from '../admin/admin-errors';

export type Role = 'owner' | 'admin' | 'developer' | 'reader' | 'none';
export type PrincipalKind = 'user' | 'service_account';
export const ROLES: readonly Role[] = ['owner', 'admin', 'developer', 'reader', 'none'];

export interface Principal {
  id: string;
  kind: PrincipalKind;
  name: string;
  role: Role;
  disabled: boolean;
  createdAt: string;
}

export interface AccessTokenInfo {
  id: string;
  name: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  createdAt: string;
}

/** A principal established from credentials, and the access token used, if any. */
export interface Authenticated {
  principal: Principal;
  accessTokenId?: string;
}

const TOKEN_PREFIX = 'brt_';
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

interface PrincipalRow {
  id: string;
  kind: PrincipalKind;
  name: string;
  role: Role;
  disabled: boolean;
  created_at: Date;
}

/**
 * Registry users and CI service accounts, their argon2id passwords and their access tokens
 * (random, shown once, stored as SHA-256 of a 256-bit secret, optionally expiring, revocable).
 * Verifying credentials costs the same whether or not the user exists.
 */
@Injectable()
export class PrincipalService {
  private dummyHash?: Promise<string>;

  constructor(
    private readonly db: DataSource,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  /** On a registry with no principal yet: the first administrator. Returns a generated password. */
  async bootstrapAdmin(): Promise<{ name: string; generatedPassword?: string } | undefined> {
    const rows: { n: string }[] = await this.db.query('SELECT count(*) AS n FROM principals');
    if (Number(rows[0]?.n ?? 0) > 0) return undefined;
    const generated =
      this.config.auth.adminPassword === undefined
        ? randomBytes(18).toString('base64url')
        : undefined;
    await this.create({
      kind: 'user',
      name: this.config.auth.adminUser,
      role: 'owner',
      password: this.config.auth.adminPassword ?? generated,
    });
    return { name: this.config.auth.adminUser, generatedPassword: generated };
  }

  async create(input: {
    kind: PrincipalKind;
    name: string;
    role: Role;
    password?: string;
  }): Promise<Principal> {
    if (!NAME_PATTERN.test(input.name)) {
      throw badRequest('name must be 1-64 of a-z 0-9 . _ - starting with a letter or digit');
    }
    const passwordHash = input.password === undefined ? null : await hashPassword(input.password);
    const id = randomUUID();
    const rows: PrincipalRow[] = await this.db.query(
      `INSERT INTO principals (id, kind, name, role, password_hash) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (name) DO NOTHING
       RETURNING id, kind, name, role, disabled, created_at`,
      [id, input.kind, input.name, input.role, passwordHash],
    );
    const row = rows[0];
    if (!row) throw conflict(`principal ${input.name} already exists`);
    return toPrincipal(row);
  }

  async list(): Promise<Principal[]> {
    const rows: PrincipalRow[] = await this.db.query(
      'SELECT id, kind, name, role, disabled, created_at FROM principals ORDER BY name',
    );
    return rows.map(toPrincipal);
  }

  async get(id: string): Promise<Principal | undefined> {
    if (!isUuid(id)) return undefined;
    const rows: PrincipalRow[] = await this.db.query(
      'SELECT id, kind, name, role, disabled, created_at FROM principals WHERE id = $1',
      [id],
    );
    return rows[0] ? toPrincipal(rows[0]) : undefined;
  }

  async require(id: string): Promise<Principal> {
    const principal = await this.get(id);
    if (!principal) throw notFound(`principal ${id} not found`);
    return principal;
  }

  async update(
    id: string,
    change: { role?: Role; disabled?: boolean; password?: string },
  ): Promise<Principal> {
    await this.require(id);
    const passwordHash =
      change.password === undefined ? undefined : await hashPassword(change.password);
    if (passwordHash !== undefined || change.disabled === true) {
      // A new password (or disabling) ends the sessions the old one started.
      await this.db.query(
        `UPDATE refresh_tokens SET revoked_at = now()
          WHERE principal_id = $1 AND access_token_id IS NULL AND revoked_at IS NULL`,
        [id],
      );
    }
    // TypeORM answers an UPDATE with [rows, affected].
    const [rows]: [PrincipalRow[], number] = await this.db.query(
      `UPDATE principals SET
         role = COALESCE($2, role),
         disabled = COALESCE($3, disabled),
         password_hash = COALESCE($4, password_hash),
         updated_at = now()
       WHERE id = $1 RETURNING id, kind, name, role, disabled, created_at`,
      [id, change.role ?? null, change.disabled ?? null, passwordHash ?? null],
    );
    return toPrincipal(rows[0]);
  }

  async delete(id: string): Promise<void> {
    await this.require(id);
    await this.db.query('DELETE FROM principals WHERE id = $1', [id]);
  }

  /**
   * Checks a username with a password or an access token. Unknown users cost one argon2
   * verification too, so response time does not tell whether a user exists.
   */
  async verifyCredentials(username: string, secret: string): Promise<Authenticated | undefined> {
    if (secret.startsWith(TOKEN_PREFIX)) return this.verifyAccessToken(username, secret);
    const rows: (PrincipalRow & { password_hash: string | null })[] = NAME_PATTERN.test(username)
      ? await this.db.query(
          'SELECT id, kind, name, role, disabled, created_at, password_hash FROM principals WHERE name = $1',
          [username],
        )
      : [];
    const row = rows[0];
    const stored = row?.password_hash ?? (await this.dummy());
    const ok = await verify(stored, secret).catch(() => false);
    if (!row || !row.password_hash || !ok || row.disabled) return undefined;
    return { principal: toPrincipal(row) };
  }

  /** Is this principal (and the access token its JWT came from) still allowed in? */
  async stillActive(principalId: string, accessTokenId?: string): Promise<Principal | undefined> {
    const rows: (PrincipalRow & { token_ok: boolean | null })[] = await this.db.query(
      `SELECT p.id, p.kind, p.name, p.role, p.disabled, p.created_at,
              (SELECT t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
                 FROM access_tokens t WHERE t.id = $2 AND t.principal_id = p.id) AS token_ok
         FROM principals p WHERE p.id = $1`,
      [principalId, accessTokenId ?? null],
    );
    const row = rows[0];
    if (!row || row.disabled) return undefined;
    if (accessTokenId !== undefined && row.token_ok !== true) return undefined;
    return toPrincipal(row);
  }

  async createAccessToken(
    principalId: string,
    name: string,
    expiresAt?: Date,
  ): Promise<{ token: string; info: AccessTokenInfo }> {
    await this.require(principalId);
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const token = `${TOKEN_PREFIX}${id.replace(/-/g, '')}_${secret}`;
    const rows: TokenRow[] = await this.db.query(
      `INSERT INTO access_tokens (id, principal_id, name, secret_hash, expires_at) VALUES ($1, $2, $3, $4, $5)
       RETURNING id, name, expires_at, last_used_at, revoked_at, created_at`,
      [id, principalId, name.slice(0, 200), sha256(secret), expiresAt ?? null],
    );
    return { token, info: toTokenInfo(rows[0]) };
  }

  async listAccessTokens(principalId: string): Promise<AccessTokenInfo[]> {
    const rows: TokenRow[] = await this.db.query(
      `SELECT id, name, expires_at, last_used_at, revoked_at, created_at FROM access_tokens
        WHERE principal_id = $1 ORDER BY created_at`,
      [principalId],
    );
    return rows.map(toTokenInfo);
  }

  async revokeAccessToken(principalId: string, tokenId: string): Promise<boolean> {
    if (!isUuid(tokenId)) return false;
    const result: [unknown[], number] = await this.db.query(
      'UPDATE access_tokens SET revoked_at = now() WHERE id = $1 AND principal_id = $2 AND revoked_at IS NULL',
      [tokenId, principalId],
    );
    return result[1] > 0;
  }

  private async verifyAccessToken(
    username: string,
    token: string,
  ): Promise<Authenticated | undefined> {
    const match = /^brt_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return undefined;
    const hex = match[1];
    const id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    const rows: (PrincipalRow & { secret_hash: string; usable: boolean })[] = await this.db.query(
      `SELECT p.id, p.kind, p.name, p.role, p.disabled, p.created_at, t.secret_hash,
              (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())) AS usable
         FROM access_tokens t JOIN principals p ON p.id = t.principal_id WHERE t.id = $1`,
      [id],
    );
    const row = rows[0];
    const expected = Buffer.from(row?.secret_hash ?? sha256('x'), 'hex');
    const given = Buffer.from(sha256(match[2]), 'hex');
    const same = timingSafeEqual(expected, given);
    if (!row || !same || !row.usable || row.disabled || row.name !== username) return undefined;
    await this.db.query('UPDATE access_tokens SET last_used_at = now() WHERE id = $1', [id]);
    return { principal: toPrincipal(row), accessTokenId: id };
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    return this.dummyHash;
  }
}

interface TokenRow {
  id: string;
  name: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

function toPrincipal(row: PrincipalRow): Principal {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    role: row.role,
    disabled: row.disabled,
    createdAt: row.created_at.toISOString(),
  };
}

function toTokenInfo(row: TokenRow): AccessTokenInfo {
  const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
  return {
    id: row.id,
    name: row.name,
    expiresAt: iso(row.expires_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    createdAt: row.created_at.toISOString(),
  };
}

export function hashPassword(password: string): Promise<string> {
  if (password.length < 8 || password.length > 1024) {
    throw badRequest('passwords must have 8 to 1024 characters');
  }
  // argon2id, OWASP's recommended minimum parameters (19 MiB, 2 passes).
  return hash(password, { memoryCost: 19456, timeCost: 2, parallelism: 1 });
}

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);
}
