import { BillingErrorCode, BillingException } from './billing.exception';

/**
 * Money and quantities without floating point. Prices are integer micro-euros (1 EUR =
 * 1,000,000 µ€), which holds every price of the tier table exactly (EUR 0.0045 = 4,500 µ€);
 * invoice amounts are integer cents. Products such as bytes × µ€/GB exceed 2^53, so every
 * calculation runs on bigint and a division happens once, in `roundHalfUp`.
 */
export const MICROS_PER_EURO = 1_000_000n;
export const MICROS_PER_CENT = 10_000n;
/** Decimal units: 1 GB = 10^9 bytes (and 1 TB = 10^12). */
export const BYTES_PER_GB = 1_000_000_000n;

/**
 * An exact non-negative quantity `numerator / denominator`. Prorated quantities (an egress allowance
 * prorated by hours, GB-months) are kept exact this way; only a line's amount is rounded.
 */
export interface Fraction {
  numerator: bigint;
  denominator: bigint;
}

/**
 * numerator / denominator rounded to the nearest integer, halves away from zero (for the
 * non-negative amounts of an invoice: half-up, so 0.5 cent becomes 1 cent).
 */
export function roundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator <= 0n) throw new RangeError('roundHalfUp: the denominator must be positive');
  if (numerator < 0n) return -roundHalfUp(-numerator, denominator);
  return (2n * numerator + denominator) / (2n * denominator);
}

/** An integer number of cents as decimal euros with exactly two decimals: 302 → "3.02". */
export function formatCents(cents: bigint | number): string {
  const value = BigInt(cents);
  const abs = value < 0n ? -value : value;
  const text = `${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
  return value < 0n ? `-${text}` : text;
}

/**
 * Integer micro-euros as decimal euros with at least two and at most six decimals, nothing
 * lost: 3,020,000 → "3.02", 4,500 → "0.0045", 1 → "0.000001".
 */
export function formatMicros(micros: bigint | number): string {
  const value = BigInt(micros);
  const abs = value < 0n ? -value : value;
  let fraction = (abs % MICROS_PER_EURO).toString().padStart(6, '0');
  while (fraction.length > 2 && fraction.endsWith('0')) fraction = fraction.slice(0, -1);
  const text = `${abs / MICROS_PER_EURO}.${fraction}`;
  return value < 0n ? `-${text}` : text;
}

/**
 * numerator / denominator (both non-negative) as a decimal string rounded half-up to at most
 * `maxDecimals` decimals, trailing zeros dropped: (240, 720, 6) → "0.333333", (50, 1, 6) →
 * "50". For showing quantities; amounts are never computed from this text.
 */
export function formatDecimal(numerator: bigint, denominator: bigint, maxDecimals: number): string {
  if (numerator < 0n) throw new RangeError('formatDecimal: the numerator must not be negative');
  const scale = 10n ** BigInt(maxDecimals);
  const scaled = roundHalfUp(numerator * scale, denominator);
  const whole = (scaled / scale).toString();
  if (maxDecimals === 0) return whole;
  const fraction = (scaled % scale).toString().padStart(maxDecimals, '0').replace(/0+$/, '');
  return fraction === '' ? whole : `${whole}.${fraction}`;
}

/** A bigint amount of cents as a number, refused when it would not be exact. */
export function centsToNumber(cents: bigint): number {
  if (cents > BigInt(Number.MAX_SAFE_INTEGER) || cents < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new BillingException(
      BillingErrorCode.AMOUNT_TOO_LARGE,
      `${cents} cents is beyond what a JavaScript number holds exactly`,
    );
  }
  return Number(cents);
}
