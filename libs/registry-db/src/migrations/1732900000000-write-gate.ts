import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The write gate: one row holding the disk quota and the maintenance switch the control plane
 * sets (`PUT /admin/v1/write-gate`), and whether pushes are refused now. `blocked` is kept
 * because the quota has hysteresis: between its resume and block thresholds the answer depends
 * on which one was crossed last, so a restart must not forget it.
 */
export class WriteGate1732900000000 implements MigrationInterface {
  name = 'WriteGate1732900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE write_gate (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        quota jsonb,
        maintenance jsonb,
        blocked boolean NOT NULL DEFAULT false,
        blocked_changed_at timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('INSERT INTO write_gate DEFAULT VALUES');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS write_gate');
  }
}
