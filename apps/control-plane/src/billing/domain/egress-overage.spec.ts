import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BillingErrorCode } from './billing.exception';
import { BillingMonth } from './billing-month';
import { DEFAULT_TIERS } from './default-tiers';
import { computeEgressOverage } from './egress-overage';
import { type HourlyBytes } from './hourly-bytes';
import { tierByName } from './tier';
import { billTierPeriods } from './tier-time';

const GB = 1_000_000_000;
const NOV = BillingMonth.parse('2026-11'); // 720 hours
const scr10 = tierByName(DEFAULT_TIERS, 'scr-10');
const scr25 = tierByName(DEFAULT_TIERS, 'scr-25');

/** scr-10 for the first 10 days (240 h), scr-25 for the other 20 (480 h). */
const upgradedOnDay11 = billTierPeriods(
  [
    { tier: scr10, from: '2026-11-01T00:00:00Z', to: '2026-11-11T00:00:00Z' },
    { tier: scr25, from: '2026-11-11T00:00:00Z', to: null },
  ],
  NOV,
);

function at(hour: number, bytes: number): HourlyBytes {
  return { hour: NOV.hourIso(hour), bytes };
}

describe('computeEgressOverage', () => {
  it('charges nothing within the allowance', () => {
    const full = billTierPeriods([{ tier: scr10, from: '2026-11-01T00:00:00Z', to: null }], NOV);
    const result = computeEgressOverage(full, [at(0, 120 * GB), at(719, 80 * GB)], NOV);
    assert.equal(result.servedBytes, 200n * BigInt(GB));
    assert.deepEqual(result.charges, []);
  });

  it('pools prorated allowances and charges the rate of the hour the excess was served in', () => {
    // Allowance: 200 GB * 240/720 + 750 GB * 480/720 = 66.666667 + 500 = 566.666667 GB.
    // 400 GB served in the scr-10 hours leave 166.666667 GB; of the 300 GB served in the
    // scr-25 hours 133.333333 GB are over: 133.333333 * EUR 0.0045 = EUR 0.60 -> 60 cents.
    const result = computeEgressOverage(
      upgradedOnDay11,
      [at(10, 400 * GB), at(300, 300 * GB)],
      NOV,
    );
    assert.equal(
      result.allowanceBytes.numerator * 3n,
      1_700n * BigInt(GB) * result.allowanceBytes.denominator,
    ); // 1700/3 GB
    assert.equal(result.charges.length, 1);
    const [charge] = result.charges;
    assert.equal(charge.tier.name, 'scr-25');
    assert.deepEqual([charge.firstHour, charge.endHour], [240, 720]);
    assert.equal(
      charge.overageBytes.numerator * 3n,
      400n * BigInt(GB) * charge.overageBytes.denominator,
    ); // 400/3 GB
    assert.equal(charge.amountCents, 60);
  });

  it('uses the pool in time order: the same bytes served earlier are charged at the earlier rate', () => {
    // 700 GB in the first hour (scr-10): 700 - 566.666667 = 133.333333 GB over at
    // EUR 0.005 = EUR 0.666667 -> 67 cents (60 cents when served on scr-25, above).
    const result = computeEgressOverage(upgradedOnDay11, [at(0, 700 * GB)], NOV);
    assert.deepEqual(
      result.charges.map((c) => [c.tier.name, c.amountCents]),
      [['scr-10', 67]],
    );
  });

  it('splits the excess between the periods it was served in', () => {
    // 600 GB in hour 0 (scr-10): 33.333333 GB over at EUR 0.005 = 0.166667 -> 17 cents.
    // 100 GB in hour 500 (scr-25): all over at EUR 0.0045 = EUR 0.45 -> 45 cents.
    const result = computeEgressOverage(upgradedOnDay11, [at(500, 100 * GB), at(0, 600 * GB)], NOV);
    assert.deepEqual(
      result.charges.map((c) => [c.tier.name, c.amountCents]),
      [
        ['scr-10', 17],
        ['scr-25', 45],
      ],
    );
  });

  it('refuses egress in an hour no tier period bills, but not a zero in that hour', () => {
    const created = billTierPeriods([{ tier: scr10, from: '2026-11-10T00:00:00Z', to: null }], NOV);
    assert.throws(() => computeEgressOverage(created, [at(5, 1)], NOV), {
      code: BillingErrorCode.EGRESS_WITHOUT_TIER,
    });
    assert.deepEqual(computeEgressOverage(created, [at(5, 0)], NOV).charges, []);
  });

  it('refuses malformed hourly totals', () => {
    const cases: [HourlyBytes[], BillingErrorCode][] = [
      [[at(3, GB), at(3, GB)], BillingErrorCode.DUPLICATE_HOUR],
      [[{ hour: '2026-11-01T03:15:00Z', bytes: 1 }], BillingErrorCode.HOUR_NOT_ALIGNED],
      [[{ hour: '2026-12-01T00:00:00Z', bytes: 1 }], BillingErrorCode.HOUR_OUTSIDE_MONTH],
      [[at(3, -1)], BillingErrorCode.INVALID_BYTES],
      [[at(3, 1.5)], BillingErrorCode.INVALID_BYTES],
      [[at(3, 2 ** 53)], BillingErrorCode.INVALID_BYTES],
      [[{ hour: 'not a time', bytes: 1 }], BillingErrorCode.INVALID_INSTANT],
    ];
    for (const [egress, code] of cases) {
      assert.throws(() => computeEgressOverage(upgradedOnDay11, egress, NOV), { code });
    }
  });
});
