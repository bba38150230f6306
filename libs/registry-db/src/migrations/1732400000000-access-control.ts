import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Access control of one registry: principals (users and CI service accounts), their access
 * tokens and refresh tokens, the repository access matrix, public repository patterns,
 * registry-wide settings and the token signing key ring.
 */
export class AccessControl1732400000000 implements MigrationInterface {
  name = 'AccessControl1732400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE principals (
        id uuid PRIMARY KEY,
        kind text NOT NULL CHECK (kind IN ('user', 'service_account')),
        name text COLLATE "C" NOT NULL UNIQUE,
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'reader', 'none')),
        password_hash text,
        disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE access_tokens (
        id uuid PRIMARY KEY,
        principal_id uuid NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        name text NOT NULL,
        secret_hash text NOT NULL,
        expires_at timestamptz,
        last_used_at timestamptz,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX access_tokens_principal_idx ON access_tokens (principal_id)`);
    await q.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY,
        principal_id uuid NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        access_token_id uuid REFERENCES access_tokens(id) ON DELETE CASCADE,
        secret_hash text NOT NULL,
        expires_at timestamptz NOT NULL,
        revoked_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE grants (
        id uuid PRIMARY KEY,
        principal_id uuid NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
        pattern text COLLATE "C" NOT NULL,
        actions text[] NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (principal_id, pattern)
      )`);
    await q.query(`
      CREATE TABLE public_patterns (
        pattern text COLLATE "C" PRIMARY KEY,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE registry_settings (
        key text PRIMARY KEY,
        value jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        algorithm text NOT NULL,
        private_key_pem text NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        retired_at timestamptz
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'signing_keys',
      'registry_settings',
      'public_patterns',
      'grants',
      'refresh_tokens',
      'access_tokens',
      'principals',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
