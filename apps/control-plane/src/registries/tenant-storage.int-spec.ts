import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { TenantS3Storage } from '../runtime/runtime.port';
import { deleteTenantObjects } from './tenant-storage';

/** Against the real S3 server of the test run (scripts/s3-server.sh: MinIO). */
describe('tenant storage cascade on S3', () => {
  const bucket = `berth-cp-${randomBytes(4).toString('hex')}`;
  let client: S3Client;
  let base: Omit<TenantS3Storage, 'prefix'>;

  before(async () => {
    const endpoint = process.env.S3_ENDPOINT;
    if (!endpoint) throw new Error('S3_ENDPOINT is not set: start MinIO with scripts/s3-server.sh');
    base = {
      endpoint,
      region: process.env.S3_REGION ?? 'us-east-1',
      bucket,
      accessKeyId: process.env.S3_ACCESS_KEY_ID ?? '',
      secretAccessKey: process.env.S3_SECRET_ACCESS_KEY ?? '',
    };
    client = new S3Client({
      region: base.region,
      endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: base.accessKeyId, secretAccessKey: base.secretAccessKey },
    });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  after(async () => {
    await deleteTenantObjects({ ...base, prefix: 'tenants' }).catch(() => 0);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    client.destroy();
  });

  async function keys(prefix: string): Promise<string[]> {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((o) => o.Key ?? '');
  }

  it("deletes every object of one tenant (over several pages) and nothing of another's", async () => {
    const puts: Promise<unknown>[] = [];
    for (let i = 0; i < 1005; i++) {
      puts.push(
        client.send(
          new PutObjectCommand({ Bucket: bucket, Key: `tenants/a/blobs/${i}`, Body: 'x' }),
        ),
      );
    }
    puts.push(
      client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tenants/ab/keep', Body: 'y' })),
    );
    puts.push(
      client.send(new PutObjectCommand({ Bucket: bucket, Key: 'tenants/b/keep', Body: 'z' })),
    );
    await Promise.all(puts);
    const removed = await deleteTenantObjects({ ...base, prefix: 'tenants/a' });
    assert.equal(removed, 1005);
    assert.deepEqual(await keys('tenants/a/'), []);
    assert.deepEqual(
      await keys('tenants/ab'),
      ['tenants/ab/keep'],
      'a longer name sharing the prefix survives',
    );
    assert.deepEqual(await keys('tenants/b'), ['tenants/b/keep']);
    assert.equal(await deleteTenantObjects({ ...base, prefix: 'tenants/a' }), 0, 'idempotent');
  });

  it('refuses to run without a prefix', async () => {
    await assert.rejects(deleteTenantObjects({ ...base, prefix: '' }), /without a tenant prefix/);
    await assert.rejects(deleteTenantObjects({ ...base }), /without a tenant prefix/);
  });
});
