import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { toPage, type Page, type PageRequest } from '../common/pagination';
import { problems } from '../common/problem';
import type { OrgScope } from '../orgs/org-scope';
import {
  BillingException,
  BillingMonth,
  buildInvoice,
  type Invoice,
  type RegistryUsage,
  type TierPeriod,
} from './domain';

interface PeriodRow {
  registry_id: string;
  registry_name: string;
  tier: string;
  starts_at: Date;
  ends_at: Date | null;
  included_egress_bytes: string;
  overage_micros_per_gb: string;
  monthly_price_micros: string;
}

/** Invoices from the tier history, the metered egress and the snapshot samples. */
@Injectable()
export class BillingService {
  constructor(private readonly db: DataSource) {}

  async invoice(scope: OrgScope, monthText: string): Promise<Invoice> {
    let month: BillingMonth;
    try {
      month = BillingMonth.parse(monthText);
    } catch (err) {
      if (err instanceof BillingException) {
        throw problems.validation([{ name: 'month', reason: 'must be YYYY-MM' }]);
      }
      throw err;
    }
    const start = new Date(month.startMs);
    const end = new Date(month.endMs);
    const periods: PeriodRow[] = await this.db.query(
      `SELECT p.registry_id, r.name AS registry_name, p.tier, p.starts_at, p.ends_at,
              t.included_egress_bytes, t.overage_micros_per_gb, t.monthly_price_micros
         FROM registry_tier_periods p
         JOIN registries r ON r.id = p.registry_id
         JOIN tiers t ON t.name = p.tier
        WHERE r.org_id = $1 AND p.starts_at < $3 AND (p.ends_at IS NULL OR p.ends_at > $2)
        ORDER BY r.name, p.starts_at`,
      [scope.orgId, start, end],
    );
    const byRegistry = new Map<string, RegistryUsage & { tierPeriods: TierPeriod[] }>();
    for (const row of periods) {
      let usage = byRegistry.get(row.registry_id);
      if (!usage) {
        usage = {
          registryId: row.registry_id,
          registryName: row.registry_name,
          tierPeriods: [],
          egress: await this.hourly(
            'SELECT hour, sum(bytes)::text AS bytes FROM egress_hourly WHERE registry_id = $1 AND hour >= $2 AND hour < $3 GROUP BY hour ORDER BY hour',
            row.registry_id,
            start,
            end,
          ),
          snapshots: await this.hourly(
            'SELECT hour, bytes::text AS bytes FROM snapshot_usage_hourly WHERE registry_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour',
            row.registry_id,
            start,
            end,
          ),
        };
        byRegistry.set(row.registry_id, usage);
      }
      usage.tierPeriods.push({
        tier: {
          name: row.tier,
          includedEgressBytes: Number(row.included_egress_bytes),
          overagePerGbMicros: Number(row.overage_micros_per_gb),
          monthlyPriceMicros: Number(row.monthly_price_micros),
        },
        from: row.starts_at,
        to: row.ends_at,
      });
    }
    return buildInvoice({
      organisationId: scope.orgId,
      month,
      registries: [...byRegistry.values()],
    });
  }

  /** The months that have an invoice, newest first: from the first registry to this month. */
  async months(scope: OrgScope, page: PageRequest): Promise<Page<{ month: string }>> {
    const rows: { first: Date | null }[] = await this.db.query(
      `SELECT min(p.starts_at) AS first FROM registry_tier_periods p
         JOIN registries r ON r.id = p.registry_id WHERE r.org_id = $1`,
      [scope.orgId],
    );
    const first = rows[0]?.first;
    const months: { month: string }[] = [];
    if (first) {
      const now = new Date();
      for (
        let y = now.getUTCFullYear(), m = now.getUTCMonth();
        y > first.getUTCFullYear() || (y === first.getUTCFullYear() && m >= first.getUTCMonth());
        m === 0 ? ((m = 11), y--) : m--
      ) {
        const label = `${y}-${String(m + 1).padStart(2, '0')}`;
        if (page.after === null || label < page.after) months.push({ month: label });
        if (months.length > page.limit) break;
      }
    }
    return toPage(months, page, (m) => m.month);
  }

  private async hourly(
    sql: string,
    registryId: string,
    start: Date,
    end: Date,
  ): Promise<{ hour: Date; bytes: number }[]> {
    const rows: { hour: Date; bytes: string }[] = await this.db.query(sql, [
      registryId,
      start,
      end,
    ]);
    return rows.map((r) => ({ hour: r.hour, bytes: Number(r.bytes) }));
  }
}
