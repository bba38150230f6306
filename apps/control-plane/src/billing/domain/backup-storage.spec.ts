import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeBackupStorage } from './backup-storage';
import { BillingErrorCode } from './billing.exception';
import { BillingMonth } from './billing-month';
import { type HourlyBytes } from './hourly-bytes';

const GB = 1_000_000_000;

function constant(month: BillingMonth, from: number, to: number, bytes: number): HourlyBytes[] {
  const samples: HourlyBytes[] = [];
  for (let hour = from; hour < to; hour++) samples.push({ hour: month.hourIso(hour), bytes });
  return samples;
}

describe('computeBackupStorage', () => {
  const nov = BillingMonth.parse('2026-11'); // 720 hours

  it('charges GB-months of occupied snapshot space at EUR 0.05', () => {
    // 10 GB for 360 h then 30 GB for 360 h: (10*360 + 30*360) / 720 = 20 GB-months,
    // 20 * EUR 0.05 = EUR 1.00.
    const charge = computeBackupStorage(
      [...constant(nov, 0, 360, 10 * GB), ...constant(nov, 360, 720, 30 * GB)],
      nov,
    );
    assert.equal(charge.byteHours, 14_400n * BigInt(GB));
    assert.equal(charge.gbMonths.numerator / charge.gbMonths.denominator, 20n);
    assert.equal(charge.gbMonths.numerator % charge.gbMonths.denominator, 0n);
    assert.equal(charge.rateMicrosPerGbMonth, 50_000);
    assert.equal(charge.amountCents, 100);
  });

  it('counts hours without a sample as no space', () => {
    // 30 GB for the last 360 h only: 15 GB-months = EUR 0.75.
    assert.equal(computeBackupStorage(constant(nov, 360, 720, 30 * GB), nov).amountCents, 75);
    assert.equal(computeBackupStorage([], nov).amountCents, 0);
  });

  it('charges the same for a constant size whatever the month length', () => {
    // 7 GB all month: 7 * EUR 0.05 = EUR 0.35, in February as in December.
    for (const label of ['2026-02', '2028-02', '2026-11', '2026-12']) {
      const month = BillingMonth.parse(label);
      const charge = computeBackupStorage(constant(month, 0, month.hours, 7 * GB), month);
      assert.equal(charge.amountCents, 35, label);
    }
  });

  it('sums 744 hourly shares exactly (no float drift)', () => {
    // 10.1 GB all of December (744 h): 10.1 * 0.05 = EUR 0.505 exactly -> 51 cents (half-up).
    // Adding 744 float shares of 10.1 * 0.05 / 744 gives 0.50499999999999...: 50 cents.
    const dec = BillingMonth.parse('2026-12');
    const charge = computeBackupStorage(constant(dec, 0, 744, 10_100_000_000), dec);
    assert.equal(charge.amountCents, 51);
  });

  it('takes the rate as a parameter', () => {
    // 20 GB-months at EUR 0.08 = EUR 1.60.
    const samples = constant(nov, 0, 720, 20 * GB);
    assert.equal(computeBackupStorage(samples, nov, 80_000).amountCents, 160);
    assert.equal(computeBackupStorage(samples, nov, 0).amountCents, 0);
    assert.throws(() => computeBackupStorage(samples, nov, -1), {
      code: BillingErrorCode.INVALID_RATE,
    });
    assert.throws(() => computeBackupStorage(samples, nov, 0.5), {
      code: BillingErrorCode.INVALID_RATE,
    });
  });

  it('refuses two samples for one hour', () => {
    assert.throws(
      () => computeBackupStorage([...constant(nov, 0, 2, GB), ...constant(nov, 1, 2, GB)], nov),
      {
        code: BillingErrorCode.DUPLICATE_HOUR,
      },
    );
  });
});
