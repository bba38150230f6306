import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Retention policies: per repository pattern (a repository glob, `**` for the whole
 * registry), the rules deciding which tags retention deletes. `rules` holds the policy without
 * its pattern: `{ keepLastN?, keepDays?, deleteAfterDays?: [{ tags, days }], keepPatterns?,
 * keepMin? }` (validated by the registry before it is stored). The most specific pattern
 * matching a repository decides; a repository no pattern matches is never touched.
 *
 * No new index on `tags` or `manifests`: evaluation reads a repository's tags through the
 * `tags` primary key (repository_id, name), and the deletion cascade uses `tags_manifest_idx`,
 * `manifest_references_digest_idx`, `manifests_subject_idx` and the manifests'
 * (repository_id, digest) key.
 */
export class RetentionPolicies1732700000000 implements MigrationInterface {
  name = 'RetentionPolicies1732700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE retention_policies (
        id uuid PRIMARY KEY,
        repository_pattern text COLLATE "C" NOT NULL UNIQUE,
        rules jsonb NOT NULL CHECK (jsonb_typeof(rules) = 'object'),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS retention_policies');
  }
}
