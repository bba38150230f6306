import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** One invalid input field of a 400/422 problem. */
export interface InvalidParam {
  name: string;
  reason: string;
}

/** An RFC 9457 problem details object (`application/problem+json`). */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Extension member: the invalid inputs of a validation problem. */
  errors?: InvalidParam[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://berth.dev/problems/';

/** Throw this anywhere in the control plane: the filter renders it as problem JSON. */
export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly kind: string,
    readonly title: string,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.name = 'Problem';
  }

  toJSON(instance?: string): ProblemDetails {
    return {
      type: `${TYPE_BASE}${this.kind}`,
      title: this.title,
      status: this.status,
      ...(this.detail !== undefined ? { detail: this.detail } : {}),
      ...(instance !== undefined ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export const problems = {
  validation: (errors: InvalidParam[]): Problem =>
    new Problem(
      400,
      'validation',
      'Invalid request',
      errors.map((e) => `${e.name}: ${e.reason}`).join('; '),
      { errors },
    ),
  badRequest: (detail: string): Problem => new Problem(400, 'bad-request', 'Bad request', detail),
  unauthorized: (detail = 'Sign in first: send a bearer access token or an API key'): Problem =>
    new Problem(
      401,
      'unauthorized',
      'Authentication required',
      detail,
      {},
      {
        'WWW-Authenticate': 'Bearer realm="berth"',
      },
    ),
  forbidden: (detail: string): Problem => new Problem(403, 'forbidden', 'Forbidden', detail),
  notFound: (what: string): Problem =>
    new Problem(404, 'not-found', 'Not found', `${what} not found`),
  conflict: (detail: string): Problem => new Problem(409, 'conflict', 'Conflict', detail),
  unprocessable: (detail: string): Problem =>
    new Problem(422, 'unprocessable', 'Unprocessable request', detail),
  tooManyRequests: (detail: string, retryAfterSeconds: number): Problem =>
    new Problem(
      429,
      'too-many-requests',
      'Too many requests',
      detail,
      {},
      {
        'Retry-After': String(retryAfterSeconds),
      },
    ),
  unavailable: (detail: string): Problem =>
    new Problem(503, 'unavailable', 'Service unavailable', detail),
};

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Authentication required',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable request',
  429: 'Too many requests',
};

/** Renders every error of the REST API as RFC 9457 problem JSON; 500s hide their cause. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('ProblemFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const problem = toProblem(exception);
    if (problem.status >= 500 && !(exception instanceof Problem)) {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
    }
    for (const [name, value] of Object.entries(problem.headers)) void reply.header(name, value);
    void reply
      .status(problem.status)
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send(JSON.stringify(problem.toJSON(request.url.split('?')[0])));
  }
}

export function toProblem(exception: unknown): Problem {
  if (exception instanceof Problem) return exception;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? response.message
        : exception.message;
    const detail = Array.isArray(message) ? message.join('; ') : String(message);
    return new Problem(
      status,
      status === 404 ? 'not-found' : `http-${status}`,
      TITLES[status] ?? HttpStatus[status] ?? 'Error',
      detail,
    );
  }
  // Fastify's own errors (body too large, bad JSON) carry a statusCode.
  if (exception instanceof Error && 'statusCode' in exception) {
    const status = Number((exception as { statusCode: unknown }).statusCode);
    if (status >= 400 && status < 500) {
      return new Problem(
        status,
        `http-${status}`,
        TITLES[status] ?? 'Bad request',
        exception.message,
      );
    }
  }
  return new Problem(
    500,
    'internal',
    'Internal error',
    'The request failed unexpectedly; it was logged',
  );
}
