import { Column, Entity, Index, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A tag of a repository pointing at one of its manifests. */
@Entity({ name: 'tags' })
@Index(['manifestId'])
export class TagEntity {
  @PrimaryColumn({ name: 'repository_id', type: 'bigint' })
  repositoryId!: string;

  @PrimaryColumn({ type: 'text', collation: 'C' })
  name!: string;

  @Column({ name: 'manifest_id', type: 'bigint' })
  manifestId!: string;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
