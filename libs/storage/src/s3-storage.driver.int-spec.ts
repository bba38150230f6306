import {
  AbortMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { S3StorageDriver, type S3StorageDriverOptions } from './s3-storage.driver';
import { StorageLayout } from './storage-layout';
import {
  ExpectedContent,
  digestOf,
  patternBytes,
  patternStream,
  runStorageDriverSuite,
} from './testing/storage-driver.suite';

const MiB = 1024 * 1024;
const endpoint = process.env['S3_ENDPOINT'];

if (endpoint === undefined || endpoint === '') {
  describe('S3StorageDriver', () => {
    it('needs an S3 server', () => {
      assert.fail(
        'S3_ENDPOINT is not set: start a local S3 server first with\n' +
          '  eval "$(scripts/s3-server.sh start)"\n' +
          'which exports S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION.',
      );
    });
  });
} else {
  const region = process.env['S3_REGION'] ?? 'us-east-1';
  const accessKeyId = process.env['S3_ACCESS_KEY_ID'];
  const secretAccessKey = process.env['S3_SECRET_ACCESS_KEY'];
  const rawClient = new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    ...(accessKeyId !== undefined && secretAccessKey !== undefined
      ? { credentials: { accessKeyId, secretAccessKey } }
      : {}),
  });
  const optionsFor = (
    bucket: string,
    extra: Partial<S3StorageDriverOptions> = {},
  ): S3StorageDriverOptions => ({
    endpoint,
    region,
    bucket,
    accessKeyId,
    secretAccessKey,
    ...extra,
  });
  const freshBucket = (): string => `berth-test-${randomBytes(6).toString('hex')}`;

  /** Raw keys and open multipart uploads in a bucket, bypassing the driver. */
  const inventory = async (bucket: string): Promise<{ keys: string[]; multipart: string[] }> => {
    const keys: string[] = [];
    for await (const page of paginateListObjectsV2({ client: rawClient }, { Bucket: bucket })) {
      for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    }
    const uploads = await rawClient.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    const multipart = (uploads.Uploads ?? []).map((upload) => `${upload.Key} ${upload.UploadId}`);
    return { keys: keys.sort(), multipart };
  };

  /** Empties and deletes a test bucket; reports upload leftovers the driver should have removed. */
  const removeBucket = async (bucket: string): Promise<void> => {
    const { keys, multipart } = await inventory(bucket);
    const uploads = await rawClient.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const upload of uploads.Uploads ?? []) {
      await rawClient.send(
        new AbortMultipartUploadCommand({
          Bucket: bucket,
          Key: upload.Key,
          UploadId: upload.UploadId,
        }),
      );
    }
    await Promise.all(
      keys.map((key) => rawClient.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }))),
    );
    await rawClient.send(new DeleteBucketCommand({ Bucket: bucket }));
    const leftovers = [...keys.filter((key) => key.includes('uploads/')), ...multipart];
    assert.deepEqual(leftovers, [], 'upload objects or multipart uploads were left behind');
  };

  runStorageDriverSuite(`s3 (${endpoint})`, async () => {
    const bucket = freshBucket();
    const driver = new S3StorageDriver(
      optionsFor(bucket, { prefix: 'registry/', presignedReads: true }),
    );
    await driver.ensureBucket();
    return { driver, cleanup: () => removeBucket(bucket) };
  });

  describe('S3StorageDriver specifics', () => {
    const bucket = freshBucket();
    const layout = new StorageLayout();
    let driver: S3StorageDriver;

    before(async () => {
      driver = new S3StorageDriver(optionsFor(bucket, { prefix: 'tenant/', presignedReads: true }));
      await driver.ensureBucket();
      await driver.ensureBucket();
    });

    after(async () => {
      await driver.close();
      await removeBucket(bucket);
    });

    it('serves presigned URLs, whole and ranged', async () => {
      const content = patternBytes(40, 0, 3 * MiB);
      await driver.put('presigned/blob', content);
      const url = await driver.presignedReadUrl('presigned/blob', 60);
      assert.ok(url !== undefined, 'presignedReads is on');
      const whole = await fetch(url);
      assert.equal(whole.status, 200);
      assert.ok(Buffer.from(await whole.arrayBuffer()).equals(content));
      const ranged = await fetch(url, { headers: { range: 'bytes=100-199' } });
      assert.equal(ranged.status, 206);
      assert.ok(Buffer.from(await ranged.arrayBuffer()).equals(content.subarray(100, 200)));

      const plain = new S3StorageDriver(optionsFor(bucket));
      assert.equal(await plain.presignedReadUrl('presigned/blob', 60), undefined);
      await plain.close();
    });

    it('keeps every key under the prefix and lists them without it', async () => {
      await driver.put('a/b', Buffer.from('x'));
      assert.ok((await inventory(bucket)).keys.includes('tenant/a/b'));
      const listed: string[] = [];
      for await (const key of driver.list('a/')) listed.push(key);
      assert.deepEqual(listed, ['a/b']);
      await driver.delete('a/b');
    });

    it('stages uploads as state.json, parts and a small tail object', async () => {
      const id = randomUUID();
      await driver.createUpload(id);
      await driver.writeUpload(id, 0, patternStream(41, 0, 9 * MiB));
      const staged = (await inventory(bucket)).keys.filter((key) =>
        key.startsWith(`tenant/uploads/${id}/`),
      );
      assert.deepEqual(staged, [`tenant/uploads/${id}/state.json`, `tenant/uploads/${id}/tail-2`]);
      assert.equal((await inventory(bucket)).multipart.length, 1);
      await driver.commitUpload(id, layout.blob(`sha256:${'ee'.repeat(32)}`));
      const after = await inventory(bucket);
      assert.deepEqual(
        after.keys.filter((key) => key.includes('/uploads/')),
        [],
      );
      assert.deepEqual(after.multipart, []);
    });

    it('continues an upload from another driver instance', async () => {
      const id = randomUUID();
      await driver.createUpload(id);
      await driver.writeUpload(id, 0, patternStream(42, 0, 7 * MiB));
      const other = new S3StorageDriver(optionsFor(bucket, { prefix: 'tenant/' }));
      try {
        assert.equal(await other.uploadSize(id), 7 * MiB);
        assert.equal(
          await other.writeUpload(id, 7 * MiB, patternStream(42, 7 * MiB, 3 * MiB)),
          10 * MiB,
        );
        await other.commitUpload(id, 'handover');
      } finally {
        await other.close();
      }
      const expected = new ExpectedContent().add(42, 0, 10 * MiB);
      assert.equal(await digestOf(await driver.read('handover')), expected.digest());
    });

    it('copies large committed objects with a multipart copy', async () => {
      const copying = new S3StorageDriver(
        optionsFor(bucket, {
          prefix: 'tenant/',
          multipartCopyThreshold: 6 * MiB,
          copyPartSize: 5 * MiB,
        }),
      );
      try {
        for (const length of [6 * MiB + 1, 23 * MiB + 5]) {
          const id = randomUUID();
          await copying.createUpload(id);
          await copying.writeUpload(id, 0, patternStream(43, 0, length));
          await copying.commitUpload(id, `copied-${length}`);
          const expected = new ExpectedContent().add(43, 0, length);
          assert.equal(await digestOf(await copying.read(`copied-${length}`)), expected.digest());
        }
      } finally {
        await copying.close();
      }
    });

    it('rejects a part size below the S3 minimum', () => {
      assert.throws(() => new S3StorageDriver(optionsFor(bucket, { partSize: MiB })), RangeError);
    });

    it('pings the bucket and fails for a missing one', async () => {
      await driver.ping();
      const missing = new S3StorageDriver(optionsFor(freshBucket()));
      await assert.rejects(missing.ping());
      await missing.close();
    });

    it('rejects writes to an upload id that was never created', async () => {
      await assert.rejects(
        driver.writeUpload(randomUUID(), 0, Readable.from([Buffer.from('x')])),
        /not found/,
      );
    });
  });
}
