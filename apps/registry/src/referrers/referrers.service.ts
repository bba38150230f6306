import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MediaType, type Descriptor } from '@berth/oci';
import { RepositoryService } from '../repositories/repository.service';

export interface ReferrersIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

/** The referrers API: manifests of a repository whose `subject` is a given digest. */
@Injectable()
export class ReferrersService {
  constructor(
    private readonly db: DataSource,
    private readonly repositories: RepositoryService,
  ) {}

  async list(repository: string, subject: string, artifactType?: string): Promise<ReferrersIndex> {
    const repositoryId = await this.repositories.findId(repository);
    const rows: {
      digest: string;
      media_type: string;
      size: number;
      artifact_type: string | null;
      annotations: Record<string, string> | null;
    }[] =
      repositoryId === undefined
        ? []
        : await this.db.query(
            `SELECT digest, media_type, size, artifact_type, annotations FROM manifests
              WHERE repository_id = $1 AND subject_digest = $2
                AND ($3::text IS NULL OR artifact_type = $3)
              ORDER BY created_at, digest`,
            [repositoryId, subject, artifactType ?? null],
          );
    return {
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: rows.map((r) => ({
        mediaType: r.media_type,
        digest: r.digest,
        size: r.size,
        ...(r.artifact_type ? { artifactType: r.artifact_type } : {}),
        ...(r.annotations ? { annotations: r.annotations } : {}),
      })),
    };
  }
}
