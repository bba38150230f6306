import { BillingErrorCode, BillingException } from './billing.exception';
import { type BillingMonth, type Instant, instantMs } from './billing-month';
import { MICROS_PER_CENT, centsToNumber, roundHalfUp } from './money';
import { type BillingTier, assertBillingTier } from './tier';

/**
 * One row of a registry's tier history: the tier it was on from `from` (inclusive) to `to`
 * (exclusive), `to` null while it still is. Pass the rows that intersect the billed month;
 * rows reaching over its start or end are clipped to it.
 */
export interface TierPeriod {
  tier: BillingTier;
  from: Instant;
  to: Instant | null;
}

/** The hours of the month billed for one tier period. */
export interface BilledTierPeriod {
  tier: BillingTier;
  /** Index of the first billed hour of the month. */
  firstHour: number;
  /** Index one past the last billed hour. */
  endHour: number;
  /** endHour - firstHour, at least 1. */
  hours: number;
  /** monthlyPrice × hours / hours-in-month, rounded half-up to a cent. */
  amountCents: number;
}

interface ParsedPeriod {
  tier: BillingTier;
  fromMs: number;
  toMs: number;
  index: number;
}

function describe(period: ParsedPeriod): string {
  const to = Number.isFinite(period.toMs) ? new Date(period.toMs).toISOString() : 'open';
  return `tier period #${period.index} (${period.tier.name}, ${new Date(period.fromMs).toISOString()} to ${to})`;
}

/**
 * Hourly proration of tier prices. The rule: every UTC hour of the month in which the registry
 * existed is billed once, as a full hour, on the **last tier that was active during that
 * hour**. So an hour started counts as a full hour (a registry created at 10:30 pays 10:00 to
 * 11:00), and a tier change takes effect for the whole hour it happens in (an upgrade at 14:20
 * bills 14:00 to 15:00 at the new tier). A period superseded within its own hour bills nothing.
 *
 * A period is charged `monthlyPrice × H / (24 × days in month)` for its H billed hours, rounded
 * once, half-up, to a cent. Periods that bill no hour are left out of the result.
 *
 * Refused: a period ending at or before its start, a period that does not intersect the month,
 * two periods that overlap (touching is fine: one's `to` is the next one's `from`), an open
 * period that is not the last one.
 */
export function billTierPeriods(
  periods: readonly TierPeriod[],
  month: BillingMonth,
): BilledTierPeriod[] {
  const parsed: ParsedPeriod[] = periods.map((period, index) => {
    assertBillingTier(period.tier);
    const fromMs = instantMs(period.from, `tier period #${index} from`);
    const toMs =
      period.to === null
        ? Number.POSITIVE_INFINITY
        : instantMs(period.to, `tier period #${index} to`);
    const result = { tier: period.tier, fromMs, toMs, index };
    if (toMs <= fromMs) {
      throw new BillingException(
        BillingErrorCode.INVALID_PERIOD,
        `${describe(result)} does not end after it starts`,
      );
    }
    if (toMs <= month.startMs || fromMs >= month.endMs) {
      throw new BillingException(
        BillingErrorCode.PERIOD_OUTSIDE_MONTH,
        `${describe(result)} does not intersect ${month.label}`,
      );
    }
    return result;
  });
  parsed.sort((a, b) => a.fromMs - b.fromMs || a.index - b.index);
  for (let i = 1; i < parsed.length; i++) {
    const previous = parsed[i - 1];
    const current = parsed[i];
    if (previous.toMs > current.fromMs) {
      throw new BillingException(
        BillingErrorCode.OVERLAPPING_PERIODS,
        `${describe(previous)} overlaps ${describe(current)}`,
      );
    }
  }

  const hoursInMonth = BigInt(month.hours);
  const billed: BilledTierPeriod[] = [];
  parsed.forEach((period, i) => {
    const firstHour = month.hourContaining(Math.max(period.fromMs, month.startMs));
    let endHour = month.hourStartingAtOrAfter(Math.min(period.toMs, month.endMs));
    // The hour in which the next period starts belongs to the next period.
    if (i + 1 < parsed.length) {
      endHour = Math.min(endHour, month.hourContaining(parsed[i + 1].fromMs));
    }
    const hours = endHour - firstHour;
    if (hours <= 0) return;
    const cents = roundHalfUp(
      BigInt(period.tier.monthlyPriceMicros) * BigInt(hours),
      hoursInMonth * MICROS_PER_CENT,
    );
    billed.push({
      tier: period.tier,
      firstHour,
      endHour,
      hours,
      amountCents: centsToNumber(cents),
    });
  });
  return billed;
}
