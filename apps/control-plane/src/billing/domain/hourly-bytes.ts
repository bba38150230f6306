import { BillingErrorCode, BillingException } from './billing.exception';
import { type BillingMonth, type Instant } from './billing-month';

/**
 * One hourly total of a metered byte series (egress served, snapshot space occupied): `hour`
 * is the start of the UTC hour.
 *
 * Bytes are a JavaScript `number`, a non-negative safe integer: what `EgressRecord.bytes` of
 * the platform contracts carries and what a repository gets from a `bigint` column with
 * `Number()`. One hour's figure stays far below 2^53 bytes (9 PB); sums and products are
 * computed on bigint, so nothing is lost however many hours add up.
 */
export interface HourlyBytes {
  hour: Instant;
  bytes: number;
}

/** Asserts that `bytes` is a non-negative safe integer. */
export function assertBytes(bytes: number, what: string): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0) {
    throw new BillingException(
      BillingErrorCode.INVALID_BYTES,
      `${what} must be a non-negative safe integer of bytes, got ${bytes}`,
    );
  }
}

/**
 * The series as one bigint per hour of the month (0 for hours without a sample). Refuses
 * samples outside the month, not on an hour boundary, or naming the same hour twice (hourly
 * totals are one row per hour; a second row would count bytes twice).
 */
export function hourlyTotals(
  samples: readonly HourlyBytes[],
  month: BillingMonth,
  series: string,
): bigint[] {
  const totals = new Array<bigint>(month.hours).fill(0n);
  const seen = new Uint8Array(month.hours);
  samples.forEach((sample, index) => {
    const what = `${series} sample #${index}`;
    assertBytes(sample.bytes, `${what} bytes`);
    const hour = month.sampleHour(sample.hour, `${what} hour`);
    if (seen[hour] === 1) {
      throw new BillingException(
        BillingErrorCode.DUPLICATE_HOUR,
        `${what}: ${series} hour ${month.hourIso(hour)} appears more than once`,
      );
    }
    seen[hour] = 1;
    totals[hour] = BigInt(sample.bytes);
  });
  return totals;
}
