/**
 * Error codes of the OCI distribution spec, plus the CNCF distribution extensions the registry
 * uses. String values equal the names so a code serialises as-is in an error body.
 */
export enum OciErrorCode {
  BLOB_UNKNOWN = 'BLOB_UNKNOWN',
  BLOB_UPLOAD_INVALID = 'BLOB_UPLOAD_INVALID',
  BLOB_UPLOAD_UNKNOWN = 'BLOB_UPLOAD_UNKNOWN',
  DIGEST_INVALID = 'DIGEST_INVALID',
  MANIFEST_BLOB_UNKNOWN = 'MANIFEST_BLOB_UNKNOWN',
  MANIFEST_INVALID = 'MANIFEST_INVALID',
  MANIFEST_UNKNOWN = 'MANIFEST_UNKNOWN',
  NAME_INVALID = 'NAME_INVALID',
  NAME_UNKNOWN = 'NAME_UNKNOWN',
  SIZE_INVALID = 'SIZE_INVALID',
  UNAUTHORIZED = 'UNAUTHORIZED',
  DENIED = 'DENIED',
  UNSUPPORTED = 'UNSUPPORTED',
  TOOMANYREQUESTS = 'TOOMANYREQUESTS',
  /** Distribution extension: an upload chunk's Content-Range does not follow what was stored. */
  RANGE_INVALID = 'RANGE_INVALID',
  /** Distribution extension: the service cannot take the request now (e.g. read-only mode). */
  UNAVAILABLE = 'UNAVAILABLE',
  /** Distribution extension: the `n` pagination parameter is not a non-negative integer. */
  PAGINATION_NUMBER_INVALID = 'PAGINATION_NUMBER_INVALID',
}

interface CodeInfo {
  status: number;
  message: string;
}

// Statuses follow CNCF distribution's errcode registry, except BLOB_UPLOAD_INVALID which is
// 400 here (distribution registers 404, which the OCI spec does not ask for and clients do not
// expect for a rejected upload).
const CODE_INFO: Record<OciErrorCode, CodeInfo> = {
  [OciErrorCode.BLOB_UNKNOWN]: { status: 404, message: 'blob unknown to registry' },
  [OciErrorCode.BLOB_UPLOAD_INVALID]: { status: 400, message: 'blob upload invalid' },
  [OciErrorCode.BLOB_UPLOAD_UNKNOWN]: { status: 404, message: 'blob upload unknown to registry' },
  [OciErrorCode.DIGEST_INVALID]: {
    status: 400,
    message: 'provided digest did not match uploaded content',
  },
  [OciErrorCode.MANIFEST_BLOB_UNKNOWN]: {
    status: 400,
    message: 'manifest references a manifest or blob unknown to registry',
  },
  [OciErrorCode.MANIFEST_INVALID]: { status: 400, message: 'manifest invalid' },
  [OciErrorCode.MANIFEST_UNKNOWN]: { status: 404, message: 'manifest unknown' },
  [OciErrorCode.NAME_INVALID]: { status: 400, message: 'invalid repository name' },
  [OciErrorCode.NAME_UNKNOWN]: { status: 404, message: 'repository name not known to registry' },
  [OciErrorCode.SIZE_INVALID]: {
    status: 400,
    message: 'provided length did not match content length',
  },
  [OciErrorCode.UNAUTHORIZED]: { status: 401, message: 'authentication required' },
  [OciErrorCode.DENIED]: { status: 403, message: 'requested access to the resource is denied' },
  [OciErrorCode.UNSUPPORTED]: { status: 405, message: 'the operation is unsupported' },
  [OciErrorCode.TOOMANYREQUESTS]: { status: 429, message: 'too many requests' },
  [OciErrorCode.RANGE_INVALID]: { status: 416, message: 'invalid content range' },
  [OciErrorCode.UNAVAILABLE]: { status: 503, message: 'service unavailable' },
  [OciErrorCode.PAGINATION_NUMBER_INVALID]: {
    status: 400,
    message: 'invalid number of results requested',
  },
};

/** Default HTTP status for an error code. */
export function ociErrorStatus(code: OciErrorCode): number {
  return CODE_INFO[code].status;
}

/** Default human-readable message for an error code. */
export function ociErrorMessage(code: OciErrorCode): string {
  return CODE_INFO[code].message;
}

export interface OciErrorOptions {
  /** HTTP status to answer with instead of the code's default. */
  status?: number;
  /** Serialised as the `detail` member of the error body. */
  detail?: unknown;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
  headers?: Record<string, string>;
  /** Underlying error, for logs; never sent to the client. */
  cause?: unknown;
}

/** A registry API error: what the HTTP layer turns into a status and an `{ errors: [...] }` body. */
export class OciError extends Error {
  readonly code: OciErrorCode;
  readonly status: number;
  readonly detail?: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: OciErrorCode, message?: string, options: OciErrorOptions = {}) {
    super(
      message ?? ociErrorMessage(code),
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'OciError';
    this.code = code;
    this.status = options.status ?? ociErrorStatus(code);
    if (options.detail !== undefined) this.detail = options.detail;
    this.headers = Object.freeze({ ...options.headers });
  }
}

export function isOciError(value: unknown): value is OciError {
  return value instanceof OciError;
}

export interface OciErrorBodyEntry {
  code: string;
  message: string;
  detail?: unknown;
}

export interface OciErrorBody {
  errors: OciErrorBodyEntry[];
}

/** The JSON error body of the distribution spec for one or more errors. */
export function ociErrorBody(errors: OciError | OciError[]): OciErrorBody {
  const list = Array.isArray(errors) ? errors : [errors];
  return {
    errors: list.map((e) => {
      const entry: OciErrorBodyEntry = { code: e.code, message: e.message };
      if (e.detail !== undefined) entry.detail = e.detail;
      return entry;
    }),
  };
}
