/**
 * @berth/oci: the OCI distribution contracts of the Berth registry.
 *
 * Pure functions and types, no I/O beyond hashing (node:crypto), no runtime dependencies.
 * The registry data plane uses it to validate requests and content and to speak the wire
 * format of the OCI distribution spec (with the CNCF distribution extensions clients expect).
 *
 * - media-types: `MediaType` constants, `MANIFEST_MEDIA_TYPES` (OCI manifest and index, Docker
 *   schema2 manifest and manifest list) and predicates on them.
 * - errors: `OciErrorCode`, default statuses and messages, `OciError` (code + status + detail +
 *   headers) and `ociErrorBody` for the `{ "errors": [...] }` response body.
 * - digest: `parseDigest` (sha256 and sha512), `digestOf`, streaming `Digester`.
 * - reference: repository name and tag grammars, `parseManifestReference` (tag or digest).
 * - manifest: `parseManifest`, the strict validator of pushed manifests, and the
 *   `referencedBlobs` / `referencedManifests` a manifest needs to exist in the repository.
 * - accept: `parseAccept` and `manifestAcceptable` for content negotiation on manifest GET.
 * - pagination: `parsePageParams` for `n` / `last` of tag and catalog listings.
 *
 * Every validation failure is an `OciError` whose code and status are what the registry answers.
 */
export * from './accept';
export * from './digest';
export * from './errors';
export * from './manifest';
export * from './media-types';
export * from './pagination';
export * from './reference';
