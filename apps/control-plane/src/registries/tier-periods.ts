import { returnedRows } from '../common/sql';
import type { EntityManager } from 'typeorm';

/**
 * Moves a registry to another tier in its tier history, which billing reads: the new tier
 * applies from the start of the current hour ("billing uses the new rate from that hour").
 * When the open period itself began within this hour, that period simply takes the new tier.
 * Run inside the transaction that changes `registries.tier`.
 */
export async function switchTierPeriod(
  tx: Pick<EntityManager, 'query'>,
  registryId: string,
  tier: string,
  reason: string,
): Promise<void> {
  const closed: unknown[] = returnedRows(
    await tx.query(
      `UPDATE registry_tier_periods SET ends_at = date_trunc('hour', now())
      WHERE registry_id = $1 AND ends_at IS NULL AND starts_at < date_trunc('hour', now())
      RETURNING registry_id`,
      [registryId],
    ),
  );
  if (closed.length > 0) {
    await tx.query(
      `INSERT INTO registry_tier_periods (registry_id, tier, starts_at, reason)
       VALUES ($1, $2, date_trunc('hour', now()), $3)`,
      [registryId, tier, reason],
    );
  } else {
    await tx.query(
      `UPDATE registry_tier_periods SET tier = $2, reason = $3
        WHERE registry_id = $1 AND ends_at IS NULL`,
      [registryId, tier, reason],
    );
  }
}
