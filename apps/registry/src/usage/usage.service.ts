import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface StorageUsage {
  /** Deduplicated bytes of every stored blob (each digest once). */
  blobBytes: number;
  /** Bytes received so far by open uploads. */
  uploadBytes: number;
  /** What a tier's disk quota counts: blobs plus open uploads. */
  totalBytes: number;
  blobs: number;
  uploads: number;
}

/** The registry's storage usage, as quotas read it (the control plane polls it). */
@Injectable()
export class UsageService {
  constructor(private readonly db: DataSource) {}

  async current(): Promise<StorageUsage> {
    const rows: { blob_bytes: string; blobs: string; upload_bytes: string; uploads: string }[] =
      await this.db.query(
        `SELECT (SELECT coalesce(sum(size), 0) FROM blobs) AS blob_bytes,
                (SELECT count(*) FROM blobs) AS blobs,
                (SELECT coalesce(sum(size), 0) FROM uploads) AS upload_bytes,
                (SELECT count(*) FROM uploads) AS uploads`,
      );
    const row = rows[0];
    const blobBytes = Number(row?.blob_bytes ?? 0);
    const uploadBytes = Number(row?.upload_bytes ?? 0);
    return {
      blobBytes,
      uploadBytes,
      totalBytes: blobBytes + uploadBytes,
      blobs: Number(row?.blobs ?? 0),
      uploads: Number(row?.uploads ?? 0),
    };
  }
}
