import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Which repository may serve which blob (pushed there or mounted into it). */
@Entity({ name: 'repository_blobs' })
export class RepositoryBlobEntity {
  @PrimaryColumn({ name: 'repository_id', type: 'bigint' })
  repositoryId!: string;

  @PrimaryColumn({ type: 'text' })
  digest!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
