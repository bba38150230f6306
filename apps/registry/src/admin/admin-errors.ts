import { OciError, OciErrorCode } from '@berth/oci';

/**
 * Errors of the admin API. The data plane answers every error in the OCI error format (mapped
 * once by `OciExceptionFilter`); admin failures carry the generic UNSUPPORTED code with the
 * HTTP status that says what went wrong.
 */
export function badRequest(message: string): OciError {
  return new OciError(OciErrorCode.UNSUPPORTED, message, { status: 400 });
}

export function notFound(message: string): OciError {
  return new OciError(OciErrorCode.UNSUPPORTED, message, { status: 404 });
}

export function conflict(message: string): OciError {
  return new OciError(OciErrorCode.UNSUPPORTED, message, { status: 409 });
}
