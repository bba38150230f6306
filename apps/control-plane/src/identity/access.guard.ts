import { Injectable, Logger, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Problem, problems } from '../common/problem';
import { OrgDirectory } from '../orgs/org-directory.service';
import { roleAtLeast } from '../orgs/org-roles';
import type { Actor } from './actor';
import { ACCESS_METADATA, type AccessRequirement, type AuthenticatedRequest } from './decorators';
import { API_KEY_PREFIX, IdentityService } from './identity.service';

/**
 * The one global guard of the REST API. Every route must declare its access (`@Public`,
 * `@SignedIn`, `@OperatorOnly` or `@OrgAccess(role)`); a route that declares nothing is
 * refused, so forgetting a decorator fails closed. Session tokens are verified by the
 * passport-jwt strategy, API keys (`bk_...`) by their hash.
 */
@Injectable()
export class AccessGuard extends AuthGuard('session') {
  private readonly logger = new Logger('AccessGuard');

  constructor(
    private readonly reflector: Reflector,
    private readonly identity: IdentityService,
    private readonly orgs: OrgDirectory,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const requirement = this.reflector.getAllAndOverride<AccessRequirement | undefined>(
      ACCESS_METADATA,
      [context.getHandler(), context.getClass()],
    );
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    if (!requirement) {
      this.logger.error(`route ${request.method} ${request.url} declares no access: refused`);
      throw new Problem(403, 'forbidden', 'Forbidden', 'this route declares no access rule');
    }
    if (requirement.kind === 'public') return true;
    const actor = await this.authenticate(context, request);
    request.actor = actor;
    if (requirement.kind === 'operator' && !actor.operator) {
      throw problems.forbidden('only platform operators may do this');
    }
    if (requirement.kind === 'org') {
      const slug = (request.params as Record<string, string | undefined>).org;
      if (!slug) throw new Error('@OrgAccess on a route without an :org parameter');
      const membership = await this.orgs.membership(slug, actor.accountId);
      // Not a member: the organisation may as well not exist (no existence oracle).
      if (!membership) throw problems.notFound(`organisation ${slug}`);
      if (!roleAtLeast(membership.role, requirement.role)) {
        throw problems.forbidden(
          `this needs the ${requirement.role} role in ${slug}; you are ${membership.role}`,
        );
      }
      request.orgScope = membership.scope;
    }
    return true;
  }

  private async authenticate(
    context: ExecutionContext,
    request: AuthenticatedRequest,
  ): Promise<Actor> {
    const header = request.headers.authorization;
    if (!header) throw problems.unauthorized();
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (bearer?.startsWith(API_KEY_PREFIX)) {
      const actor = await this.identity.actorForApiKey(bearer);
      if (!actor) throw problems.unauthorized('the API key is unknown, revoked or expired');
      return actor;
    }
    await super.canActivate(context);
    return (request as unknown as { user: Actor }).user;
  }

  override handleRequest<TUser>(err: unknown, user: TUser | false): TUser {
    if (err instanceof Problem) throw err;
    if (err || !user) {
      throw problems.unauthorized(
        'the access token is invalid or expired: sign in again or refresh',
      );
    }
    return user;
  }
}
