import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { DataSource, type EntityManager } from 'typeorm';
import { OciError, OciErrorCode } from '@berth/oci';
import {
  StorageLayout,
  StorageNotFoundError,
  type ByteRange,
  type ObjectCopy,
  type StorageDriver,
} from '@berth/storage';
import { RepositoryService } from '../repositories/repository.service';
import { STORAGE_DRIVER } from '../storage/storage.module';

export interface BlobInfo {
  digest: string;
  size: number;
}

export type BlobContent =
  | { kind: 'stream'; info: BlobInfo; range?: ByteRange; body: Readable }
  /** Opened for a buffer-reusing copy to the response (`StorageDriver.openCopy`). */
  | { kind: 'copy'; info: BlobInfo; range?: ByteRange; source: ObjectCopy }
  | { kind: 'redirect'; info: BlobInfo; url: string };

/**
 * Blobs of a repository: content is stored once per registry (by digest) and served only
 * through repositories that have it, pushed or mounted.
 */
@Injectable()
export class BlobService {
  private readonly logger = new Logger(BlobService.name);

  constructor(
    private readonly db: DataSource,
    private readonly repositories: RepositoryService,
    @Inject(STORAGE_DRIVER) private readonly storage: StorageDriver,
    private readonly layout: StorageLayout,
  ) {}

  /** Size of a blob the repository may serve, or undefined. */
  async stat(repository: string, digest: string): Promise<BlobInfo | undefined> {
    const rows: { size: string }[] = await this.db.query(
      `SELECT b.size FROM repository_blobs rb
         JOIN repositories r ON r.id = rb.repository_id
         JOIN blobs b ON b.digest = rb.digest
        WHERE r.name = $1 AND rb.digest = $2`,
      [repository, digest],
    );
    const row = rows[0];
    return row ? { digest, size: Number(row.size) } : undefined;
  }

  async require(repository: string, digest: string): Promise<BlobInfo> {
    const info = await this.stat(repository, digest);
    if (!info)
      throw new OciError(OciErrorCode.BLOB_UNKNOWN, `blob ${digest} is not in ${repository}`);
    return info;
  }

  /** The blob's bytes (or a presigned URL to them when storage redirects are on). */
  async open(
    repository: string,
    digest: string,
    rangeOf: (size: number) => ByteRange | undefined,
  ): Promise<BlobContent> {
    const info = await this.require(repository, digest);
    const range = rangeOf(info.size);
    const key = this.layout.blob(digest);
    if (!range) {
      const url = await this.storage.presignedReadUrl(key, 900);
      if (url) return { kind: 'redirect', info, url };
    }
    try {
      if (this.storage.openCopy) {
        return { kind: 'copy', info, range, source: await this.storage.openCopy(key, range) };
      }
      const body = await this.storage.read(key, range);
      return { kind: 'stream', info, range, body };
    } catch (err) {
      if (err instanceof StorageNotFoundError) {
        this.logger.error(`blob ${digest} has metadata but no bytes in storage`);
        throw new OciError(OciErrorCode.BLOB_UNKNOWN, `blob ${digest} is not available`);
      }
      throw err;
    }
  }

  /**
   * Records a verified blob (its bytes already committed to storage) and links it to the
   * repository. Storage first, metadata second: a crash in between leaves unreferenced bytes
   * for garbage collection, never a row pointing at missing bytes. `created` tells whether the
   * blob is new to the registry (its bytes now count towards storage usage). With `uploadId`,
   * the upload session's row ends in the same transaction (`uploadEnded`: it was still there).
   *
   * Four round trips: BEGIN, one statement for the blob row (with the `gc_pending` mark), one
   * for the link (with the upload row), COMMIT; the repository id is cached.
   */
  async link(
    repository: string,
    digest: string,
    size: number,
    storeBytes: () => Promise<void>,
    uploadId?: string,
  ): Promise<{ created: boolean; uploadEnded: boolean }> {
    return this.db.transaction(async (manager) => {
      // Creates the row or locks the existing one (a no-op update takes the row lock).
      // `xmax = 0` holds for a row this statement inserted, not for one it updated.
      // A blob marked for collection is revived by these new bytes.
      const rows: { created: boolean }[] = await manager.query(
        `WITH revived AS (DELETE FROM gc_pending WHERE digest = $1)
         INSERT INTO blobs (digest, size) VALUES ($1, $2)
         ON CONFLICT (digest) DO UPDATE SET size = blobs.size
         RETURNING (xmax = 0) AS created`,
        [digest, size],
      );
      await storeBytes();
      const uploadEnded = await this.linkExisting(manager, repository, digest, uploadId);
      return { created: rows[0]?.created === true, uploadEnded };
    });
  }

  /** Cross-repository mount: links a blob of `from` into `repository` when `from` has it. */
  async mount(repository: string, from: string, digest: string): Promise<BlobInfo | undefined> {
    const source = await this.stat(from, digest);
    if (!source) return undefined;
    return (await this.linkIfAlive(repository, digest)) ? source : undefined;
  }

  /** Mount without a source repository: from any repository of the registry that has it. */
  async mountFromAnywhere(
    repository: string,
    digest: string,
    mayPull: (repository: string) => boolean,
  ): Promise<BlobInfo | undefined> {
    const rows: { name: string; size: string }[] = await this.db.query(
      `SELECT r.name, b.size FROM repository_blobs rb
         JOIN repositories r ON r.id = rb.repository_id
         JOIN blobs b ON b.digest = rb.digest
        WHERE rb.digest = $1 LIMIT 1000`,
      [digest],
    );
    const row = rows.find((r) => mayPull(r.name));
    if (!row) return undefined;
    if (!(await this.linkIfAlive(repository, digest))) return undefined;
    return { digest, size: Number(row.size) };
  }

  async delete(repository: string, digest: string): Promise<void> {
    const repositoryId = await this.repositories.findId(repository);
    const result: [unknown[], number] | undefined =
      repositoryId === undefined
        ? undefined
        : await this.db.query(
            'DELETE FROM repository_blobs WHERE repository_id = $1 AND digest = $2',
            [repositoryId, digest],
          );
    if (!result || result[1] === 0) {
      throw new OciError(OciErrorCode.BLOB_UNKNOWN, `blob ${digest} is not in ${repository}`);
    }
  }

  /** Links a stored blob, unless garbage collection holds or has marked it. */
  private async linkIfAlive(repository: string, digest: string): Promise<boolean> {
    return this.db.transaction(async (manager) => {
      const alive: unknown[] = await manager.query(
        `SELECT 1 FROM blobs b WHERE b.digest = $1
            AND NOT EXISTS (SELECT 1 FROM gc_pending g WHERE g.digest = b.digest)
         FOR SHARE`,
        [digest],
      );
      if (alive.length === 0) return false;
      await this.linkExisting(manager, repository, digest);
      return true;
    });
  }

  /** Links the blob; with `uploadId`, also deletes that upload row and tells whether it did. */
  private async linkExisting(
    manager: EntityManager,
    repository: string,
    digest: string,
    uploadId?: string,
  ): Promise<boolean> {
    const repositoryId = await this.repositories.ensure(repository, manager);
    const rows: { ended: boolean }[] = await manager.query(
      `WITH ended AS (DELETE FROM uploads WHERE id = $3 RETURNING 1)
       INSERT INTO repository_blobs (repository_id, digest) VALUES ($1, $2)
       ON CONFLICT (repository_id, digest) DO UPDATE SET created_at = now()
       RETURNING EXISTS (SELECT 1 FROM ended) AS ended`,
      [repositoryId, digest, uploadId ?? null],
    );
    return rows[0]?.ended === true;
  }
}
