import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BillingErrorCode } from './billing.exception';
import { BillingMonth, instantMs } from './billing-month';

describe('BillingMonth', () => {
  it('has 24 hours per day of the UTC calendar month', () => {
    const cases: [string, number, number][] = [
      ['2026-02', 28, 672],
      ['2028-02', 29, 696], // leap year
      ['2100-02', 28, 672], // not a leap year (divisible by 100, not by 400)
      ['2026-11', 30, 720],
      ['2026-12', 31, 744],
      ['2026-03', 31, 744], // daylight saving does not exist in UTC
    ];
    for (const [label, days, hours] of cases) {
      const month = BillingMonth.parse(label);
      assert.equal(month.days, days, label);
      assert.equal(month.hours, hours, label);
      assert.equal(month.label, label);
    }
  });

  it('spans first day 00:00Z to the next first day 00:00Z', () => {
    const month = BillingMonth.parse('2026-12');
    assert.equal(month.hourIso(0), '2026-12-01T00:00:00.000Z');
    assert.equal(month.hourIso(month.hours), '2027-01-01T00:00:00.000Z');
    assert.equal(month.hourIso(10), '2026-12-01T10:00:00.000Z');
  });

  it('refuses malformed months', () => {
    for (const label of ['2026-13', '2026-00', '2026-1', '26-11', '2026/11', '1969-12', '']) {
      assert.throws(
        () => BillingMonth.parse(label),
        { code: BillingErrorCode.INVALID_MONTH },
        label,
      );
    }
    assert.throws(() => BillingMonth.of(2026.5, 1), { code: BillingErrorCode.INVALID_MONTH });
  });

  it('maps an hourly sample to its hour index, refusing misaligned or outside hours', () => {
    const month = BillingMonth.parse('2026-11');
    assert.equal(month.sampleHour('2026-11-01T00:00:00Z', 'h'), 0);
    assert.equal(month.sampleHour('2026-11-30T23:00:00.000Z', 'h'), 719);
    assert.equal(month.sampleHour(new Date('2026-11-02T00:00:00Z'), 'h'), 24);
    assert.equal(month.sampleHour('2026-11-02T02:00:00+02:00', 'h'), 24);
    assert.throws(() => month.sampleHour('2026-11-02T00:30:00Z', 'h'), {
      code: BillingErrorCode.HOUR_NOT_ALIGNED,
    });
    assert.throws(() => month.sampleHour('2026-12-01T00:00:00Z', 'h'), {
      code: BillingErrorCode.HOUR_OUTSIDE_MONTH,
    });
    assert.throws(() => month.sampleHour('2026-10-31T23:00:00Z', 'h'), {
      code: BillingErrorCode.HOUR_OUTSIDE_MONTH,
    });
  });
});

describe('instantMs', () => {
  it('reads Dates and ISO strings with a zone', () => {
    const ms = Date.UTC(2026, 10, 16, 14, 20);
    assert.equal(instantMs(new Date(ms), 'x'), ms);
    assert.equal(instantMs('2026-11-16T14:20Z', 'x'), ms);
    assert.equal(instantMs('2026-11-16T14:20:00.000Z', 'x'), ms);
    assert.equal(instantMs('2026-11-16T15:20:00+01:00', 'x'), ms);
  });

  it('refuses zoneless strings, impossible dates and invalid Dates', () => {
    const bad = [
      '2026-11-16T14:20:00', // local time: refused
      '2026-11-16',
      '2026-02-30T00:00:00Z', // Date.parse would roll this over to March 2
      '2026-11-01T24:00:00Z',
      'yesterday',
    ];
    for (const value of bad) {
      assert.throws(() => instantMs(value, 'x'), { code: BillingErrorCode.INVALID_INSTANT }, value);
    }
    assert.throws(() => instantMs(new Date(Number.NaN), 'x'), {
      code: BillingErrorCode.INVALID_INSTANT,
    });
  });
});
