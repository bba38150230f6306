import type { TierDefinition } from './tier';

/** Decimal units: 1 GB = 10^9 bytes (1 TB = 1,000 GB = 10^12 bytes). */
const GB = 1_000_000_000;

/**
 * The ten tiers of the product brief, as seed data for the tiers table. Nothing in the billing
 * calculation reads this constant: the tiers table does, and tier periods carry their tier.
 *
 * Every figure is an exact integer: sizes in decimal GB (1.5 TB = 1,500 GB), prices in
 * micro-euros (EUR 0.0045 = 4,500 µ€, EUR 3.02 = 3,020,000 µ€). scr-1024's disk is 1,024 GB:
 * every tier is named after its disk in GB, and the brief's "1.0 TB" is that figure at one
 * decimal. Runtime sizing grows with the tier from 250 millicores / 256 MiB to 2 cores /
 * 2 GiB; the feature set is the same on every tier.
 */
const TABLE: readonly (readonly [string, number, number, number, number, number, number])[] = [
  // name       disk GB  egress GB  overage µ€/GB  monthly µ€  cpu m  memory MiB
  ['scr-10', 10, 200, 5_000, 3_020_000, 250, 256],
  ['scr-25', 25, 750, 4_500, 5_470_000, 250, 384],
  ['scr-50', 50, 1_500, 4_000, 7_490_000, 500, 512],
  ['scr-75', 75, 2_250, 3_500, 10_010_000, 500, 640],
  ['scr-100', 100, 3_000, 3_000, 12_100_000, 750, 768],
  ['scr-200', 200, 6_000, 2_800, 19_940_000, 1000, 1024],
  ['scr-250', 250, 8_000, 2_500, 23_900_000, 1000, 1280],
  ['scr-500', 500, 16_000, 2_000, 43_630_000, 1500, 1536],
  ['scr-750', 750, 24_000, 1_700, 63_360_000, 1750, 1792],
  ['scr-1024', 1_024, 32_000, 1_500, 85_030_000, 2000, 2048],
];

export const DEFAULT_TIERS: readonly TierDefinition[] = Object.freeze(
  TABLE.map(([name, diskGb, egressGb, overage, monthly, cpuMillis, memoryMiB], index) =>
    Object.freeze({
      name,
      ordinal: index + 1,
      diskBytes: diskGb * GB,
      includedEgressBytes: egressGb * GB,
      overagePerGbMicros: overage,
      monthlyPriceMicros: monthly,
      cpuMillis,
      memoryMiB,
    }),
  ),
);
