import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { DataSource, type EntityManager } from 'typeorm';
import {
  OciError,
  OciErrorCode,
  isValidTag,
  parseManifest,
  type Descriptor,
  type ManifestReference,
  type ParsedManifest,
} from '@berth/oci';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { ImmutabilityService } from '../immutability/immutability.service';
import { retryOnDeadlock } from '../database/retry-on-deadlock';
import { RepositoryService } from '../repositories/repository.service';
import { WriteGateService } from '../write-gate/write-gate.service';
import { ManifestCache } from './manifest-cache';

export interface StoredManifest {
  digest: string;
  mediaType: string;
  content: Buffer;
}

export interface PushedManifest {
  digest: string;
  subject?: string;
  /** Tags now pointing at the manifest (the path's tag and any `?tag=` parameters). */
  tags: string[];
}

/** Layers that clients fetch from elsewhere (`urls`), so the registry need not hold them. */
const FOREIGN_LAYER_TYPES = new Set([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

/**
 * Manifests and tags of a repository. A push is one transaction: the manifest, its
 * references and its tags become visible together or not at all, and only when every blob
 * (and, unless sparse indexes are allowed, every child manifest) it references is in the
 * repository. The exact bytes pushed are stored and served back.
 */
@Injectable()
export class ManifestService {
  constructor(
    private readonly db: DataSource,
    private readonly repositories: RepositoryService,
    private readonly immutability: ImmutabilityService,
    private readonly gate: WriteGateService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {
    this.cache = new ManifestCache(config.manifestCacheMs);
  }

  private readonly cache: ManifestCache;

  async get(repository: string, reference: ManifestReference): Promise<StoredManifest> {
    const key = `${repository}\u0000${reference.kind === 'digest' ? reference.digest.value : reference.tag}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const generation = this.cache.begin();
    const rows: { digest: string; media_type: string; content: Buffer }[] =
      reference.kind === 'digest'
        ? await this.db.query(
            `SELECT m.digest, m.media_type, m.content FROM manifests m
               JOIN repositories r ON r.id = m.repository_id
              WHERE r.name = $1 AND m.digest = $2`,
            [repository, reference.digest.value],
          )
        : await this.db.query(
            `SELECT m.digest, m.media_type, m.content FROM tags t
               JOIN repositories r ON r.id = t.repository_id
               JOIN manifests m ON m.id = t.manifest_id
              WHERE r.name = $1 AND t.name = $2`,
            [repository, reference.tag],
          );
    const row = rows[0];
    if (!row) {
      const what = reference.kind === 'digest' ? reference.digest.value : reference.tag;
      throw new OciError(OciErrorCode.MANIFEST_UNKNOWN, `manifest ${what} is not in ${repository}`);
    }
    const manifest = { digest: row.digest, mediaType: row.media_type, content: row.content };
    this.cache.set(key, manifest, generation);
    return manifest;
  }

  /** Forget cached lookups: called for every manifest or tag change made in this process. */
  invalidateCache(): void {
    this.cache.invalidate();
  }

  async put(
    repository: string,
    reference: ManifestReference,
    extraTags: readonly string[],
    contentType: string | undefined,
    body: Buffer,
  ): Promise<PushedManifest> {
    // After the (small) body was read: clients then get the 503 rather than a reset connection.
    await this.gate.assertWritable();
    const manifest = parseManifest(body, contentType);
    const algorithm = reference.kind === 'digest' ? reference.digest.algorithm : 'sha256';
    const digest = `${algorithm}:${createHash(algorithm).update(body).digest('hex')}`;
    if (reference.kind === 'digest' && reference.digest.value !== digest) {
      throw new OciError(
        OciErrorCode.DIGEST_INVALID,
        `manifest content has digest ${digest}, not ${reference.digest.value}`,
      );
    }
    const tags = [...new Set([...(reference.kind === 'tag' ? [reference.tag] : []), ...extraTags])];
    for (const tag of tags) {
      if (!isValidTag(tag)) {
        throw new OciError(OciErrorCode.MANIFEST_INVALID, `invalid tag ${JSON.stringify(tag)}`);
      }
    }
    // Rows are locked in digest order, as garbage collection locks them; a deadlock with
    // another writer is still possible in theory and is retried.
    await retryOnDeadlock(() =>
      this.db.transaction(async (m) => {
        const repositoryId = await this.repositories.ensure(repository, m);
        await this.checkBlobs(m, repositoryId, manifest);
        await this.checkChildren(m, repositoryId, manifest);
        const manifestId = await this.insertManifest(m, repositoryId, digest, body, manifest);
        for (const tag of tags) {
          await this.immutability.assertCanMove(m, repositoryId, repository, tag, digest);
          await m.query(
            `INSERT INTO tags (repository_id, name, manifest_id) VALUES ($1, $2, $3)
           ON CONFLICT (repository_id, name)
           DO UPDATE SET manifest_id = EXCLUDED.manifest_id, updated_at = now()`,
            [repositoryId, tag, manifestId],
          );
        }
      }),
    );
    this.cache.invalidate();
    return { digest, subject: manifest.subject?.digest, tags };
  }

  /** By digest: deletes the manifest and its tags. By tag: removes only the tag. */
  async delete(repository: string, reference: ManifestReference): Promise<void> {
    const repositoryId = await this.repositories.findId(repository);
    let deleted = 0;
    if (repositoryId !== undefined) {
      deleted = await this.db.transaction(async (m) => {
        // Immutable tags hold their manifest: neither the tag nor the manifest may go.
        const tags: { name: string }[] =
          reference.kind === 'digest'
            ? await m.query(
                `SELECT t.name FROM tags t JOIN manifests mf ON mf.id = t.manifest_id
                  WHERE mf.repository_id = $1 AND mf.digest = $2`,
                [repositoryId, reference.digest.value],
              )
            : await m.query('SELECT name FROM tags WHERE repository_id = $1 AND name = $2', [
                repositoryId,
                reference.tag,
              ]);
        await this.immutability.assertCanDelete(
          repository,
          tags.map((t) => t.name),
          m,
        );
        const result: [unknown[], number] =
          reference.kind === 'digest'
            ? await m.query('DELETE FROM manifests WHERE repository_id = $1 AND digest = $2', [
                repositoryId,
                reference.digest.value,
              ])
            : await m.query('DELETE FROM tags WHERE repository_id = $1 AND name = $2', [
                repositoryId,
                reference.tag,
              ]);
        return result[1];
      });
    }
    this.cache.invalidate();
    if (deleted === 0) {
      const what = reference.kind === 'digest' ? reference.digest.value : reference.tag;
      throw new OciError(OciErrorCode.MANIFEST_UNKNOWN, `manifest ${what} is not in ${repository}`);
    }
  }

  private async checkBlobs(
    m: EntityManager,
    repositoryId: string,
    manifest: ParsedManifest,
  ): Promise<void> {
    const wanted = [
      ...(manifest.config ? [manifest.config] : []),
      ...manifest.layers.filter((d) => !FOREIGN_LAYER_TYPES.has(d.mediaType)),
    ];
    if (wanted.length === 0) return;
    // FOR SHARE: a concurrent delete of one of these blobs waits for this push to finish.
    const rows: { digest: string; size: string }[] = await m.query(
      `SELECT rb.digest, b.size FROM repository_blobs rb JOIN blobs b ON b.digest = rb.digest
        WHERE rb.repository_id = $1 AND rb.digest = ANY($2::text[])
          AND NOT EXISTS (SELECT 1 FROM gc_pending g WHERE g.digest = b.digest)
        ORDER BY rb.digest
        FOR SHARE OF rb, b`,
      [repositoryId, [...new Set(wanted.map((d) => d.digest))]],
    );
    const sizes = new Map(rows.map((r) => [r.digest, Number(r.size)]));
    for (const descriptor of wanted) this.checkDescriptor(descriptor, sizes, 'blob');
  }

  private async checkChildren(
    m: EntityManager,
    repositoryId: string,
    manifest: ParsedManifest,
  ): Promise<void> {
    if (manifest.manifests.length === 0) return;
    const rows: { digest: string; size: number }[] = await m.query(
      `SELECT digest, size FROM manifests WHERE repository_id = $1 AND digest = ANY($2::text[])
       ORDER BY digest FOR SHARE`,
      [repositoryId, [...new Set(manifest.manifests.map((d) => d.digest))]],
    );
    const sizes = new Map(rows.map((r) => [r.digest, Number(r.size)]));
    for (const descriptor of manifest.manifests) {
      this.checkDescriptor(descriptor, sizes, 'manifest');
    }
  }

  private checkDescriptor(descriptor: Descriptor, sizes: Map<string, number>, what: string): void {
    const size = sizes.get(descriptor.digest);
    if (size === undefined) {
      // Sparse mode (an opt-in for mirrors of partial content): absent references are allowed.
      if (this.config.sparseManifests) return;
      throw new OciError(
        OciErrorCode.MANIFEST_BLOB_UNKNOWN,
        `referenced ${what} ${descriptor.digest} is not in the repository`,
        {
          detail: { digest: descriptor.digest },
        },
      );
    }
    if (size !== descriptor.size) {
      throw new OciError(
        OciErrorCode.MANIFEST_INVALID,
        `descriptor of ${what} ${descriptor.digest} says ${descriptor.size} bytes, it has ${size}`,
        { detail: { digest: descriptor.digest } },
      );
    }
  }

  private async insertManifest(
    m: EntityManager,
    repositoryId: string,
    digest: string,
    body: Buffer,
    manifest: ParsedManifest,
  ): Promise<string> {
    const inserted: { id: string }[] = await m.query(
      `INSERT INTO manifests
         (repository_id, digest, media_type, size, content, artifact_type, subject_digest, annotations)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (repository_id, digest) DO NOTHING RETURNING id`,
      [
        repositoryId,
        digest,
        manifest.mediaType,
        body.length,
        body,
        manifest.artifactType ?? null,
        manifest.subject?.digest ?? null,
        manifest.annotations ? JSON.stringify(manifest.annotations) : null,
      ],
    );
    const id = inserted[0]?.id;
    if (id === undefined) {
      // Same digest, same bytes: the manifest is already there.
      // Locked, so garbage collection cannot remove it before the tag points at it.
      const existing: { id: string }[] = await m.query(
        'SELECT id FROM manifests WHERE repository_id = $1 AND digest = $2 FOR SHARE',
        [repositoryId, digest],
      );
      const existingId = existing[0]?.id;
      if (existingId === undefined) throw new Error(`manifest ${digest} vanished during push`);
      return existingId;
    }
    const references = [
      ...(manifest.config ? [{ digest: manifest.config.digest, kind: 'config' }] : []),
      ...manifest.layers.map((d) => ({ digest: d.digest, kind: 'layer' })),
      ...manifest.manifests.map((d) => ({ digest: d.digest, kind: 'manifest' })),
    ];
    if (references.length > 0) {
      await m.query(
        `INSERT INTO manifest_references (manifest_id, digest, kind)
         SELECT $1, d, k FROM unnest($2::text[], $3::text[]) AS t(d, k)
         ON CONFLICT DO NOTHING`,
        [id, references.map((r) => r.digest), references.map((r) => r.kind)],
      );
    }
    return id;
  }
}
