import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DEFAULT_TIERS } from '../../billing/domain/default-tiers';

/**
 * The ten tiers of the product brief as seed data. Operators edit them through the API
 * afterwards (`PUT /api/v1/tiers/{name}`); this runs once, so edits are never overwritten.
 */
export class SeedTiers1733100000001 implements MigrationInterface {
  name = 'SeedTiers1733100000001';

  async up(q: QueryRunner): Promise<void> {
    for (const t of DEFAULT_TIERS) {
      await q.query(
        `INSERT INTO tiers (name, ordinal, disk_bytes, included_egress_bytes, overage_micros_per_gb,
                            monthly_price_micros, cpu_millis, memory_mib)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (name) DO NOTHING`,
        [
          t.name,
          t.ordinal * 10,
          t.diskBytes,
          t.includedEgressBytes,
          t.overagePerGbMicros,
          t.monthlyPriceMicros,
          t.cpuMillis,
          t.memoryMiB,
        ],
      );
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DELETE FROM tiers WHERE name = ANY($1)', [DEFAULT_TIERS.map((t) => t.name)]);
  }
}
