/** The restart policy of a crashed data plane. */
export interface RestartBackoffPolicy {
  restartInitialDelayMs: number;
  restartMaxDelayMs: number;
  failedAfterCrashes: number;
}

/**
 * Delay before restart number `crash` (1 for the first crash in a row): the initial delay,
 * doubling per crash up to the maximum; once the tenant counts as failed (`failedAfterCrashes`
 * crashes without becoming ready) always the maximum.
 */
export function restartDelayMs(
  policy: RestartBackoffPolicy,
  crash: number,
  crashesWithoutReady: number,
): number {
  if (crashesWithoutReady >= policy.failedAfterCrashes) return policy.restartMaxDelayMs;
  const exponent = Math.min(Math.max(crash - 1, 0), 30);
  return Math.min(policy.restartInitialDelayMs * 2 ** exponent, policy.restartMaxDelayMs);
}
