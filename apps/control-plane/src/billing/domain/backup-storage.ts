import { BillingErrorCode, BillingException } from './billing.exception';
import { type BillingMonth } from './billing-month';
import { type HourlyBytes, hourlyTotals } from './hourly-bytes';
import { BYTES_PER_GB, type Fraction, MICROS_PER_CENT, centsToNumber, roundHalfUp } from './money';

/** EUR 0.05 per GB-month of snapshot space, in micro-euros. */
export const DEFAULT_BACKUP_RATE_MICROS_PER_GB_MONTH = 50_000;

export interface BackupStorageCharge {
  /** Σ over the month's hours of the snapshot bytes sampled in that hour. */
  byteHours: bigint;
  /** byteHours / (10^9 × hours-in-month). */
  gbMonths: Fraction;
  /** The rate applied, µ€ per GB-month. */
  rateMicrosPerGbMonth: number;
  /** gbMonths × rate, rounded half-up to a cent. */
  amountCents: number;
}

/**
 * Backup storage: the space snapshots actually occupy, sampled hourly. Each hour is charged
 * `GB × rate / hours-in-month`, so a constant 20 GB for a whole month costs 20 × EUR 0.05 =
 * EUR 1.00 whatever the month's length. An hour without a sample counts as no space. The sum
 * is exact and rounded once, half-up, to a cent.
 */
export function computeBackupStorage(
  snapshots: readonly HourlyBytes[],
  month: BillingMonth,
  rateMicrosPerGbMonth: number = DEFAULT_BACKUP_RATE_MICROS_PER_GB_MONTH,
): BackupStorageCharge {
  if (!Number.isSafeInteger(rateMicrosPerGbMonth) || rateMicrosPerGbMonth < 0) {
    throw new BillingException(
      BillingErrorCode.INVALID_RATE,
      `the backup rate must be a non-negative safe integer of µ€ per GB-month, got ${rateMicrosPerGbMonth}`,
    );
  }
  let byteHours = 0n;
  for (const bytes of hourlyTotals(snapshots, month, 'snapshot')) byteHours += bytes;
  const denominator = BigInt(month.hours) * BYTES_PER_GB;
  const cents = roundHalfUp(
    byteHours * BigInt(rateMicrosPerGbMonth),
    denominator * MICROS_PER_CENT,
  );
  return {
    byteHours,
    gbMonths: { numerator: byteHours, denominator },
    rateMicrosPerGbMonth,
    amountCents: centsToNumber(cents),
  };
}
