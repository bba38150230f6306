import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The registry's metadata: repositories, deduplicated blobs, manifests, tags and uploads. */
export class InitialSchema1732300000000 implements MigrationInterface {
  name = 'InitialSchema1732300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE repositories (
        id bigserial PRIMARY KEY,
        name text COLLATE "C" NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE blobs (
        digest text PRIMARY KEY,
        size bigint NOT NULL CHECK (size >= 0),
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE repository_blobs (
        repository_id bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest text NOT NULL REFERENCES blobs(digest),
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (repository_id, digest)
      )`);
    await q.query(`CREATE INDEX repository_blobs_digest_idx ON repository_blobs (digest)`);
    await q.query(`
      CREATE TABLE manifests (
        id bigserial PRIMARY KEY,
        repository_id bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        digest text NOT NULL,
        media_type text NOT NULL,
        size integer NOT NULL,
        content bytea NOT NULL,
        artifact_type text,
        subject_digest text,
        annotations jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (repository_id, digest)
      )`);
    await q.query(
      `CREATE INDEX manifests_subject_idx ON manifests (repository_id, subject_digest) WHERE subject_digest IS NOT NULL`,
    );
    await q.query(`
      CREATE TABLE manifest_references (
        manifest_id bigint NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
        digest text NOT NULL,
        kind text NOT NULL CHECK (kind IN ('config', 'layer', 'manifest')),
        PRIMARY KEY (manifest_id, digest, kind)
      )`);
    await q.query(`CREATE INDEX manifest_references_digest_idx ON manifest_references (digest)`);
    await q.query(`
      CREATE TABLE tags (
        repository_id bigint NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
        name text COLLATE "C" NOT NULL,
        manifest_id bigint NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (repository_id, name)
      )`);
    await q.query(`CREATE INDEX tags_manifest_idx ON tags (manifest_id)`);
    await q.query(`
      CREATE TABLE uploads (
        id uuid PRIMARY KEY,
        repository_name text NOT NULL,
        size bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'uploads',
      'tags',
      'manifest_references',
      'manifests',
      'repository_blobs',
      'blobs',
      'repositories',
    ]) {
      await q.query(`DROP TABLE IF EXISTS ${table}`);
    }
  }
}
