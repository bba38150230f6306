export * from './storage-driver';
export { StorageLayout } from './storage-layout';
export { FilesystemStorageDriver } from './filesystem-storage.driver';
export type { FilesystemStorageOptions, ReadCounts } from './filesystem-storage.driver';
export type { S3StorageDriver, S3StorageDriverOptions } from './s3-storage.driver';
import type { S3StorageDriver, S3StorageDriverOptions } from './s3-storage.driver';

/**
 * The S3 adapter, loaded on demand: the AWS SDK costs tens of MiB of memory and start-up time,
 * which a registry on local disk should not pay.
 */
export async function createS3StorageDriver(
  options: S3StorageDriverOptions,
): Promise<S3StorageDriver> {
  const { S3StorageDriver: Driver } = await import('./s3-storage.driver.js');
  return new Driver(options);
}
