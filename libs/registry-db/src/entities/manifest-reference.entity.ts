import { Entity, Index, PrimaryColumn } from 'typeorm';

export enum ManifestReferenceKind {
  Config = 'config',
  Layer = 'layer',
  Manifest = 'manifest',
}

/** What a manifest points at: its config and layers (blobs) or its child manifests. */
@Entity({ name: 'manifest_references' })
@Index(['digest'])
export class ManifestReferenceEntity {
  @PrimaryColumn({ name: 'manifest_id', type: 'bigint' })
  manifestId!: string;

  @PrimaryColumn({ type: 'text' })
  digest!: string;

  @PrimaryColumn({ type: 'text' })
  kind!: ManifestReferenceKind;
}
