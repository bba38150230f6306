/**
 * Why billing input was refused. The calculation never guesses around bad data (a double
 * counted hour, overlapping tier history): it stops with one of these, and the edge maps the
 * code to an RFC 9457 problem or to a failed billing run.
 */
export enum BillingErrorCode {
  /** The month is not `YYYY-MM` in 1970-01 … 9999-12. */
  INVALID_MONTH = 'INVALID_MONTH',
  /** An instant is neither a valid `Date` nor an ISO 8601 string with a time zone. */
  INVALID_INSTANT = 'INVALID_INSTANT',
  /** A tier's name or prices are not usable (empty name, negative or fractional amounts). */
  INVALID_TIER = 'INVALID_TIER',
  /** A rate given as an option is not a non-negative safe integer. */
  INVALID_RATE = 'INVALID_RATE',
  /** A tier period ends at or before it starts. */
  INVALID_PERIOD = 'INVALID_PERIOD',
  /** A tier period does not intersect the billed month. */
  PERIOD_OUTSIDE_MONTH = 'PERIOD_OUTSIDE_MONTH',
  /** Two tier periods of one registry overlap (an open period must be the last one). */
  OVERLAPPING_PERIODS = 'OVERLAPPING_PERIODS',
  /** A byte count is not a non-negative safe integer. */
  INVALID_BYTES = 'INVALID_BYTES',
  /** An hourly sample's hour is not the start of a UTC hour. */
  HOUR_NOT_ALIGNED = 'HOUR_NOT_ALIGNED',
  /** An hourly sample lies outside the billed month. */
  HOUR_OUTSIDE_MONTH = 'HOUR_OUTSIDE_MONTH',
  /** Two samples of one series name the same hour (hourly totals are one row per hour). */
  DUPLICATE_HOUR = 'DUPLICATE_HOUR',
  /** Egress was metered in an hour no tier period covers: there is no rate to price it. */
  EGRESS_WITHOUT_TIER = 'EGRESS_WITHOUT_TIER',
  /** The same registry appears twice in one invoice. */
  DUPLICATE_REGISTRY = 'DUPLICATE_REGISTRY',
  /** An amount does not fit a JavaScript number of cents (beyond 2^53 - 1). */
  AMOUNT_TOO_LARGE = 'AMOUNT_TOO_LARGE',
}

/** A refused billing input: a code to branch on and a message that names the culprit. */
export class BillingException extends Error {
  readonly code: BillingErrorCode;

  constructor(code: BillingErrorCode, message: string) {
    super(message);
    this.name = 'BillingException';
    this.code = code;
  }
}
