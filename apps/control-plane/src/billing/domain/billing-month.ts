import { BillingErrorCode, BillingException } from './billing.exception';

/**
 * A point in time as a repository hands it over: a `Date` (what `pg` returns for
 * `timestamptz`) or an ISO 8601 string that names its time zone (`Z` or `±hh:mm`). A string
 * without a zone is refused: JavaScript would read it in the server's local time.
 */
export type Instant = Date | string;

export const MS_PER_HOUR = 3_600_000;

const ISO_WITH_ZONE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/** Whether an ISO string's fields name a real calendar time (`Date.parse` rolls Feb 30 over). */
function isCalendarTime(match: RegExpExecArray): boolean {
  const [year, month, day, hour, minute, second, offsetHour, offsetMinute] = match
    .slice(1)
    .map((field) => (field === undefined ? 0 : Number(field)));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHour <= 23 &&
    offsetMinute <= 59
  );
}

/** Milliseconds since the epoch of an instant; `what` names it in the error. */
export function instantMs(value: Instant, what: string): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) {
      throw new BillingException(BillingErrorCode.INVALID_INSTANT, `${what} is an invalid Date`);
    }
    return ms;
  }
  const match = typeof value === 'string' ? ISO_WITH_ZONE.exec(value) : null;
  const ms = match && isCalendarTime(match) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new BillingException(
      BillingErrorCode.INVALID_INSTANT,
      `${what} ${JSON.stringify(value)} is not an ISO 8601 instant with a time zone`,
    );
  }
  return ms;
}

/**
 * A calendar month in UTC, the billing period: [first day 00:00Z, first day of the next month
 * 00:00Z), with `days * 24` hours (no daylight saving in UTC: 672, 696, 720 or 744). Hours are
 * addressed by their index in the month, 0 for the first.
 */
export class BillingMonth {
  readonly year: number;
  /** 1 = January. */
  readonly month: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly days: number;
  readonly hours: number;

  private constructor(year: number, month: number) {
    this.year = year;
    this.month = month;
    this.startMs = Date.UTC(year, month - 1, 1);
    this.endMs = Date.UTC(year, month, 1);
    this.hours = (this.endMs - this.startMs) / MS_PER_HOUR;
    this.days = this.hours / 24;
  }

  static of(year: number, month: number): BillingMonth {
    if (!Number.isInteger(year) || year < 1970 || year > 9999) {
      throw new BillingException(BillingErrorCode.INVALID_MONTH, `year ${year} is out of range`);
    }
    if (!Number.isInteger(month) || month < 1 || month > 12) {
      throw new BillingException(BillingErrorCode.INVALID_MONTH, `month ${month} is out of range`);
    }
    return new BillingMonth(year, month);
  }

  /** `2026-11` → November 2026. */
  static parse(label: string): BillingMonth {
    const match = /^(\d{4})-(\d{2})$/.exec(label);
    if (!match) {
      throw new BillingException(
        BillingErrorCode.INVALID_MONTH,
        `month "${label}" is not in the form YYYY-MM`,
      );
    }
    return BillingMonth.of(Number(match[1]), Number(match[2]));
  }

  /** `YYYY-MM`. */
  get label(): string {
    return `${String(this.year).padStart(4, '0')}-${String(this.month).padStart(2, '0')}`;
  }

  /** ISO 8601 start of the hour with this index (index `hours` is the month's end). */
  hourIso(index: number): string {
    return new Date(this.startMs + index * MS_PER_HOUR).toISOString();
  }

  /** The index of the hour containing `ms` (an instant inside the month). */
  hourContaining(ms: number): number {
    return Math.floor((ms - this.startMs) / MS_PER_HOUR);
  }

  /** The index of the first hour that starts at or after `ms`. */
  hourStartingAtOrAfter(ms: number): number {
    return Math.ceil((ms - this.startMs) / MS_PER_HOUR);
  }

  /**
   * The index of the hour that an hourly sample names: it must be the exact start of a UTC
   * hour inside the month.
   */
  sampleHour(value: Instant, what: string): number {
    const ms = instantMs(value, what);
    if (ms < this.startMs || ms >= this.endMs) {
      throw new BillingException(
        BillingErrorCode.HOUR_OUTSIDE_MONTH,
        `${what} ${new Date(ms).toISOString()} is outside ${this.label}`,
      );
    }
    if ((ms - this.startMs) % MS_PER_HOUR !== 0) {
      throw new BillingException(
        BillingErrorCode.HOUR_NOT_ALIGNED,
        `${what} ${new Date(ms).toISOString()} is not the start of an hour`,
      );
    }
    return (ms - this.startMs) / MS_PER_HOUR;
  }
}
