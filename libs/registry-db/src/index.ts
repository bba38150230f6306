/**
 * @berth/registry-db: the data plane's metadata schema (TypeORM entities and the committed
 * migrations that create it) and the data source factory the registry and its tests use.
 */
export * from './entities/repository.entity';
export * from './entities/blob.entity';
export * from './entities/repository-blob.entity';
export * from './entities/manifest.entity';
export * from './entities/manifest-reference.entity';
export * from './entities/tag.entity';
export * from './entities/upload.entity';
export * from './registry-data-source';
