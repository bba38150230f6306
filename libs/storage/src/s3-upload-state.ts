/**
 * The persisted state of one S3 upload (`uploads/<id>/state.json`), see docs/storage-layout.md.
 *
 * The upload content is, in order:
 *   1. the first `base.size` bytes of the object `base.name` (a completed earlier multipart
 *      upload, or a small object folded in),
 *   2. the `parts` of the open multipart upload `multipart`, in part-number order,
 *   3. the first `tail.size` bytes of the object `tail.name` (the last bytes of a write, shorter
 *      than the 5 MiB minimum part size).
 * Invariant: when `base` is present, `parts` is empty. Object names are relative to the upload
 * prefix `uploads/<id>/` and carry a generation number, so a new object never overwrites one a
 * persisted state refers to; a write that fails leaves only unreferenced objects behind.
 */
export interface S3UploadSegment {
  /** Object name under the upload prefix, e.g. `tail-7`. */
  name: string;
  /** Bytes of the object that belong to the upload (a prefix of it, after a truncation). */
  size: number;
  /** Size of the whole object. */
  objectSize: number;
}

export interface S3UploadPart {
  partNumber: number;
  etag: string;
  size: number;
}

export interface S3UploadState {
  version: 1;
  /** Last generation number used in an object name. */
  generation: number;
  base?: S3UploadSegment;
  /** The open multipart upload; its target object is `name` under the upload prefix. */
  multipart?: { uploadId: string; name: string };
  parts: S3UploadPart[];
  tail?: S3UploadSegment;
}

export function emptyS3UploadState(): S3UploadState {
  return { version: 1, generation: 0, parts: [] };
}

/** Total upload size described by a state. */
export function s3UploadSize(state: S3UploadState): number {
  return (
    (state.base?.size ?? 0) +
    state.parts.reduce((sum, part) => sum + part.size, 0) +
    (state.tail?.size ?? 0)
  );
}

/** Names of the objects a state refers to (the multipart target is not an object yet). */
export function s3UploadObjectNames(state: S3UploadState): string[] {
  return [state.base?.name, state.tail?.name].filter((name): name is string => name !== undefined);
}

/** Parses and validates a stored state; throws on anything unexpected. */
export function parseS3UploadState(text: string, where: string): S3UploadState {
  const invalid = (what: string): Error => new Error(`corrupt upload state ${where}: ${what}`);
  const value: unknown = JSON.parse(text);
  if (!isRecord(value) || value['version'] !== 1) throw invalid('unknown version');
  const generation = value['generation'];
  if (!isCount(generation)) throw invalid('generation');
  const state: S3UploadState = { version: 1, generation, parts: [] };

  const segment = (field: string): S3UploadSegment | undefined => {
    const raw = value[field];
    if (raw === undefined) return undefined;
    if (
      !isRecord(raw) ||
      typeof raw['name'] !== 'string' ||
      !isCount(raw['size']) ||
      !isCount(raw['objectSize']) ||
      raw['size'] === 0 ||
      raw['size'] > raw['objectSize']
    ) {
      throw invalid(field);
    }
    return { name: raw['name'], size: raw['size'], objectSize: raw['objectSize'] };
  };
  const base = segment('base');
  const tail = segment('tail');
  if (base !== undefined) state.base = base;
  if (tail !== undefined) state.tail = tail;

  const multipart = value['multipart'];
  if (multipart !== undefined) {
    if (
      !isRecord(multipart) ||
      typeof multipart['uploadId'] !== 'string' ||
      typeof multipart['name'] !== 'string'
    ) {
      throw invalid('multipart');
    }
    state.multipart = { uploadId: multipart['uploadId'], name: multipart['name'] };
  }

  const parts = value['parts'];
  if (!Array.isArray(parts)) throw invalid('parts');
  parts.forEach((raw: unknown, index) => {
    if (
      !isRecord(raw) ||
      raw['partNumber'] !== index + 1 ||
      typeof raw['etag'] !== 'string' ||
      !isCount(raw['size'])
    ) {
      throw invalid(`part ${index + 1}`);
    }
    state.parts.push({ partNumber: index + 1, etag: raw['etag'], size: raw['size'] });
  });
  if (state.parts.length > 0 && (state.multipart === undefined || state.base !== undefined)) {
    throw invalid('parts without a multipart upload, or with a base');
  }
  return state;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
