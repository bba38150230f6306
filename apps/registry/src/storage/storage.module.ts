import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { join } from 'node:path';
import {
  FilesystemStorageDriver,
  createS3StorageDriver,
  StorageLayout,
  type StorageDriver,
} from '@berth/storage';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { MetricsService } from '../observability/metrics.service';

/** DI token of the `StorageDriver` chosen by configuration. */
export const STORAGE_DRIVER = Symbol('STORAGE_DRIVER');

/**
 * The one place where the storage adapter is chosen: local disk under `<dataDir>/storage`
 * (the single-machine default) or S3. The S3 bucket is created when it does not exist.
 */
export async function createStorageDriver(config: RegistryConfig): Promise<StorageDriver> {
  if (config.storage === 's3' && config.s3) {
    const driver = await createS3StorageDriver({
      endpoint: config.s3.endpoint,
      region: config.s3.region,
      bucket: config.s3.bucket,
      accessKeyId: config.s3.accessKeyId,
      secretAccessKey: config.s3.secretAccessKey,
      forcePathStyle: config.s3.forcePathStyle,
      prefix: config.s3.prefix,
      presignedReads: config.s3.presignedRedirect,
    });
    await driver.ensureBucket();
    return driver;
  }
  return new FilesystemStorageDriver(join(config.dataDir, 'storage'), {
    reads: config.filesystemReads,
  });
}

@Injectable()
class StorageShutdown implements OnApplicationShutdown {
  constructor(@Inject(STORAGE_DRIVER) private readonly driver: StorageDriver) {}

  async onApplicationShutdown(): Promise<void> {
    await this.driver.close();
  }
}

/** Wraps the chosen driver (tests use it to inject storage faults around a real adapter). */
export type StorageDecorator = (driver: StorageDriver) => StorageDriver;

@Global()
@Module({})
export class StorageModule {
  static forRoot(decorate: StorageDecorator = (driver) => driver): DynamicModule {
    return {
      module: StorageModule,
      providers: [
        {
          provide: STORAGE_DRIVER,
          inject: [REGISTRY_CONFIG, MetricsService],
          useFactory: async (config: RegistryConfig, metrics: MetricsService) => {
            const driver = await createStorageDriver(config);
            if (driver instanceof FilesystemStorageDriver) {
              metrics.watchFileReads(() => driver.readCounts());
            }
            return decorate(driver);
          },
        },
        { provide: StorageLayout, useValue: new StorageLayout() },
        StorageShutdown,
      ],
      exports: [STORAGE_DRIVER, StorageLayout],
    };
  }
}
