import { Inject, Injectable } from '@nestjs/common';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import type { Caller } from './auth.decorators';
import { PermissionService } from './permission.service';

/**
 * Permission questions controllers ask beyond the route's own check (the catalog filter, the
 * source of a cross-repository mount). With authentication off, everything is allowed.
 */
@Injectable()
export class AccessPolicy {
  constructor(
    private readonly permissions: PermissionService,
    @Inject(REGISTRY_CONFIG) private readonly config: RegistryConfig,
  ) {}

  async canPull(caller: Caller, repository: string): Promise<boolean> {
    if (this.config.auth.mode === 'none') return true;
    return (await this.permissions.allowedActions(caller.principal, repository)).has('pull');
  }

  async pullFilter(caller: Caller): Promise<(repository: string) => boolean> {
    if (this.config.auth.mode === 'none') return () => true;
    return this.permissions.pullFilter(caller.principal);
  }
}
