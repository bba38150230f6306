import type { FastifyRequest } from 'fastify';
import { OciError, OciErrorCode } from '@berth/oci';
import type { AuthConfig } from '../config/registry-config';

/** The token endpoint clients are sent to: configured, or this registry's own `/auth/token`. */
export function realmOf(config: AuthConfig, request: FastifyRequest): string {
  if (config.realm) return config.realm;
  const host = request.headers.host ?? '127.0.0.1';
  return `${request.protocol}://${host}/auth/token`;
}

/** `401 UNAUTHORIZED` with the `WWW-Authenticate` challenge of the Docker token flow. */
export function unauthorized(
  config: AuthConfig,
  request: FastifyRequest,
  message: string,
  scope?: string,
  insufficientScope = false,
): OciError {
  let challenge = `Bearer realm="${realmOf(config, request)}",service="${config.service}"`;
  if (scope) challenge += `,scope="${scope}"`;
  if (insufficientScope) challenge += ',error="insufficient_scope"';
  return new OciError(OciErrorCode.UNAUTHORIZED, message, {
    headers: { 'WWW-Authenticate': challenge },
    ...(scope
      ? {
          detail: [
            {
              Type: scope.split(':')[0],
              Name: scope.split(':').slice(1, -1).join(':'),
              Action: scope.split(':').pop(),
            },
          ],
        }
      : {}),
  });
}

export function denied(message: string): OciError {
  return new OciError(OciErrorCode.DENIED, message);
}

export function tooManyRequests(retryAfterMs: number, message: string): OciError {
  return new OciError(OciErrorCode.TOOMANYREQUESTS, message, {
    headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
  });
}

/** `Authorization: Basic` credentials, or undefined when absent or malformed. */
export function basicCredentials(
  header: string | undefined,
): { username: string; password: string } | undefined {
  if (!header || header.length > 8192) return undefined;
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
