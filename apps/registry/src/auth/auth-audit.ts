import { Injectable, Logger } from '@nestjs/common';
import type { Caller } from './auth.decorators';
import type { Lockout } from './login-throttle';

/** Audit events of authentication and authorisation. */
@Injectable()
export class AuthAudit {
  private readonly logger = new Logger('Audit');

  async login(caller: Caller, username: string, result: 'success' | 'failure'): Promise<void> {
    this.logger.log(
      JSON.stringify({
        event: 'auth.login',
        username,
        result,
        ip: caller.ip,
        requestId: caller.requestId,
      }),
    );
    return Promise.resolve();
  }

  async lockout(caller: Caller, lockout: Lockout): Promise<void> {
    this.logger.warn(
      JSON.stringify({
        event: 'auth.lockout',
        ...lockout,
        ip: caller.ip,
        requestId: caller.requestId,
      }),
    );
    return Promise.resolve();
  }

  async denied(caller: Caller, repository: string | undefined, action: string): Promise<void> {
    this.logger.warn(
      JSON.stringify({
        event: 'access.denied',
        principal: caller.name,
        repository,
        action,
        ip: caller.ip,
      }),
    );
    return Promise.resolve();
  }
}
