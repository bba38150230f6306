import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Content stored once per registry, keyed by digest (deduplicated across repositories).
 * A row exists only after its bytes were committed to storage and verified.
 */
@Entity({ name: 'blobs' })
export class BlobEntity {
  @PrimaryColumn({ type: 'text' })
  digest!: string;

  @Column({ type: 'bigint' })
  size!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
