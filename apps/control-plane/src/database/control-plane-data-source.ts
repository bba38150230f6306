import { DataSource, type DataSourceOptions } from 'typeorm';
import { PlatformSchema1733100000000 } from './migrations/1733100000000-platform-schema';
import { SeedTiers1733100000001 } from './migrations/1733100000001-seed-tiers';

export const CONTROL_PLANE_MIGRATIONS = [PlatformSchema1733100000000, SeedTiers1733100000001];

/** TypeORM options for the control plane's own database; migrations run at start-up. */
export function controlPlaneDataSourceOptions(url: string, poolSize = 10): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [],
    migrations: CONTROL_PLANE_MIGRATIONS,
    migrationsRun: true,
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    extra: { max: poolSize },
  };
}

export function createControlPlaneDataSource(url: string): DataSource {
  return new DataSource(controlPlaneDataSourceOptions(url));
}
