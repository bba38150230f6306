import { ArgumentsHost, Catch, HttpException, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { OciError, OciErrorCode, ociErrorBody } from '@berth/oci';
import { WRITE_BLOCKED_REASON_HEADER } from '@berth/platform-contracts';

/**
 * Maps every error to the OCI distribution error format, once, at the edge. Domain code
 * throws `OciError`; anything else is a 5xx whose details stay in the log.
 */
@Catch()
export class OciExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const error = this.toOciError(exception, request);
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return;
    }
    if (request.method !== 'HEAD' && request.method !== 'GET' && !request.raw.readableEnded) {
      // Do not read the rest of a refused upload; close the connection after answering.
      void reply.header('Connection', 'close');
    }
    const reason = error.headers[WRITE_BLOCKED_REASON_HEADER];
    if (reason !== undefined) {
      // Clients of containers/image (podman, skopeo, buildah) ignore 5xx bodies and print only
      // the status line: a refused push carries its reason there too.
      reply.raw.statusMessage = `${STATUS_CODES[error.status] ?? 'Error'}: ${reason}`;
    }
    void reply
      .status(error.status)
      .headers(error.headers ?? {})
      .header('Content-Type', 'application/json; charset=utf-8')
      .send(request.method === 'HEAD' ? undefined : JSON.stringify(ociErrorBody(error)));
  }

  private toOciError(exception: unknown, request: FastifyRequest): OciError {
    if (exception instanceof OciError) return exception;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) {
        return new OciError(
          OciErrorCode.UNSUPPORTED,
          `no such endpoint: ${request.method} ${request.url}`,
          {
            status: 404,
          },
        );
      }
      if (status === 405) {
        return new OciError(OciErrorCode.UNSUPPORTED, exception.message, { status: 405 });
      }
      if (status < 500) {
        return new OciError(OciErrorCode.UNSUPPORTED, exception.message, { status });
      }
    }
    if (isClientAbort(exception)) {
      return new OciError(OciErrorCode.BLOB_UPLOAD_INVALID, 'request body ended early', {
        status: 400,
      });
    }
    this.logger.error(
      `${request.method} ${request.url} failed: ${exception instanceof Error ? (exception.stack ?? exception.message) : String(exception)}`,
    );
    return new OciError(OciErrorCode.UNAVAILABLE, 'internal error, try again', { status: 500 });
  }
}

function isClientAbort(err: unknown): boolean {
  const code = (err as { code?: string } | null)?.code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ABORT_ERR';
}
