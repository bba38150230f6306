/** Media types the registry understands. */
export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  DockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  OciEmptyJson: 'application/vnd.oci.empty.v1+json',
  OciImageConfig: 'application/vnd.oci.image.config.v1+json',
  DockerImageConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

export type MediaTypeValue = (typeof MediaType)[keyof typeof MediaType];

/** The manifest media types the registry accepts on push and serves on pull. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = Object.freeze([
  MediaType.OciManifest,
  MediaType.OciIndex,
  MediaType.DockerManifest,
  MediaType.DockerManifestList,
]);

/** Docker schema1 manifests: recognised only so they can be refused with a clear message. */
export const SCHEMA1_MEDIA_TYPES: readonly string[] = Object.freeze([
  MediaType.DockerSchema1,
  MediaType.DockerSchema1Signed,
]);

/**
 * Layer media types whose content may live outside the registry (Docker "foreign" layers and
 * OCI "non-distributable" layers). A layer of one of these types that carries `urls` need not
 * be present in the registry (see `isForeignLayer` in manifest.ts).
 */
export const FOREIGN_LAYER_MEDIA_TYPES: readonly string[] = Object.freeze([
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
]);

/**
 * RFC 6838 media type syntax (`type/subtype`, no parameters), as required by the OCI image spec
 * for descriptor `mediaType` and `artifactType` values.
 */
export const MEDIA_TYPE_PATTERN =
  /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

/** Whether `mt` is syntactically a media type (RFC 6838, without parameters). */
export function isValidMediaType(mt: string): boolean {
  return typeof mt === 'string' && MEDIA_TYPE_PATTERN.test(mt);
}

/** Whether `mt` is one of the manifest media types in `MANIFEST_MEDIA_TYPES`. */
export function isManifestMediaType(mt: string): boolean {
  return MANIFEST_MEDIA_TYPES.includes(mt);
}

/** OCI image index or Docker manifest list. */
export function isIndexMediaType(mt: string): boolean {
  return mt === MediaType.OciIndex || mt === MediaType.DockerManifestList;
}

/** OCI image manifest or Docker schema2 image manifest. */
export function isImageManifestMediaType(mt: string): boolean {
  return mt === MediaType.OciManifest || mt === MediaType.DockerManifest;
}

/** Docker schema1 (signed or not). */
export function isSchema1MediaType(mt: string): boolean {
  return SCHEMA1_MEDIA_TYPES.includes(mt);
}

/**
 * The bare media type of a `Content-Type` style header value: parameters (`; charset=utf-8`)
 * and surrounding whitespace removed, lower-cased (media types are case-insensitive in HTTP).
 * Returns undefined for a missing or empty value.
 */
export function normalizeContentType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bare = value.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return bare === '' ? undefined : bare;
}
