import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BillingErrorCode } from './billing.exception';
import { centsToNumber, formatCents, formatDecimal, formatMicros, roundHalfUp } from './money';

describe('roundHalfUp', () => {
  it('rounds halves up and everything else to the nearest integer', () => {
    assert.equal(roundHalfUp(5n, 10n), 1n); // 0.5
    assert.equal(roundHalfUp(15n, 10n), 2n); // 1.5 (half-even would give 2 too)
    assert.equal(roundHalfUp(25n, 10n), 3n); // 2.5 (half-even would give 2)
    assert.equal(roundHalfUp(4_999_999n, 10_000_000n), 0n); // 0.4999999
    assert.equal(roundHalfUp(5_000_001n, 10_000_000n), 1n);
    assert.equal(roundHalfUp(0n, 7n), 0n);
    assert.equal(roundHalfUp(14n, 7n), 2n);
  });

  it('rounds negative halves away from zero', () => {
    assert.equal(roundHalfUp(-5n, 10n), -1n);
    assert.equal(roundHalfUp(-4n, 10n), 0n);
  });

  it('is exact far beyond 2^53', () => {
    // (2^80 + 0.5) rounds to 2^80 + 1
    assert.equal(roundHalfUp(2n ** 81n + 1n, 2n), 2n ** 80n + 1n);
  });

  it('refuses a zero or negative denominator', () => {
    assert.throws(() => roundHalfUp(1n, 0n), RangeError);
    assert.throws(() => roundHalfUp(1n, -3n), RangeError);
  });
});

describe('formatting', () => {
  it('formats cents as euros with two decimals', () => {
    assert.equal(formatCents(302), '3.02');
    assert.equal(formatCents(5), '0.05');
    assert.equal(formatCents(0), '0.00');
    assert.equal(formatCents(100), '1.00');
    assert.equal(formatCents(-7), '-0.07');
    assert.equal(formatCents(1_004_395_200n), '10043952.00');
  });

  it('formats micro-euros with two to six decimals, nothing lost', () => {
    assert.equal(formatMicros(3_020_000), '3.02');
    assert.equal(formatMicros(4_500), '0.0045');
    assert.equal(formatMicros(50_000), '0.05');
    assert.equal(formatMicros(12_100_000), '12.10');
    assert.equal(formatMicros(1), '0.000001');
    assert.equal(formatMicros(0), '0.00');
  });

  it('formats a fraction to at most N decimals, half-up, without trailing zeros', () => {
    assert.equal(formatDecimal(240n, 720n, 6), '0.333333');
    assert.equal(formatDecimal(480n, 720n, 6), '0.666667');
    assert.equal(formatDecimal(720n, 720n, 6), '1');
    assert.equal(formatDecimal(1n, 8n, 6), '0.125');
    assert.equal(formatDecimal(1n, 2_000_000n, 6), '0.000001'); // 0.0000005 rounds up
    assert.equal(formatDecimal(1n, 2_000_001n, 6), '0');
    assert.equal(formatDecimal(7n, 2n, 0), '4');
  });

  it('refuses cents beyond a safe number', () => {
    assert.equal(centsToNumber(2n ** 53n - 1n), Number.MAX_SAFE_INTEGER);
    assert.throws(() => centsToNumber(2n ** 53n), { code: BillingErrorCode.AMOUNT_TOO_LARGE });
  });
});
