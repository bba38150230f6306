import type { QuotaSettings, WriteGateSettings } from '@berth/platform-contracts';
import type { QuotaPolicy } from './registry.types';

export interface QuotaThresholds {
  /** Pushes stop at this percentage of the tier's disk (90). */
  blockPercent: number;
  /** ... and resume at or below this one (85). */
  resumePercent: number;
}

function percentOf(bytes: number, percent: number): number {
  // Integer arithmetic: disk sizes are far below 2^53 / 100.
  return Math.floor((bytes * percent) / 100);
}

/**
 * The write gate a data plane enforces for a registry.
 *
 * - `read_only`: block at 90% of the tier's disk, resume at 85%.
 * - `auto_upgrade` below the largest tier: the control plane promotes the registry when it
 *   sees 90%, so the data plane only enforces the disk itself as a hard cap (resuming at
 *   90%), which holds if the promotion is late. At the largest tier it is `read_only`.
 */
export function writeGateFor(input: {
  policy: QuotaPolicy;
  diskBytes: number;
  hasLargerTier: boolean;
  maintenanceMessage: string | null;
  thresholds: QuotaThresholds;
}): WriteGateSettings {
  const block = percentOf(input.diskBytes, input.thresholds.blockPercent);
  const resume = percentOf(input.diskBytes, input.thresholds.resumePercent);
  const quota: QuotaSettings =
    input.policy === 'auto_upgrade' && input.hasLargerTier
      ? { limitBytes: input.diskBytes, blockAtBytes: input.diskBytes, resumeAtBytes: block }
      : { limitBytes: input.diskBytes, blockAtBytes: block, resumeAtBytes: resume };
  return {
    quota,
    maintenance: input.maintenanceMessage ? { message: input.maintenanceMessage } : null,
  };
}

/** Whether an auto_upgrade registry at this usage is due for the next tier. */
export function upgradeDue(input: {
  policy: QuotaPolicy;
  usedBytes: number;
  diskBytes: number;
  hasLargerTier: boolean;
  thresholds: QuotaThresholds;
}): boolean {
  return (
    input.policy === 'auto_upgrade' &&
    input.hasLargerTier &&
    input.usedBytes >= percentOf(input.diskBytes, input.thresholds.blockPercent)
  );
}
