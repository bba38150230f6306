import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BillingErrorCode } from './billing.exception';
import { BillingMonth } from './billing-month';
import { DEFAULT_TIERS } from './default-tiers';
import { type BillingTier, tierByName } from './tier';
import { type BilledTierPeriod, type TierPeriod, billTierPeriods } from './tier-time';

const NOV = BillingMonth.parse('2026-11'); // 30 days, 720 hours
const scr10 = tierByName(DEFAULT_TIERS, 'scr-10');
const scr25 = tierByName(DEFAULT_TIERS, 'scr-25');
const scr50 = tierByName(DEFAULT_TIERS, 'scr-50');

function period(tier: BillingTier, from: string, to: string | null): TierPeriod {
  return { tier, from, to };
}

/** [tier, firstHour, endHour, cents] of each billed period. */
function summary(billed: BilledTierPeriod[]): [string, number, number, number][] {
  return billed.map((p) => [p.tier.name, p.firstHour, p.endHour, p.amountCents]);
}

describe('billTierPeriods: the hour rule', () => {
  it('bills the started hour in full when a registry is created mid-hour', () => {
    // Created 2026-11-05 10:30: hours from 11-05 10:00 (index 4*24+10 = 106) to the end, 614 h.
    // 3.02 * 614 / 720 = 2.575389 -> 258 cents.
    const billed = billTierPeriods([period(scr10, '2026-11-05T10:30:00Z', null)], NOV);
    assert.deepEqual(summary(billed), [['scr-10', 106, 720, 258]]);
    assert.equal(billed[0].hours, 614);
  });

  it('bills the hour in which a registry is deleted in full', () => {
    // 11-01 00:00 to 11-05 10:30: hours 0..106, 107 h. 3.02 * 107 / 720 = 0.448806 -> 45 cents.
    const billed = billTierPeriods(
      [period(scr10, '2026-11-01T00:00:00Z', '2026-11-05T10:30:00Z')],
      NOV,
    );
    assert.deepEqual(summary(billed), [['scr-10', 0, 107, 45]]);
  });

  it('bills the hour of a tier change at the new tier', () => {
    // Upgrade at 11-16 14:20: hour 14:00-15:00 (index 15*24+14 = 374) is scr-25's.
    const billed = billTierPeriods(
      [
        period(scr10, '2026-11-01T00:00:00Z', '2026-11-16T14:20:00Z'),
        period(scr25, '2026-11-16T14:20:00Z', null),
      ],
      NOV,
    );
    assert.deepEqual(
      billed.map((p) => [p.tier.name, p.firstHour, p.endHour, p.hours]),
      [
        ['scr-10', 0, 374, 374],
        ['scr-25', 374, 720, 346],
      ],
    );
  });

  it('bills nothing for periods superseded within their own hour', () => {
    // scr-10 10:00-10:10 and scr-25 10:10-10:40 both end inside hour 10, which scr-50 takes.
    const billed = billTierPeriods(
      [
        period(scr10, '2026-11-01T10:00:00Z', '2026-11-01T10:10:00Z'),
        period(scr25, '2026-11-01T10:10:00Z', '2026-11-01T10:40:00Z'),
        period(scr50, '2026-11-01T10:40:00Z', null),
      ],
      NOV,
    );
    // 7.49 * 710 / 720 = 7.385972 -> 739 cents.
    assert.deepEqual(summary(billed), [['scr-50', 10, 720, 739]]);
  });

  it('leaves gaps unbilled and keeps separate periods of one tier apart', () => {
    const billed = billTierPeriods(
      [
        // given out of order: the result is in time order
        period(scr10, '2026-11-03T12:00:00Z', null),
        period(scr10, '2026-11-01T00:00:00Z', '2026-11-02T00:30:00Z'),
      ],
      NOV,
    );
    // Hours 0..24 (25 h): 3.02 * 25 / 720 = 0.104861 -> 10 cents.
    // Hours 60..719 (660 h): 3.02 * 660 / 720 = 2.768333 -> 277 cents.
    assert.deepEqual(summary(billed), [
      ['scr-10', 0, 25, 10],
      ['scr-10', 60, 720, 277],
    ]);
  });

  it('clips periods reaching over the month boundaries', () => {
    const billed = billTierPeriods(
      [
        period(scr10, '2026-10-20T00:00:00Z', '2026-11-10T00:00:00Z'),
        period(scr25, '2026-11-30T23:30:00Z', '2026-12-01T05:00:00Z'),
      ],
      NOV,
    );
    // scr-10: 9 days = 216 h, 3.02 * 216 / 720 = 0.906 -> 91 cents.
    // scr-25: the last hour only, 5.47 / 720 = 0.007597 -> 1 cent.
    assert.deepEqual(summary(billed), [
      ['scr-10', 0, 216, 91],
      ['scr-25', 719, 720, 1],
    ]);
  });

  it('accepts Dates as well as ISO strings', () => {
    const billed = billTierPeriods(
      [
        {
          tier: scr10,
          from: new Date('2026-11-01T00:00:00Z'),
          to: new Date('2026-12-01T00:00:00Z'),
        },
      ],
      NOV,
    );
    assert.deepEqual(summary(billed), [['scr-10', 0, 720, 302]]);
  });
});

describe('billTierPeriods: validation', () => {
  const cases: [string, TierPeriod[], BillingErrorCode][] = [
    [
      'overlapping periods',
      [
        period(scr10, '2026-11-01T00:00:00Z', '2026-11-10T00:00:00Z'),
        period(scr25, '2026-11-09T23:59:00Z', null),
      ],
      BillingErrorCode.OVERLAPPING_PERIODS,
    ],
    [
      'an open period followed by another one',
      [period(scr10, '2026-11-01T00:00:00Z', null), period(scr25, '2026-11-20T00:00:00Z', null)],
      BillingErrorCode.OVERLAPPING_PERIODS,
    ],
    [
      'a period identical to another',
      [
        period(scr10, '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z'),
        period(scr10, '2026-11-01T00:00:00Z', '2026-11-02T00:00:00Z'),
      ],
      BillingErrorCode.OVERLAPPING_PERIODS,
    ],
    [
      'a period before the month (ending at its start)',
      [period(scr10, '2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z')],
      BillingErrorCode.PERIOD_OUTSIDE_MONTH,
    ],
    [
      'a period after the month (starting at its end)',
      [period(scr10, '2026-12-01T00:00:00Z', null)],
      BillingErrorCode.PERIOD_OUTSIDE_MONTH,
    ],
    [
      'a period ending before it starts',
      [period(scr10, '2026-11-10T00:00:00Z', '2026-11-09T00:00:00Z')],
      BillingErrorCode.INVALID_PERIOD,
    ],
    [
      'an empty period',
      [period(scr10, '2026-11-10T00:00:00Z', '2026-11-10T00:00:00Z')],
      BillingErrorCode.INVALID_PERIOD,
    ],
    [
      'a zoneless instant',
      [period(scr10, '2026-11-10T00:00:00', null)],
      BillingErrorCode.INVALID_INSTANT,
    ],
    [
      'a fractional price',
      [period({ ...scr10, monthlyPriceMicros: 3_020_000.5 }, '2026-11-01T00:00:00Z', null)],
      BillingErrorCode.INVALID_TIER,
    ],
    [
      'a negative overage rate',
      [period({ ...scr10, overagePerGbMicros: -1 }, '2026-11-01T00:00:00Z', null)],
      BillingErrorCode.INVALID_TIER,
    ],
    [
      'a tier without a name',
      [period({ ...scr10, name: ' ' }, '2026-11-01T00:00:00Z', null)],
      BillingErrorCode.INVALID_TIER,
    ],
  ];
  for (const [name, periods, code] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(() => billTierPeriods(periods, NOV), { name: 'BillingException', code });
    });
  }

  it('accepts touching periods and no periods at all', () => {
    assert.equal(
      billTierPeriods(
        [
          period(scr10, '2026-11-01T00:00:00Z', '2026-11-10T00:00:00Z'),
          period(scr25, '2026-11-10T00:00:00Z', null),
        ],
        NOV,
      ).length,
      2,
    );
    assert.deepEqual(billTierPeriods([], NOV), []);
  });
});
