import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BillingErrorCode } from './billing.exception';
import { DEFAULT_TIERS } from './default-tiers';
import { assertBillingTier, nextTier, tierByName } from './tier';

describe('DEFAULT_TIERS', () => {
  it('holds the product brief table in decimal bytes and micro-euros', () => {
    // name, disk, included egress, overage EUR/GB, monthly EUR, as written in the brief
    const brief: [string, string, string, string, string][] = [
      ['scr-10', '10 GB', '200 GB', '0.005', '3.02'],
      ['scr-25', '25 GB', '750 GB', '0.0045', '5.47'],
      ['scr-50', '50 GB', '1.5 TB', '0.004', '7.49'],
      ['scr-75', '75 GB', '2.25 TB', '0.0035', '10.01'],
      ['scr-100', '100 GB', '3 TB', '0.003', '12.10'],
      ['scr-200', '200 GB', '6 TB', '0.0028', '19.94'],
      ['scr-250', '250 GB', '8 TB', '0.0025', '23.90'],
      ['scr-500', '500 GB', '16 TB', '0.002', '43.63'],
      ['scr-750', '750 GB', '24 TB', '0.0017', '63.36'],
      ['scr-1024', '1024 GB', '32 TB', '0.0015', '85.03'],
    ];
    // Parse the brief's text without floats: "1.5 TB" -> 1500000000000, "0.0045" -> 4500.
    const decimal = (text: string, scale: number): number => {
      const [whole, fraction = ''] = text.split('.');
      return Number(whole) * 10 ** scale + Number(fraction.padEnd(scale, '0'));
    };
    const bytes = (text: string): number => {
      const [value, unit] = text.split(' ');
      return decimal(value, unit === 'TB' ? 12 : 9);
    };
    assert.deepEqual(
      DEFAULT_TIERS.map((t) => [
        t.name,
        t.diskBytes,
        t.includedEgressBytes,
        t.overagePerGbMicros,
        t.monthlyPriceMicros,
      ]),
      brief.map(([name, disk, egress, overage, monthly]) => [
        name,
        bytes(disk),
        bytes(egress),
        decimal(overage, 6),
        decimal(monthly, 6),
      ]),
    );
    assert.equal(tierByName(DEFAULT_TIERS, 'scr-50').includedEgressBytes, 1_500_000_000_000);
    assert.equal(tierByName(DEFAULT_TIERS, 'scr-25').overagePerGbMicros, 4_500);
  });

  it('is a valid, ordered ladder with growing runtime sizing', () => {
    DEFAULT_TIERS.forEach((tier, index) => {
      assertBillingTier(tier);
      assert.equal(tier.ordinal, index + 1);
      for (const field of ['diskBytes', 'cpuMillis', 'memoryMiB'] as const) {
        assert.ok(Number.isSafeInteger(tier[field]) && tier[field] > 0, `${tier.name} ${field}`);
      }
      if (index > 0) {
        const previous = DEFAULT_TIERS[index - 1];
        assert.ok(tier.diskBytes > previous.diskBytes, tier.name);
        assert.ok(tier.includedEgressBytes > previous.includedEgressBytes, tier.name);
        assert.ok(tier.monthlyPriceMicros > previous.monthlyPriceMicros, tier.name);
        assert.ok(tier.overagePerGbMicros < previous.overagePerGbMicros, tier.name);
        assert.ok(tier.cpuMillis >= previous.cpuMillis, tier.name);
        assert.ok(tier.memoryMiB > previous.memoryMiB, tier.name);
      }
    });
    assert.equal(new Set(DEFAULT_TIERS.map((t) => t.name)).size, 10);
    assert.deepEqual([DEFAULT_TIERS[0].cpuMillis, DEFAULT_TIERS[0].memoryMiB], [250, 256]);
    assert.deepEqual([DEFAULT_TIERS[9].cpuMillis, DEFAULT_TIERS[9].memoryMiB], [2000, 2048]);
    assert.ok(Object.isFrozen(DEFAULT_TIERS) && Object.isFrozen(DEFAULT_TIERS[0]));
  });

  it('finds the next tier by ordinal', () => {
    assert.equal(nextTier(DEFAULT_TIERS, 'scr-10')?.name, 'scr-25');
    assert.equal(nextTier(DEFAULT_TIERS, 'scr-750')?.name, 'scr-1024');
    assert.equal(nextTier(DEFAULT_TIERS, 'scr-1024'), null);
    // order of the catalogue does not matter, gaps in ordinals neither
    const shuffled = [
      { name: 'c', ordinal: 30 },
      { name: 'a', ordinal: 10 },
      { name: 'b', ordinal: 20 },
    ];
    assert.equal(nextTier(shuffled, 'a')?.name, 'b');
    assert.throws(() => nextTier(DEFAULT_TIERS, 'scr-3'), { code: BillingErrorCode.INVALID_TIER });
  });
});
