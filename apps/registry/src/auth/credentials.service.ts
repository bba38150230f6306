import { Inject, Injectable } from '@nestjs/common';
import { REGISTRY_CONFIG } from '../config/config.tokens';
import type { RegistryConfig } from '../config/registry-config';
import { AuthAudit } from './auth-audit';
import { tooManyRequests } from './auth-challenge';
import type { Caller } from './auth.decorators';
import { LoginThrottle } from './login-throttle';
import { PrincipalService, type Authenticated } from './principal.service';

/**
 * Username + password (or access token) checks with brute-force protection: failures are
 * counted per user and per client IP, lockouts answer 429 with Retry-After, and every
 * success, failure and lockout is audited.
 */
@Injectable()
export class CredentialsService {
  readonly throttle: LoginThrottle;

  constructor(
    private readonly principals: PrincipalService,
    private readonly audit: AuthAudit,
    @Inject(REGISTRY_CONFIG) config: RegistryConfig,
  ) {
    this.throttle = new LoginThrottle({
      threshold: config.auth.lockoutThreshold,
      windowMs: config.auth.lockoutWindowSeconds * 1000,
      cooldownMs: config.auth.lockoutCooldownSeconds * 1000,
    });
  }

  /** The principal, or undefined for wrong credentials; throws 429 while locked out. */
  async authenticate(
    username: string,
    secret: string,
    caller: Caller,
  ): Promise<Authenticated | undefined> {
    const user = username.slice(0, 128);
    const wait = this.throttle.retryAfterMs(user, caller.ip);
    if (wait > 0) {
      await this.audit.login(caller, user, 'failure');
      throw tooManyRequests(wait, 'too many failed sign-ins; try again later');
    }
    const authenticated = await this.principals.verifyCredentials(user, secret);
    if (!authenticated) {
      await this.audit.login(caller, user, 'failure');
      for (const lockout of this.throttle.fail(user, caller.ip))
        await this.audit.lockout(caller, lockout, user);
      return undefined;
    }
    this.throttle.succeed(user);
    await this.audit.login(caller, user, 'success');
    return authenticated;
  }
}
