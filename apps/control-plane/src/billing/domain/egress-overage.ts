import { BillingErrorCode, BillingException } from './billing.exception';
import { type BillingMonth } from './billing-month';
import { type HourlyBytes, hourlyTotals } from './hourly-bytes';
import { BYTES_PER_GB, type Fraction, MICROS_PER_CENT, centsToNumber, roundHalfUp } from './money';
import { type BillingTier } from './tier';
import { type BilledTierPeriod } from './tier-time';

/** Egress above the allowance served during one tier period, at that tier's rate. */
export interface EgressOverageCharge {
  tier: BillingTier;
  /** The tier period's billed hours (see `BilledTierPeriod`). */
  firstHour: number;
  endHour: number;
  /** Bytes charged. */
  overageBytes: Fraction;
  /** overage GB × the tier's µ€/GB, rounded half-up to a cent. */
  amountCents: number;
}

export interface EgressOverage {
  /** Every byte served in the month. */
  servedBytes: bigint;
  /** The month's pooled allowance: Σ included egress × billed hours / hours-in-month. */
  allowanceBytes: Fraction;
  /** One entry per tier period in which the allowance was exceeded, in time order. */
  charges: EgressOverageCharge[];
}

/**
 * Egress overage for one registry and month.
 *
 * The allowance: each tier contributes its included egress prorated by the hours billed on it
 * (`included × H / hours-in-month`), and the contributions are pooled for the month. A full
 * month on one tier gets exactly that tier's allowance.
 *
 * The rate: the month's egress, hour by hour in time order, uses up the pool; every byte
 * served after the pool is empty is charged at the overage rate of the tier billed for the hour
 * it was served in (the same hour rule as tier time). Overage is summed per tier period and
 * each period's amount is rounded once, half-up, to a cent.
 *
 * Example (30-day month, 720 h): scr-10 (200 GB) for 240 h, then scr-25 (750 GB) for 480 h.
 * Allowance = 200 × 240/720 + 750 × 480/720 = 66.67 + 500 = 566.67 GB. With 400 GB served in
 * the scr-10 hours and 300 GB in the scr-25 hours, the first 400 GB leave 166.67 GB in the
 * pool, so 133.33 GB of the scr-25 hours are over: 133.33 × EUR 0.0045 = EUR 0.60.
 *
 * Egress metered in an hour that no tier period bills is refused (there is no rate for it).
 */
export function computeEgressOverage(
  billed: readonly BilledTierPeriod[],
  egress: readonly HourlyBytes[],
  month: BillingMonth,
): EgressOverage {
  const totals = hourlyTotals(egress, month, 'egress');
  const hoursInMonth = BigInt(month.hours);

  // Which billed period each hour belongs to; -1 where none does.
  const owner = new Int32Array(month.hours).fill(-1);
  billed.forEach((period, index) => owner.fill(index, period.firstHour, period.endHour));

  // Everything below is in bytes × hours-in-month, where the prorated allowance is an integer.
  let remaining = 0n;
  for (const period of billed) {
    remaining += BigInt(period.tier.includedEgressBytes) * BigInt(period.hours);
  }
  const allowance = remaining;
  const overage = billed.map(() => 0n);
  let served = 0n;
  totals.forEach((bytes, hour) => {
    if (bytes === 0n) return;
    const index = owner[hour];
    if (index < 0) {
      throw new BillingException(
        BillingErrorCode.EGRESS_WITHOUT_TIER,
        `egress of ${bytes} bytes in hour ${month.hourIso(hour)}, which no tier period bills`,
      );
    }
    served += bytes;
    const scaled = bytes * hoursInMonth;
    const covered = scaled < remaining ? scaled : remaining;
    remaining -= covered;
    overage[index] += scaled - covered;
  });

  const charges: EgressOverageCharge[] = [];
  billed.forEach((period, index) => {
    const scaledBytes = overage[index];
    if (scaledBytes === 0n) return;
    const cents = roundHalfUp(
      scaledBytes * BigInt(period.tier.overagePerGbMicros),
      hoursInMonth * BYTES_PER_GB * MICROS_PER_CENT,
    );
    charges.push({
      tier: period.tier,
      firstHour: period.firstHour,
      endHour: period.endHour,
      overageBytes: { numerator: scaledBytes, denominator: hoursInMonth },
      amountCents: centsToNumber(cents),
    });
  });
  return {
    servedBytes: served,
    allowanceBytes: { numerator: allowance, denominator: hoursInMonth },
    charges,
  };
}
