import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { repositoryOf } from '../distribution/route-rewrite';
import { AuthAudit } from './auth-audit';
import { basicCredentials, denied, unauthorized } from './auth-challenge';
import { ROUTE_ACCESS, setCaller, type Caller, type RouteAccess } from './auth.decorators';
import { CredentialsService } from './credentials.service';
import { PermissionService } from './permission.service';
import { PrincipalService } from './principal.service';
import { REGISTRY_JWT } from './registry-jwt.strategy';
import type { RegistryClaims } from './token.service';

const JwtGuard = AuthGuard(REGISTRY_JWT);

/**
 * The one guard of the data plane (registered globally): every route declares what it needs
 * (`@Public`, `@RepositoryAccess`, `@CatalogAccess`, `@BaseAccess`, `@AdminOnly`) and a route
 * that declares nothing is refused. Repository routes need a bearer token whose `access`
 * claim holds the action, from a principal that is still enabled (and an access token that is
 * still valid): revocation takes effect on the next request.
 */
@Injectable()
export class RegistryAuthGuard implements CanActivate {
  private readonly jwt = new JwtGuard();

  constructor(
    private readonly reflector: Reflector,
    private readonly principals: PrincipalService,
    private readonly permissions: PermissionService,
    private readonly credentials: CredentialsService,
    private readonly audit: AuthAudit,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!access)
      throw new Error(
        `route ${context.getClass().name}.${context.getHandler().name} declares no access`,
      );
    if (access.kind === 'public') return true;
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const anonymous: Caller = {
      name: 'anonymous',
      kind: 'anonymous',
      ip: request.ip,
      requestId: String(request.id),
    };
    if (this.config.auth.mode === 'none') {
      // An open registry serves the registry API to anyone, but never its admin API.
      if (access.kind === 'admin') throw denied('the admin API needs REGISTRY_AUTH=token');
      setCaller(request, anonymous);
      return true;
    }
    if (access.kind === 'admin') return this.admin(context, request, anonymous);

    const scope = scopeFor(access, request);
    const claims = await this.verify(context, request);
    if (!claims) throw unauthorized(this.config.auth, request, 'authentication required', scope);
    let caller: Caller = anonymous;
    if (claims.pid !== undefined) {
      const principal = await this.principals.stillActive(claims.pid, claims.tid);
      if (!principal)
        throw unauthorized(this.config.auth, request, 'credentials revoked or disabled', scope);
      caller = {
        ...anonymous,
        principalId: principal.id,
        name: principal.name,
        kind: principal.kind,
        principal,
      };
    }
    setCaller(request, caller);

    switch (access.kind) {
      case 'base':
        return true;
      case 'catalog':
        if (!holds(claims, 'registry', 'catalog', '*')) {
          throw unauthorized(this.config.auth, request, 'catalog access required', scope);
        }
        return true;
      case 'repository': {
        const repository = repositoryOf(request.raw) ?? '';
        // The token must carry the action, and the caller must still hold it now: a role,
        // grant or public-access change applies to tokens already issued, on the next request.
        const allowed = await this.permissions.allowedActions(caller.principal, repository);
        const held = holds(claims, 'repository', repository, access.action);
        if (held && allowed.has(access.action)) return true;
        if (!caller.principal) {
          throw unauthorized(this.config.auth, request, 'authentication required', scope);
        }
        if (allowed.has(access.action)) {
          throw unauthorized(
            this.config.auth,
            request,
            'token does not cover this action',
            scope,
            true,
          );
        }
        await this.audit.denied(caller, repository, access.action);
        throw denied(`${caller.name} may not ${access.action} ${repository}`);
      }
    }
  }

  /** Admin API: Basic credentials or a bearer token with `registry:admin:*`, of an Owner or Admin. */
  private async admin(
    context: ExecutionContext,
    request: FastifyRequest,
    anonymous: Caller,
  ): Promise<boolean> {
    const basic = basicCredentials(request.headers.authorization);
    let principal;
    if (basic) {
      principal = (await this.credentials.authenticate(basic.username, basic.password, anonymous))
        ?.principal;
    } else {
      const claims = await this.verify(context, request);
      if (claims?.pid !== undefined && holds(claims, 'registry', 'admin', '*')) {
        principal = await this.principals.stillActive(claims.pid, claims.tid);
      }
    }
    if (!principal) {
      throw unauthorized(
        this.config.auth,
        request,
        'administrator credentials required',
        'registry:admin:*',
      );
    }
    const caller: Caller = {
      ...anonymous,
      principalId: principal.id,
      name: principal.name,
      kind: principal.kind,
      principal,
    };
    setCaller(request, caller);
    if (principal.role !== 'owner' && principal.role !== 'admin') {
      await this.audit.denied(caller, undefined, 'admin');
      throw denied(`${principal.name} is not an administrator of this registry`);
    }
    return true;
  }

  private async verify(
    context: ExecutionContext,
    request: FastifyRequest,
  ): Promise<RegistryClaims | undefined> {
    const header = request.headers.authorization;
    if (!header || !/^Bearer\s/i.test(header) || header.length > 8192) return undefined;
    try {
      await this.jwt.canActivate(context);
    } catch {
      return undefined;
    }
    return (request as FastifyRequest & { user?: RegistryClaims }).user;
  }
}

function holds(claims: RegistryClaims, type: string, name: string, action: string): boolean {
  return (claims.access ?? []).some(
    (a) =>
      a.type === type && a.name === name && Array.isArray(a.actions) && a.actions.includes(action),
  );
}

function scopeFor(access: RouteAccess, request: FastifyRequest): string | undefined {
  switch (access.kind) {
    case 'repository': {
      const repository = repositoryOf(request.raw);
      const actions = access.action === 'pull' ? 'pull' : `pull,${access.action}`;
      return repository ? `repository:${repository}:${actions}` : undefined;
    }
    case 'catalog':
      return 'registry:catalog:*';
    default:
      return undefined;
  }
}
