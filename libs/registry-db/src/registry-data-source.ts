import { DataSource, type DataSourceOptions } from 'typeorm';
import { BlobEntity } from './entities/blob.entity';
import { ManifestReferenceEntity } from './entities/manifest-reference.entity';
import { ManifestEntity } from './entities/manifest.entity';
import { RepositoryBlobEntity } from './entities/repository-blob.entity';
import { RepositoryEntity } from './entities/repository.entity';
import { TagEntity } from './entities/tag.entity';
import { UploadEntity } from './entities/upload.entity';
import { InitialSchema1732300000000 } from './migrations/1732300000000-initial-schema';
import { AccessControl1732400000000 } from './migrations/1732400000000-access-control';
import { AuditLog1732500000000 } from './migrations/1732500000000-audit-log';
import { ImmutableTags1732600000000 } from './migrations/1732600000000-immutable-tags';
import { RetentionPolicies1732700000000 } from './migrations/1732700000000-retention-policies';
import { GarbageCollection1732800000000 } from './migrations/1732800000000-garbage-collection';
import { WriteGate1732900000000 } from './migrations/1732900000000-write-gate';
import { EgressMetering1733000000000 } from './migrations/1733000000000-egress-metering';

export const REGISTRY_ENTITIES = [
  RepositoryEntity,
  BlobEntity,
  RepositoryBlobEntity,
  ManifestEntity,
  ManifestReferenceEntity,
  TagEntity,
  UploadEntity,
];

export const REGISTRY_MIGRATIONS = [
  InitialSchema1732300000000,
  AccessControl1732400000000,
  AuditLog1732500000000,
  ImmutableTags1732600000000,
  RetentionPolicies1732700000000,
  GarbageCollection1732800000000,
  WriteGate1732900000000,
  EgressMetering1733000000000,
];

export interface RegistryDataSourceOptions {
  url: string;
  poolSize?: number;
  /** Run pending migrations when the data source initialises (default true). */
  migrationsRun?: boolean;
}

/** TypeORM options for the registry's PostgreSQL database; migrations run at start-up. */
export function registryDataSourceOptions(opts: RegistryDataSourceOptions): DataSourceOptions {
  return {
    type: 'postgres',
    url: opts.url,
    entities: REGISTRY_ENTITIES,
    migrations: REGISTRY_MIGRATIONS,
    migrationsRun: opts.migrationsRun ?? true,
    migrationsTransactionMode: 'all',
    synchronize: false,
    logging: false,
    extra: { max: opts.poolSize ?? 20 },
  };
}

export function createRegistryDataSource(opts: RegistryDataSourceOptions): DataSource {
  return new DataSource(registryDataSourceOptions(opts));
}
