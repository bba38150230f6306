import { SetMetadata, createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

export type RepositoryAction = 'pull' | 'push' | 'delete';

export const ROUTE_ACCESS = 'berth:route-access';

/**
 * What a route needs. Every route must say it (`RegistryAuthGuard` refuses a route without
 * it, and the guard spec enumerates the routes): nothing, a repository action, the catalog, or
 * an admin of the registry.
 */
export type RouteAccess =
  | { kind: 'public' }
  | { kind: 'repository'; action: RepositoryAction }
  | { kind: 'catalog' }
  | { kind: 'base' }
  | { kind: 'admin' };

/** No credentials needed (health, metrics, the token endpoint). */
export const Public = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, { kind: 'public' });

/** A `/v2/<name>/...` route needing `action` on the repository. */
export const RepositoryAccess = (action: RepositoryAction): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, { kind: 'repository', action });

/** `/v2/_catalog`: any authenticated or anonymous token; results are filtered by pull access. */
export const CatalogAccess = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, { kind: 'catalog' });

/** `GET /v2/`: any valid token (anonymous included). */
export const BaseAccess = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, { kind: 'base' });

/** The admin API: an Owner or Admin of the registry. */
export const AdminOnly = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ROUTE_ACCESS, { kind: 'admin' });

/** Who is calling, as established by `RegistryAuthGuard`. */
export interface Caller {
  /** undefined for anonymous callers. */
  principalId?: string;
  /** The principal's name, or 'anonymous'. */
  name: string;
  kind: 'user' | 'service_account' | 'anonymous' | 'system';
  /** Client address, for audit. */
  ip: string;
  /** Request id, for audit. */
  requestId: string;
  /** The principal's role and status as of this request (for permission checks). */
  principal?: {
    id: string;
    name: string;
    kind: 'user' | 'service_account';
    role: 'owner' | 'admin' | 'developer' | 'reader' | 'none';
    disabled: boolean;
    createdAt: string;
  };
}

interface RequestWithCaller {
  berthCaller?: Caller;
}

export function setCaller(request: FastifyRequest, caller: Caller): void {
  (request.raw as RequestWithCaller).berthCaller = caller;
}

export function callerOf(request: FastifyRequest): Caller {
  return (
    (request.raw as RequestWithCaller).berthCaller ?? {
      name: 'anonymous',
      kind: 'anonymous',
      ip: request.ip,
      requestId: String(request.id),
    }
  );
}

/** The caller of the current request (anonymous when auth is off). */
export const CurrentCaller = createParamDecorator((_data: unknown, ctx: ExecutionContext) =>
  callerOf(ctx.switchToHttp().getRequest<FastifyRequest>()),
);
