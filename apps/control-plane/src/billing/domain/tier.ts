import { BillingErrorCode, BillingException } from './billing.exception';

/**
 * What billing needs to know about a tier. Tiers are data (rows of the tiers table, seeded
 * from `DEFAULT_TIERS`): nothing in the calculation knows a tier by name, every figure comes
 * in with the tier period that uses it. Byte counts are decimal (1 GB = 10^9 bytes); prices
 * are integer micro-euros (1 EUR = 1,000,000 µ€).
 */
export interface BillingTier {
  name: string;
  /** Egress included in a full month on this tier. */
  includedEgressBytes: number;
  /** Price of each GB (10^9 bytes) of egress above the allowance, µ€. */
  overagePerGbMicros: number;
  /** Price of a full calendar month on this tier, µ€. */
  monthlyPriceMicros: number;
}

/** A tier as seeded: the billing figures plus its disk cap and runtime sizing. */
export interface TierDefinition extends BillingTier {
  /** Position in the upgrade ladder, 1 for the smallest; the next tier has the next ordinal. */
  ordinal: number;
  /** Hard disk cap (decimal bytes). */
  diskBytes: number;
  /** CPU of the tenant's data plane, millicores. */
  cpuMillis: number;
  /** Memory of the tenant's data plane, MiB. */
  memoryMiB: number;
}

function isAmount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Refuses a tier whose figures cannot be billed exactly. */
export function assertBillingTier(tier: BillingTier): void {
  if (typeof tier.name !== 'string' || tier.name.trim() === '') {
    throw new BillingException(BillingErrorCode.INVALID_TIER, 'a tier has no name');
  }
  const fields = ['includedEgressBytes', 'overagePerGbMicros', 'monthlyPriceMicros'] as const;
  for (const field of fields) {
    if (!isAmount(tier[field])) {
      throw new BillingException(
        BillingErrorCode.INVALID_TIER,
        `tier ${tier.name}: ${field} must be a non-negative safe integer, got ${tier[field]}`,
      );
    }
  }
}

/** The tier called `name` in a catalogue (throws when there is none). */
export function tierByName<T extends { name: string }>(tiers: readonly T[], name: string): T {
  const tier = tiers.find((t) => t.name === name);
  if (!tier) throw new BillingException(BillingErrorCode.INVALID_TIER, `unknown tier ${name}`);
  return tier;
}

/**
 * The tier an `auto_upgrade` registry is promoted to: the one with the smallest ordinal above
 * the current tier's, or null on the largest tier.
 */
export function nextTier<T extends { name: string; ordinal: number }>(
  tiers: readonly T[],
  current: string,
): T | null {
  const { ordinal } = tierByName(tiers, current);
  let next: T | null = null;
  for (const tier of tiers) {
    if (tier.ordinal > ordinal && (next === null || tier.ordinal < next.ordinal)) next = tier;
  }
  return next;
}
