import type { DataSource } from 'typeorm';

/**
 * Runs `work` holding the registry's PostgreSQL advisory lock: one reconciliation or usage
 * check per registry at a time, across every control-plane process, so that two of them never
 * push write gates computed from different versions of the registry's row.
 */
export async function withRegistryLock<T>(
  db: DataSource,
  registryId: string,
  work: () => Promise<T>,
): Promise<T> {
  const runner = db.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock(hashtext($1))', [`registry:${registryId}`]);
    try {
      return await work();
    } finally {
      await runner.query('SELECT pg_advisory_unlock(hashtext($1))', [`registry:${registryId}`]);
    }
  } finally {
    await runner.release();
  }
}
