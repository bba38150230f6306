import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Online garbage collection: `gc_pending` marks blobs being collected (a marked blob is
 * neither served nor accepted as a manifest reference; an upload of the same bytes clears the
 * mark), which makes a collection resumable after a crash; `gc_runs` keeps the history.
 */
export class GarbageCollection1732800000000 implements MigrationInterface {
  name = 'GarbageCollection1732800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE gc_pending (
        digest text PRIMARY KEY,
        marked_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE gc_runs (
        id uuid PRIMARY KEY,
        started_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        dry_run boolean NOT NULL,
        blobs_deleted integer NOT NULL DEFAULT 0,
        bytes_freed bigint NOT NULL DEFAULT 0,
        manifests_deleted integer NOT NULL DEFAULT 0,
        uploads_deleted integer NOT NULL DEFAULT 0,
        error text
      )`);
    await q.query(`CREATE INDEX blobs_created_idx ON blobs (created_at)`);
    await q.query(`CREATE INDEX uploads_updated_idx ON uploads (updated_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS uploads_updated_idx');
    await q.query('DROP INDEX IF EXISTS blobs_created_idx');
    await q.query('DROP TABLE IF EXISTS gc_runs');
    await q.query('DROP TABLE IF EXISTS gc_pending');
  }
}
