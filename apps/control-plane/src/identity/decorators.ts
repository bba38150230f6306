import {
  SetMetadata,
  applyDecorators,
  createParamDecorator,
  type ExecutionContext,
} from '@nestjs/common';
import { ApiBearerAuth } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { OrgRole } from '../orgs/org-roles';
import type { OrgScope } from '../orgs/org-scope';
import type { Actor } from './actor';

export const ACCESS_METADATA = 'berth:access';

/**
 * What a route requires. The global guard refuses to serve a route that declares none: a
 * route is either explicitly public or guarded.
 */
export type AccessRequirement =
  | { kind: 'public' }
  | { kind: 'signed-in' }
  | { kind: 'operator' }
  | { kind: 'org'; role: OrgRole };

/** Anyone may call this route. */
export const Public = (): MethodDecorator & ClassDecorator =>
  SetMetadata(ACCESS_METADATA, { kind: 'public' } satisfies AccessRequirement);

/** Any signed-in account. */
export const SignedIn = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'signed-in' } satisfies AccessRequirement),
    ApiBearerAuth(),
  );

/** Platform operators only. */
export const OperatorOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'operator' } satisfies AccessRequirement),
    ApiBearerAuth(),
  );

/**
 * Members of the organisation named by the `:org` path parameter with at least `role`; the
 * guard then puts the caller's OrgScope on the request (`@Scope()`).
 */
export const OrgAccess = (role: OrgRole): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { kind: 'org', role } satisfies AccessRequirement),
    ApiBearerAuth(),
  );

export interface AuthenticatedRequest extends FastifyRequest {
  actor?: Actor;
  orgScope?: OrgScope;
}

export const CurrentActor = createParamDecorator((_: unknown, ctx: ExecutionContext): Actor => {
  const actor = ctx.switchToHttp().getRequest<AuthenticatedRequest>().actor;
  if (!actor) throw new Error('CurrentActor used on a route that is not signed in');
  return actor;
});

export const Scope = createParamDecorator((_: unknown, ctx: ExecutionContext): OrgScope => {
  const scope = ctx.switchToHttp().getRequest<AuthenticatedRequest>().orgScope;
  if (!scope) throw new Error('Scope used on a route without @OrgAccess');
  return scope;
});
