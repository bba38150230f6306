import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Egress metering: bytes of blobs and manifests served, per UTC hour, repository and principal
 * (`anonymous` when none). Rows hold running totals, added to in batches by each process, and
 * are reported as absolute values so that a repeated report never counts anything twice.
 */
export class EgressMetering1733000000000 implements MigrationInterface {
  name = 'EgressMetering1733000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE egress_hourly (
        hour timestamptz NOT NULL CHECK (date_trunc('hour', hour AT TIME ZONE 'UTC') = hour AT TIME ZONE 'UTC'),
        repository text COLLATE "C" NOT NULL,
        principal text COLLATE "C" NOT NULL,
        bytes bigint NOT NULL DEFAULT 0 CHECK (bytes >= 0),
        requests bigint NOT NULL DEFAULT 0 CHECK (requests >= 0),
        PRIMARY KEY (hour, repository, principal)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS egress_hourly');
  }
}
