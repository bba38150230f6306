export * from './storage-driver';
export { StorageLayout } from './storage-layout';
export { FilesystemStorageDriver } from './filesystem-storage.driver';
export { S3StorageDriver, type S3StorageDriverOptions } from './s3-storage.driver';
