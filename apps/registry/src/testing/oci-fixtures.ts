import { createHash, randomBytes } from 'node:crypto';

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function sha512(data: Buffer | string): string {
  return `sha512:${createHash('sha512').update(data).digest('hex')}`;
}

export interface Blob {
  data: Buffer;
  digest: string;
}

export function randomBlob(size: number): Blob {
  const data = randomBytes(size);
  return { data, digest: sha256(data) };
}

export function jsonBlob(value: unknown): Blob {
  const data = Buffer.from(JSON.stringify(value));
  return { data, digest: sha256(data) };
}

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export function imageManifest(
  config: Blob,
  layers: Blob[],
  extra: Record<string, unknown> = {},
): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: config.digest,
        size: config.data.length,
      },
      layers: layers.map((l) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar',
        digest: l.digest,
        size: l.data.length,
      })),
      ...extra,
    }),
  );
}
