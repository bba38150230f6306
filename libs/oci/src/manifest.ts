import { digestOf, parseDigest } from './digest';
import { OciError, OciErrorCode } from './errors';
import { quote } from './internal/quote';
import {
  FOREIGN_LAYER_MEDIA_TYPES,
  MANIFEST_MEDIA_TYPES,
  MediaType,
  isIndexMediaType,
  isManifestMediaType,
  isSchema1MediaType,
  isValidMediaType,
  normalizeContentType,
} from './media-types';

/** Platform of an index entry (OCI image index / Docker manifest list). */
export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

/** An OCI content descriptor. Only the fields below are kept; unknown fields are dropped. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  artifactType?: string;
  platform?: Platform;
  /** Embedded content, base64; when present it has been checked against `size` and `digest`. */
  data?: string;
}

export interface ParsedManifest {
  /** Effective media type: one of `MANIFEST_MEDIA_TYPES`. */
  mediaType: string;
  kind: 'image' | 'index';
  /** Images only. */
  config?: Descriptor;
  /** Images only (empty for an index); may be empty for OCI artifacts. */
  layers: Descriptor[];
  /** Indexes only (empty for an image). */
  manifests: Descriptor[];
  /** OCI types only: the manifest this one refers to (referrers API). */
  subject?: Descriptor;
  /**
   * Artifact type as reported by the referrers API: the `artifactType` field when set, else for
   * an image the config media type. For an index only its own `artifactType` field.
   */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Content-Type values that say nothing about the manifest kind. */
const GENERIC_CONTENT_TYPES: readonly string[] = ['application/json', 'application/octet-stream'];

type JsonObject = Record<string, unknown>;

/**
 * Parse and validate a pushed manifest body (`PUT /v2/<name>/manifests/<reference>`).
 *
 * Every failure is an OciError(MANIFEST_INVALID, 400) whose `detail` is `{ path }` pointing at
 * the offending JSON member (e.g. `layers[2].digest`) when there is one. This includes:
 * - a body that is not UTF-8 JSON with an object at the top;
 * - a `mediaType` field that differs from the Content-Type (`application/json` and
 *   `application/octet-stream` are treated as saying nothing);
 * - Docker schema1 manifests (by either media type, or `schemaVersion: 1`): refused, the
 *   registry stores only schema2 and OCI;
 * - media types other than `MANIFEST_MEDIA_TYPES` (the distribution spec leaves the code open;
 *   MANIFEST_INVALID with the list of supported types tells the client what to do);
 * - descriptors with a digest of an unsupported algorithm (MANIFEST_INVALID rather than
 *   DIGEST_INVALID, which clients read as "the uploaded content did not match").
 *
 * Effective media type: the `mediaType` field when present, else a supported manifest
 * Content-Type, else detected by shape (OCI manifests may omit `mediaType`, and some clients
 * send `application/json` or nothing): `manifests` means an OCI index, `config`/`layers` an OCI
 * image manifest. A body matching neither is refused, naming the unsupported Content-Type if any.
 *
 * Leniency follows CNCF distribution: any config media type, empty `layers`, unknown members
 * ignored, `null` optional members treated as absent. As in distribution, an image manifest
 * carrying `manifests` or an index carrying `config`/`layers` is refused (ambiguous content).
 * `subject` and `artifactType` are read for OCI media types only; Docker schemas have no such
 * fields and they are ignored there.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  const doc = decodeJsonObject(body);
  const mediaType = effectiveMediaType(doc, contentType);
  checkSchemaVersion(doc);
  return isIndexMediaType(mediaType) ? parseIndex(doc, mediaType) : parseImage(doc, mediaType);
}

/**
 * Validate a descriptor (the shape shared by config, layers, index entries and subjects).
 * Throws OciError(MANIFEST_INVALID) with `detail.path` under `path`.
 */
export function parseDescriptor(value: unknown, path = ''): Descriptor {
  const obj = expectObject(value, path, 'a descriptor');
  const mediaType = requiredMediaType(obj, 'mediaType', path);
  const digest = requiredDigest(obj, path);
  const size = requiredSize(obj, path);
  const descriptor: Descriptor = { mediaType, digest, size };

  const urls = optionalStringArray(obj, 'urls', path);
  if (urls !== undefined) descriptor.urls = urls;
  const annotations = optionalAnnotations(obj, path);
  if (annotations !== undefined) descriptor.annotations = annotations;
  const artifactType = optionalMediaType(obj, 'artifactType', path);
  if (artifactType !== undefined) descriptor.artifactType = artifactType;
  const platform = optionalPlatform(obj, path);
  if (platform !== undefined) descriptor.platform = platform;
  const data = optionalData(obj, path, digest, size);
  if (data !== undefined) descriptor.data = data;
  return descriptor;
}

/** Blobs an image manifest needs in the repository: config then layers, in manifest order. */
export function referencedBlobs(m: ParsedManifest): Descriptor[] {
  if (m.kind !== 'image' || m.config === undefined) return [];
  return [m.config, ...m.layers];
}

/** Manifests an index needs in the repository, in manifest order. */
export function referencedManifests(m: ParsedManifest): Descriptor[] {
  return m.kind === 'index' ? [...m.manifests] : [];
}

/**
 * A foreign (Docker) or non-distributable (OCI) layer with `urls`: clients fetch it from those
 * URLs, so, as in CNCF distribution, the registry need not hold it.
 */
export function isForeignLayer(d: Descriptor): boolean {
  return FOREIGN_LAYER_MEDIA_TYPES.includes(d.mediaType) && (d.urls?.length ?? 0) > 0;
}

// ---------------------------------------------------------------------------------------------

function invalid(path: string, message: string): OciError {
  return new OciError(
    OciErrorCode.MANIFEST_INVALID,
    path === '' ? message : `${path}: ${message}`,
    {
      detail: path === '' ? undefined : { path },
    },
  );
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function decodeJsonObject(body: Buffer): JsonObject {
  let text: string;
  try {
    // ignoreBOM keeps a byte order mark in the text, so JSON.parse refuses it (as Go does).
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw invalid('', 'manifest is not valid UTF-8');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? `: ${err.message}` : '';
    throw invalid('', `manifest is not valid JSON${reason}`);
  }
  if (!isObject(doc)) throw invalid('', 'manifest must be a JSON object');
  return doc;
}

function effectiveMediaType(doc: JsonObject, contentType: string | undefined): string {
  const field = optionalString(doc, 'mediaType', '') || undefined;
  const header = normalizeContentType(contentType);
  const specificHeader =
    header !== undefined && !GENERIC_CONTENT_TYPES.includes(header) ? header : undefined;

  if (
    field !== undefined &&
    specificHeader !== undefined &&
    field.toLowerCase() !== specificHeader
  ) {
    throw invalid(
      'mediaType',
      `mediaType field ${quote(field)} does not match Content-Type ${quote(specificHeader)}`,
    );
  }
  const schemaVersion = get(doc, 'schemaVersion');
  const declared = field ?? specificHeader;
  if (schemaVersion === 1 || (declared !== undefined && isSchema1MediaType(declared))) {
    throw invalid(
      '',
      'Docker schema1 manifests are not supported; push a Docker schema2 or OCI manifest',
    );
  }

  if (field !== undefined) {
    if (!isManifestMediaType(field)) throw unsupportedMediaType('mediaType', field);
    return field;
  }
  if (specificHeader !== undefined && isManifestMediaType(specificHeader)) return specificHeader;

  const detected = detectByShape(doc);
  if (detected !== undefined) return detected;
  if (specificHeader !== undefined) throw unsupportedMediaType('', specificHeader);
  throw invalid(
    '',
    'cannot determine the manifest media type: set the mediaType field or a Content-Type of ' +
      supportedList(),
  );
}

function detectByShape(doc: JsonObject): string | undefined {
  const hasIndexShape = present(doc, 'manifests');
  const hasImageShape = present(doc, 'config') || present(doc, 'layers');
  if (hasIndexShape && hasImageShape) {
    throw invalid(
      '',
      'ambiguous manifest: it has both "manifests" and "config"/"layers"; set the mediaType field',
    );
  }
  if (hasIndexShape) return MediaType.OciIndex;
  if (hasImageShape) return MediaType.OciManifest;
  return undefined;
}

function unsupportedMediaType(path: string, mediaType: string): OciError {
  return invalid(
    path,
    `unsupported manifest media type ${quote(mediaType)}; supported: ${supportedList()}`,
  );
}

function supportedList(): string {
  return MANIFEST_MEDIA_TYPES.join(', ');
}

function checkSchemaVersion(doc: JsonObject): void {
  const value = get(doc, 'schemaVersion');
  if (value === 2) return;
  if (value === undefined || value === null) {
    throw invalid('schemaVersion', 'schemaVersion is required and must be 2');
  }
  const shown = typeof value === 'number' ? String(value) : `a ${jsonType(value)}`;
  throw invalid('schemaVersion', `schemaVersion must be the number 2, got ${shown}`);
}

function parseImage(doc: JsonObject, mediaType: string): ParsedManifest {
  if (present(doc, 'manifests')) {
    throw invalid('manifests', 'an image manifest must not have a "manifests" member');
  }
  if (!present(doc, 'config')) throw invalid('config', 'config descriptor is required');
  const config = parseDescriptor(get(doc, 'config'), 'config');
  const layers = requiredArray(doc, 'layers').map((layer, i) =>
    parseDescriptor(layer, `layers[${i}]`),
  );
  const manifest: ParsedManifest = { mediaType, kind: 'image', config, layers, manifests: [] };
  addCommonFields(doc, manifest);
  manifest.artifactType ??= config.mediaType;
  return manifest;
}

function parseIndex(doc: JsonObject, mediaType: string): ParsedManifest {
  for (const key of ['config', 'layers']) {
    if (present(doc, key)) {
      throw invalid(key, `an image index must not have a ${quote(key)} member`);
    }
  }
  const manifests = requiredArray(doc, 'manifests').map((entry, i) => {
    const path = `manifests[${i}]`;
    const descriptor = parseDescriptor(entry, path);
    if (mediaType === MediaType.DockerManifestList && !isManifestMediaType(descriptor.mediaType)) {
      throw invalid(
        join(path, 'mediaType'),
        `a manifest list entry must be a manifest (${supportedList()}), got ${quote(descriptor.mediaType)}`,
      );
    }
    return descriptor;
  });
  const index: ParsedManifest = { mediaType, kind: 'index', layers: [], manifests };
  addCommonFields(doc, index);
  return index;
}

function addCommonFields(doc: JsonObject, manifest: ParsedManifest): void {
  const oci =
    manifest.mediaType === MediaType.OciManifest || manifest.mediaType === MediaType.OciIndex;
  if (oci) {
    const artifactType = optionalMediaType(doc, 'artifactType', '');
    if (artifactType !== undefined) manifest.artifactType = artifactType;
    if (present(doc, 'subject')) manifest.subject = parseDescriptor(get(doc, 'subject'), 'subject');
  }
  const annotations = optionalAnnotations(doc, '');
  if (annotations !== undefined) manifest.annotations = annotations;
}

// --- field readers ---------------------------------------------------------------------------

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own member only: never something inherited from Object.prototype. */
function get(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Present and not null (Go decoders treat `null` as absent). */
function present(obj: JsonObject, key: string): boolean {
  const value = get(obj, key);
  return value !== undefined && value !== null;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function expectObject(value: unknown, path: string, what: string): JsonObject {
  if (!isObject(value))
    throw invalid(path, `must be ${what} (a JSON object), got ${jsonType(value)}`);
  return value;
}

function requiredArray(obj: JsonObject, key: string): unknown[] {
  const value = get(obj, key);
  if (value === undefined || value === null) throw invalid(key, `${key} is required`);
  if (!Array.isArray(value)) {
    throw invalid(key, `${key} must be an array of descriptors, got ${jsonType(value)}`);
  }
  return value;
}

function optionalString(obj: JsonObject, key: string, path: string): string | undefined {
  const value = get(obj, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw invalid(join(path, key), `must be a string, got ${jsonType(value)}`);
  }
  return value;
}

function requiredMediaType(obj: JsonObject, key: string, path: string): string {
  const value = optionalMediaType(obj, key, path);
  if (value === undefined) throw invalid(join(path, key), `${key} is required`);
  return value;
}

function optionalMediaType(obj: JsonObject, key: string, path: string): string | undefined {
  const value = optionalString(obj, key, path);
  if (value !== undefined && !isValidMediaType(value)) {
    throw invalid(join(path, key), `${quote(value)} is not a valid media type (type/subtype)`);
  }
  return value;
}

function requiredDigest(obj: JsonObject, path: string): string {
  const at = join(path, 'digest');
  const value = optionalString(obj, 'digest', path);
  if (value === undefined) throw invalid(at, 'digest is required');
  try {
    return parseDigest(value).value;
  } catch (err) {
    if (err instanceof OciError) throw invalid(at, err.message);
    throw err;
  }
}

function requiredSize(obj: JsonObject, path: string): number {
  const at = join(path, 'size');
  const value = get(obj, 'size');
  if (value === undefined || value === null) throw invalid(at, 'size is required');
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    const shown = typeof value === 'number' ? String(value) : `a ${jsonType(value)}`;
    throw invalid(at, `size must be a non-negative integer, got ${shown}`);
  }
  return value;
}

function optionalStringArray(obj: JsonObject, key: string, path: string): string[] | undefined {
  const at = join(path, key);
  const value = get(obj, key);
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value))
    throw invalid(at, `must be an array of strings, got ${jsonType(value)}`);
  return value.map((item, i) => {
    if (typeof item !== 'string') {
      throw invalid(`${at}[${i}]`, `must be a string, got ${jsonType(item)}`);
    }
    return item;
  });
}

function optionalAnnotations(obj: JsonObject, path: string): Record<string, string> | undefined {
  const at = join(path, 'annotations');
  const value = get(obj, 'annotations');
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) {
    throw invalid(at, `must be an object of string values, got ${jsonType(value)}`);
  }
  const entries = Object.entries(value).map(([key, v]): [string, string] => {
    if (typeof v !== 'string') {
      throw invalid(
        `${at}[${JSON.stringify(key)}]`,
        `annotation values must be strings, got ${jsonType(v)}`,
      );
    }
    return [key, v];
  });
  // fromEntries defines own properties, so a "__proto__" key stays an ordinary key.
  return Object.fromEntries(entries);
}

function optionalPlatform(obj: JsonObject, path: string): Platform | undefined {
  const at = join(path, 'platform');
  const value = get(obj, 'platform');
  if (value === undefined || value === null) return undefined;
  const raw = expectObject(value, at, 'a platform');
  const architecture = optionalString(raw, 'architecture', at);
  if (architecture === undefined)
    throw invalid(join(at, 'architecture'), 'architecture is required');
  const os = optionalString(raw, 'os', at);
  if (os === undefined) throw invalid(join(at, 'os'), 'os is required');
  const platform: Platform = { architecture, os };
  const osVersion = optionalString(raw, 'os.version', at);
  if (osVersion !== undefined) platform['os.version'] = osVersion;
  const osFeatures = optionalStringArray(raw, 'os.features', at);
  if (osFeatures !== undefined) platform['os.features'] = osFeatures;
  const variant = optionalString(raw, 'variant', at);
  if (variant !== undefined) platform.variant = variant;
  const features = optionalStringArray(raw, 'features', at);
  if (features !== undefined) platform.features = features;
  return platform;
}

/** RFC 4648 base64 with padding (the encoding Go uses for []byte). */
const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function optionalData(
  obj: JsonObject,
  path: string,
  digest: string,
  size: number,
): string | undefined {
  const at = join(path, 'data');
  const value = optionalString(obj, 'data', path);
  if (value === undefined) return undefined;
  if (!BASE64_PATTERN.test(value)) throw invalid(at, 'data must be standard base64');
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== size) {
    throw invalid(at, `data decodes to ${bytes.length} bytes but size is ${size}`);
  }
  const { algorithm } = parseDigest(digest);
  if (digestOf(bytes, algorithm) !== digest)
    throw invalid(at, `data does not match digest ${digest}`);
  return value;
}
