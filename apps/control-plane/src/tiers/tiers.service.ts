import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { TierDefinition } from '../billing/domain/tier';
import { problems } from '../common/problem';

/** A tier as the API shows it: the database row, money in micro-euros (integers). */
export interface Tier extends TierDefinition {
  available: boolean;
}

interface TierRow {
  name: string;
  ordinal: number;
  disk_bytes: string;
  included_egress_bytes: string;
  overage_micros_per_gb: string;
  monthly_price_micros: string;
  cpu_millis: number;
  memory_mib: number;
  available: boolean;
}

const COLUMNS = `name, ordinal, disk_bytes, included_egress_bytes, overage_micros_per_gb,
  monthly_price_micros, cpu_millis, memory_mib, available`;

/** The tiers table: seed data edited by operators; nothing else hard-codes a tier. */
@Injectable()
export class TiersService {
  constructor(private readonly db: DataSource) {}

  async list(): Promise<Tier[]> {
    const rows: TierRow[] = await this.db.query(`SELECT ${COLUMNS} FROM tiers ORDER BY ordinal`);
    return rows.map(toTier);
  }

  async get(name: string): Promise<Tier> {
    const rows: TierRow[] = await this.db.query(`SELECT ${COLUMNS} FROM tiers WHERE name = $1`, [
      name,
    ]);
    if (!rows[0]) throw problems.notFound(`tier ${name}`);
    return toTier(rows[0]);
  }

  /** The next larger available tier, or null at the largest. */
  async next(name: string): Promise<Tier | null> {
    const rows: TierRow[] = await this.db.query(
      `SELECT ${COLUMNS} FROM tiers
        WHERE available AND ordinal > (SELECT ordinal FROM tiers WHERE name = $1)
        ORDER BY ordinal LIMIT 1`,
      [name],
    );
    return rows[0] ? toTier(rows[0]) : null;
  }

  /** Creates or replaces a tier (operators). Registries on it pick the change up on their next apply. */
  async put(tier: Tier): Promise<Tier> {
    try {
      await this.db.query(
        `INSERT INTO tiers (name, ordinal, disk_bytes, included_egress_bytes, overage_micros_per_gb,
                            monthly_price_micros, cpu_millis, memory_mib, available, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
         ON CONFLICT (name) DO UPDATE SET ordinal = EXCLUDED.ordinal, disk_bytes = EXCLUDED.disk_bytes,
           included_egress_bytes = EXCLUDED.included_egress_bytes,
           overage_micros_per_gb = EXCLUDED.overage_micros_per_gb,
           monthly_price_micros = EXCLUDED.monthly_price_micros, cpu_millis = EXCLUDED.cpu_millis,
           memory_mib = EXCLUDED.memory_mib, available = EXCLUDED.available, updated_at = now()`,
        [
          tier.name,
          tier.ordinal,
          tier.diskBytes,
          tier.includedEgressBytes,
          tier.overagePerGbMicros,
          tier.monthlyPriceMicros,
          tier.cpuMillis,
          tier.memoryMiB,
          tier.available,
        ],
      );
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw problems.conflict(`another tier already has ordinal ${tier.ordinal}`);
      }
      throw err;
    }
    return this.get(tier.name);
  }
}

function toTier(row: TierRow): Tier {
  return {
    name: row.name,
    ordinal: row.ordinal,
    diskBytes: Number(row.disk_bytes),
    includedEgressBytes: Number(row.included_egress_bytes),
    overagePerGbMicros: Number(row.overage_micros_per_gb),
    monthlyPriceMicros: Number(row.monthly_price_micros),
    cpuMillis: row.cpu_millis,
    memoryMiB: row.memory_mib,
    available: row.available,
  };
}
