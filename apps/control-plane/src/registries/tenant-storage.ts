import type { TenantS3Storage } from '../runtime/runtime.port';

/** A tenant's S3 prefix: by registry id, so a name used again never sees old objects. */
export function tenantPrefix(registryId: string): string {
  return `tenants/${registryId}/`;
}

/**
 * Deletes every object under a tenant's S3 prefix: the storage step of a registry's deletion
 * cascade on Kubernetes (the local runtime removes the tenant's directory itself). Pages of
 * up to 1,000 keys; idempotent, an empty prefix is done. Returns the number of objects removed.
 */
export async function deleteTenantObjects(storage: TenantS3Storage): Promise<number> {
  const prefix = storage.prefix?.replace(/\/*$/, '/');
  // A tenant without its own prefix would mean deleting the whole bucket: never.
  if (!prefix || prefix === '/')
    throw new Error('refusing to delete objects without a tenant prefix');
  const { S3Client, ListObjectsV2Command, DeleteObjectsCommand } =
    await import('@aws-sdk/client-s3');
  const client = new S3Client({
    region: storage.region,
    endpoint: storage.endpoint,
    forcePathStyle: storage.endpoint !== undefined,
    credentials: { accessKeyId: storage.accessKeyId, secretAccessKey: storage.secretAccessKey },
  });
  let removed = 0;
  try {
    for (;;) {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: prefix, MaxKeys: 1000 }),
      );
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length === 0) return removed;
      const result = await client.send(
        new DeleteObjectsCommand({
          Bucket: storage.bucket,
          Delete: { Objects: keys, Quiet: true },
        }),
      );
      const failed = result.Errors ?? [];
      if (failed.length > 0) {
        throw new Error(
          `could not delete ${failed.length} objects under ${prefix}: ${failed[0]?.Code ?? ''} ${failed[0]?.Message ?? ''}`,
        );
      }
      removed += keys.length;
    }
  } finally {
    client.destroy();
  }
}
