import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Immutable tag rules: tags matching `tag_pattern` in repositories matching `repository_pattern`. */
export class ImmutableTags1732600000000 implements MigrationInterface {
  name = 'ImmutableTags1732600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE immutable_tag_rules (
        id uuid PRIMARY KEY,
        repository_pattern text COLLATE "C" NOT NULL,
        tag_pattern text COLLATE "C" NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        UNIQUE (repository_pattern, tag_pattern)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS immutable_tag_rules');
  }
}
