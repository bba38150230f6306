import { computeBackupStorage } from './backup-storage';
import { BillingErrorCode, BillingException } from './billing.exception';
import { BillingMonth } from './billing-month';
import { computeEgressOverage } from './egress-overage';
import { type HourlyBytes } from './hourly-bytes';
import {
  BYTES_PER_GB,
  type Fraction,
  centsToNumber,
  formatCents,
  formatDecimal,
  formatMicros,
} from './money';
import { type TierPeriod, billTierPeriods } from './tier-time';

export const INVOICE_CURRENCY = 'EUR';

/** What one registry did in the month, as repositories read it. */
export interface RegistryUsage {
  registryId: string;
  /** The registry's name as the customer knows it (shown in descriptions). */
  registryName: string;
  /** Its tier history rows that intersect the month (see `TierPeriod`). */
  tierPeriods: readonly TierPeriod[];
  /** Hourly egress totals (all repositories and principals of the hour summed). */
  egress: readonly HourlyBytes[];
  /** Hourly samples of the space its snapshots occupy; empty without snapshots. */
  snapshots: readonly HourlyBytes[];
}

export interface InvoiceInput {
  organisationId: string;
  /** `YYYY-MM` (UTC calendar month). */
  month: string | BillingMonth;
  registries: readonly RegistryUsage[];
}

export interface InvoiceOptions {
  /** µ€ per GB-month of snapshot space; EUR 0.05 (50,000 µ€) by default. */
  backupRateMicrosPerGbMonth?: number;
}

export type InvoiceLineKind = 'tier' | 'egress_overage' | 'backup_storage';
export type InvoiceUnit = 'month' | 'GB' | 'GB-month';

/** One charge. Every field is a string or a number: the object is ready for JSON. */
export interface InvoiceLine {
  registryId: string;
  registryName: string;
  kind: InvoiceLineKind;
  /** The tier of a tier line or whose rate an egress line uses; null on backup lines. */
  tier: string | null;
  /** First billed hour's start and last billed hour's end (ISO 8601, UTC). */
  periodStart: string;
  periodEnd: string;
  description: string;
  /**
   * Decimal quantity in `unit`, for reading: months and GB-months to 6 decimals, GB to 9 (a
   * byte). The amount is computed from the exact figures, not from this text.
   */
  quantity: string;
  unit: InvoiceUnit;
  /** Price per unit: exact integer micro-euros and the same as decimal euros ("0.0045"). */
  unitPriceMicros: number;
  unitPrice: string;
  /** quantity × unit price, rounded once, half-up, to a cent. */
  amountCents: number;
  /** amountCents as decimal euros ("1.01"). */
  amount: string;
}

export interface Invoice {
  organisationId: string;
  /** `YYYY-MM`. */
  month: string;
  periodStart: string;
  periodEnd: string;
  hoursInMonth: number;
  currency: typeof INVOICE_CURRENCY;
  lines: InvoiceLine[];
  subtotalCents: number;
  /** No tax is applied yet: the total equals the subtotal. */
  totalCents: number;
  subtotal: string;
  total: string;
}

/** `2026-11-16 14:00` (UTC) of an hour of the month. */
function hourLabel(month: BillingMonth, hour: number): string {
  return month.hourIso(hour).slice(0, 16).replace('T', ' ');
}

/** A byte quantity in GB, to at most `decimals` decimals. */
function gb(bytes: Fraction, decimals: number): string {
  return formatDecimal(bytes.numerator, bytes.denominator * BYTES_PER_GB, decimals);
}

/**
 * The invoice of one organisation for one month: per registry (ordered by name, then id), its
 * tier lines in time order, then its egress overage lines in time order, then its backup
 * storage line. Tier lines are always listed; egress and backup lines only when they amount
 * to at least a cent. Each line is rounded on its own; the subtotal is the sum of the lines.
 */
export function buildInvoice(input: InvoiceInput, options: InvoiceOptions = {}): Invoice {
  const month = typeof input.month === 'string' ? BillingMonth.parse(input.month) : input.month;
  const seen = new Set<string>();
  for (const registry of input.registries) {
    if (seen.has(registry.registryId)) {
      throw new BillingException(
        BillingErrorCode.DUPLICATE_REGISTRY,
        `registry ${registry.registryId} appears more than once`,
      );
    }
    seen.add(registry.registryId);
  }
  const registries = [...input.registries].sort((a, b) =>
    a.registryName === b.registryName
      ? compare(a.registryId, b.registryId)
      : compare(a.registryName, b.registryName),
  );

  const lines: InvoiceLine[] = [];
  for (const registry of registries) {
    const { registryId, registryName } = registry;
    const billed = billTierPeriods(registry.tierPeriods, month);
    for (const period of billed) {
      const { tier } = period;
      lines.push({
        registryId,
        registryName,
        kind: 'tier',
        tier: tier.name,
        periodStart: month.hourIso(period.firstHour),
        periodEnd: month.hourIso(period.endHour),
        description:
          `${registryName}: tier ${tier.name} from ${hourLabel(month, period.firstHour)} to ` +
          `${hourLabel(month, period.endHour)} UTC, ${period.hours} of ${month.hours} hours`,
        quantity: formatDecimal(BigInt(period.hours), BigInt(month.hours), 6),
        unit: 'month',
        unitPriceMicros: tier.monthlyPriceMicros,
        unitPrice: formatMicros(tier.monthlyPriceMicros),
        amountCents: period.amountCents,
        amount: formatCents(period.amountCents),
      });
    }

    const egress = computeEgressOverage(billed, registry.egress, month);
    for (const charge of egress.charges) {
      if (charge.amountCents === 0) continue;
      const { tier } = charge;
      lines.push({
        registryId,
        registryName,
        kind: 'egress_overage',
        tier: tier.name,
        periodStart: month.hourIso(charge.firstHour),
        periodEnd: month.hourIso(charge.endHour),
        description:
          `${registryName}: egress above the allowance at the ${tier.name} rate ` +
          `(month: ${gb({ numerator: egress.servedBytes, denominator: 1n }, 2)} GB served, ` +
          `${gb(egress.allowanceBytes, 2)} GB included)`,
        quantity: gb(charge.overageBytes, 9),
        unit: 'GB',
        unitPriceMicros: tier.overagePerGbMicros,
        unitPrice: formatMicros(tier.overagePerGbMicros),
        amountCents: charge.amountCents,
        amount: formatCents(charge.amountCents),
      });
    }

    const backup = computeBackupStorage(
      registry.snapshots,
      month,
      options.backupRateMicrosPerGbMonth,
    );
    if (backup.amountCents !== 0) {
      lines.push({
        registryId,
        registryName,
        kind: 'backup_storage',
        tier: null,
        periodStart: month.hourIso(0),
        periodEnd: month.hourIso(month.hours),
        description: `${registryName}: backup storage (space occupied by snapshots)`,
        quantity: formatDecimal(backup.gbMonths.numerator, backup.gbMonths.denominator, 6),
        unit: 'GB-month',
        unitPriceMicros: backup.rateMicrosPerGbMonth,
        unitPrice: formatMicros(backup.rateMicrosPerGbMonth),
        amountCents: backup.amountCents,
        amount: formatCents(backup.amountCents),
      });
    }
  }

  let subtotal = 0n;
  for (const line of lines) subtotal += BigInt(line.amountCents);
  const subtotalCents = centsToNumber(subtotal);
  return {
    organisationId: input.organisationId,
    month: month.label,
    periodStart: month.hourIso(0),
    periodEnd: month.hourIso(month.hours),
    hoursInMonth: month.hours,
    currency: INVOICE_CURRENCY,
    lines,
    subtotalCents,
    totalCents: subtotalCents,
    subtotal: formatCents(subtotalCents),
    total: formatCents(subtotalCents),
  };
}

/** Code-unit order: the same on every machine, whatever its locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
