import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A manifest or index of a repository, with the exact bytes that were pushed. */
@Entity({ name: 'manifests' })
@Index(['repositoryId', 'digest'], { unique: true })
@Index(['repositoryId', 'subjectDigest'])
export class ManifestEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'repository_id', type: 'bigint' })
  repositoryId!: string;

  @Column({ type: 'text' })
  digest!: string;

  @Column({ name: 'media_type', type: 'text' })
  mediaType!: string;

  @Column({ type: 'integer' })
  size!: number;

  @Column({ type: 'bytea' })
  content!: Buffer;

  @Column({ name: 'artifact_type', type: 'text', nullable: true })
  artifactType!: string | null;

  @Column({ name: 'subject_digest', type: 'text', nullable: true })
  subjectDigest!: string | null;

  @Column({ type: 'jsonb', nullable: true })
  annotations!: Record<string, string> | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
