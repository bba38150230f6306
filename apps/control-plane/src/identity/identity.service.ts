import { returnedRows } from '../common/sql';
import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import { problems } from '../common/problem';
import { SESSION_KEYS, type SessionKeys } from './session-keys';
import type { Actor } from './actor';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';

export const SESSION_ISSUER = 'berth-control-plane';
export const SESSION_AUDIENCE = 'berth-api';
export const API_KEY_PREFIX = 'bk_';
const REFRESH_PREFIX = 'brf_';

export interface Account {
  id: string;
  email: string;
  name: string;
  operator: boolean;
  disabled: boolean;
  createdAt: string;
}

export interface SessionTokens {
  tokenType: 'Bearer';
  accessToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  /** Single use: each refresh returns a new one and revokes the old. */
  refreshToken: string;
  account: Account;
}

export interface ApiKeyInfo {
  id: string;
  name: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revoked: boolean;
}

interface AccountRow {
  id: string;
  email: string;
  name: string;
  operator: boolean;
  disabled: boolean;
  created_at: Date;
  password_hash?: string | null;
}

const ACCOUNT_COLUMNS = 'id, email, name, operator, disabled, created_at';

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/**
 * Accounts and how they prove who they are: passwords (argon2id), short-lived session JWTs
 * with single-use refresh tokens, and API keys for automation. Sign-in providers attach to
 * `account_identities`; `password` is the first, OpenID Connect can be a second without
 * changing the session code.
 */
@Injectable()
export class IdentityService {
  constructor(
    private readonly db: DataSource,
    @Inject(SESSION_KEYS) private readonly keys: SessionKeys,
  ) {}

  async signup(input: { email: string; name: string; password: string }): Promise<Account> {
    const email = input.email.trim().toLowerCase();
    const problem = passwordProblem(input.password);
    if (problem) throw problems.validation([{ name: 'password', reason: problem }]);
    const hash = await hashPassword(input.password);
    const rows: AccountRow[] = await this.db.query(
      `INSERT INTO accounts (id, email, name, password_hash) VALUES ($1, $2, $3, $4)
       ON CONFLICT (email) DO NOTHING RETURNING ${ACCOUNT_COLUMNS}`,
      [randomUUID(), email, input.name.trim(), hash],
    );
    const row = rows[0];
    if (!row) throw problems.conflict(`an account with e-mail ${email} already exists`);
    await this.db.query(
      `INSERT INTO account_identities (provider, subject, account_id) VALUES ('password', $1, $2)`,
      [email, row.id],
    );
    return toAccount(row);
  }

  /** Creates the operator account on first start, or returns the existing one. */
  async ensureOperator(
    email: string,
    password: string,
  ): Promise<{ account: Account; created: boolean }> {
    const existing = await this.findByEmail(email);
    if (existing) {
      if (!existing.operator)
        await this.db.query('UPDATE accounts SET operator = true WHERE id = $1', [existing.id]);
      return { account: { ...existing, operator: true }, created: false };
    }
    const account = await this.signup({ email, name: 'Platform administrator', password });
    await this.db.query('UPDATE accounts SET operator = true WHERE id = $1', [account.id]);
    return { account: { ...account, operator: true }, created: true };
  }

  async findByEmail(email: string): Promise<Account | null> {
    const rows: AccountRow[] = await this.db.query(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE email = $1`,
      [email.trim().toLowerCase()],
    );
    return rows[0] ? toAccount(rows[0]) : null;
  }

  async login(emailRaw: string, password: string): Promise<SessionTokens> {
    const email = emailRaw.trim().toLowerCase();
    const rows: AccountRow[] = await this.db.query(
      `SELECT ${ACCOUNT_COLUMNS}, password_hash FROM accounts WHERE email = $1`,
      [email],
    );
    const row = rows[0];
    const ok = await verifyPassword(row?.password_hash ?? null, password);
    if (!row || !ok || row.disabled) {
      throw problems.unauthorized('wrong e-mail or password, or the account is disabled');
    }
    return this.issue(toAccount(row));
  }

  /** Exchanges a refresh token for new tokens; the old refresh token stops working. */
  async refresh(refreshToken: string): Promise<SessionTokens> {
    const [id, secret] = parseRefresh(refreshToken);
    const rows: (AccountRow & { expires_at: Date })[] = returnedRows(
      await this.db.query(
        `UPDATE refresh_tokens r SET revoked_at = now()
        FROM accounts a
       WHERE r.id = $1 AND r.secret_hash = $2 AND r.revoked_at IS NULL AND r.expires_at > now()
         AND a.id = r.account_id AND NOT a.disabled
       RETURNING a.id, a.email, a.name, a.operator, a.disabled, a.created_at, r.expires_at`,
        [id, sha256(secret)],
      ),
    );
    const row = rows[0];
    if (!row) throw problems.unauthorized('the refresh token is unknown, used, revoked or expired');
    return this.issue(toAccount(row));
  }

  async logout(refreshToken: string): Promise<void> {
    const [id, secret] = parseRefresh(refreshToken);
    await this.db.query(
      'UPDATE refresh_tokens SET revoked_at = now() WHERE id = $1 AND secret_hash = $2 AND revoked_at IS NULL',
      [id, sha256(secret)],
    );
  }

  /** The actor of a verified session token, or null when the account is gone or disabled. */
  async actorForSession(accountId: string): Promise<Actor | null> {
    const rows: AccountRow[] = await this.db.query(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1 AND NOT disabled`,
      [accountId],
    );
    const row = rows[0];
    return row
      ? { accountId: row.id, email: row.email, operator: row.operator, via: 'session' }
      : null;
  }

  async actorForApiKey(key: string): Promise<Actor | null> {
    const rows: AccountRow[] = returnedRows(
      await this.db.query(
        `UPDATE api_keys k SET last_used_at = now()
         FROM accounts a
        WHERE k.secret_hash = $1 AND k.revoked_at IS NULL
          AND (k.expires_at IS NULL OR k.expires_at > now())
          AND a.id = k.account_id AND NOT a.disabled
        RETURNING a.id, a.email, a.name, a.operator, a.disabled, a.created_at`,
        [sha256(key)],
      ),
    );
    const row = rows[0];
    return row
      ? { accountId: row.id, email: row.email, operator: row.operator, via: 'api-key' }
      : null;
  }

  async account(accountId: string): Promise<Account> {
    const rows: AccountRow[] = await this.db.query(
      `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1`,
      [accountId],
    );
    if (!rows[0]) throw problems.notFound('account');
    return toAccount(rows[0]);
  }

  async createApiKey(
    accountId: string,
    name: string,
    expiresInDays: number | undefined,
  ): Promise<ApiKeyInfo & { key: string }> {
    const key = `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
    const rows: KeyRow[] = await this.db.query(
      `INSERT INTO api_keys (id, account_id, name, secret_hash, expires_at)
       VALUES ($1, $2, $3, $4, CASE WHEN $5::int IS NULL THEN NULL ELSE now() + make_interval(days => $5::int) END)
       RETURNING id, name, created_at, expires_at, last_used_at, revoked_at`,
      [randomUUID(), accountId, name, sha256(key), expiresInDays ?? null],
    );
    return { ...toKey(rows[0]), key };
  }

  async listApiKeys(accountId: string): Promise<ApiKeyInfo[]> {
    const rows: KeyRow[] = await this.db.query(
      `SELECT id, name, created_at, expires_at, last_used_at, revoked_at FROM api_keys
        WHERE account_id = $1 ORDER BY created_at, id`,
      [accountId],
    );
    return rows.map(toKey);
  }

  async revokeApiKey(accountId: string, id: string): Promise<void> {
    const rows: unknown[] = returnedRows(
      await this.db.query(
        `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
        WHERE id::text = $1 AND account_id = $2 RETURNING id`,
        [id, accountId],
      ),
    );
    if (rows.length === 0) throw problems.notFound('API key');
  }

  private async issue(account: Account): Promise<SessionTokens> {
    const ttl = this.keys.accessTtlSeconds;
    const accessToken = jwt.sign({ email: account.email }, this.keys.secret, {
      algorithm: 'HS256',
      subject: account.id,
      issuer: SESSION_ISSUER,
      audience: SESSION_AUDIENCE,
      expiresIn: ttl,
      jwtid: randomUUID(),
    });
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.db.query(
      `INSERT INTO refresh_tokens (id, account_id, secret_hash, expires_at)
       VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      [id, account.id, sha256(secret), this.keys.refreshTtlSeconds],
    );
    return {
      tokenType: 'Bearer',
      accessToken,
      expiresIn: ttl,
      refreshToken: `${REFRESH_PREFIX}${id}.${secret}`,
      account,
    };
  }
}

interface KeyRow {
  id: string;
  name: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

function toKey(row: KeyRow): ApiKeyInfo {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
    revoked: row.revoked_at !== null,
  };
}

function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    operator: row.operator,
    disabled: row.disabled,
    createdAt: row.created_at.toISOString(),
  };
}

function parseRefresh(token: string): [string, string] {
  const match = /^brf_([0-9a-f-]{36})\.([A-Za-z0-9_-]{20,})$/.exec(token);
  if (!match) throw problems.unauthorized('malformed refresh token');
  return [match[1], match[2]];
}
