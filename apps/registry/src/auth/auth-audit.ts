import { Injectable } from '@nestjs/common';
import { AuditAction } from '../audit/audit-event';
import { AuditService } from '../audit/audit.service';
import type { Caller } from './auth.decorators';
import type { Lockout } from './login-throttle';

/** Audit events of authentication and authorisation, written to the audit log. */
@Injectable()
export class AuthAudit {
  constructor(private readonly audit: AuditService) {}

  async login(caller: Caller, username: string, result: 'success' | 'failure'): Promise<void> {
    await this.audit.record({
      action: result === 'success' ? AuditAction.AuthLogin : AuditAction.AuthFailure,
      result,
      // The name that was tried, even when no such principal exists.
      caller: { ...caller, name: username.slice(0, 128) },
    });
  }

  async lockout(caller: Caller, lockout: Lockout, username: string): Promise<void> {
    await this.audit.record({
      action: AuditAction.AuthLockout,
      result: 'denied',
      // The name whose failure started it, for IP lockouts too.
      caller: { ...caller, name: username.slice(0, 128) },
      detail: {
        subject: lockout.subject,
        key: lockout.key,
        until: new Date(lockout.until).toISOString(),
      },
    });
  }

  async denied(caller: Caller, repository: string | undefined, action: string): Promise<void> {
    await this.audit.record({
      action: AuditAction.AccessDenied,
      result: 'denied',
      caller,
      repository,
      detail: { action },
    });
  }

  async admin(caller: Caller, change: string, detail: Record<string, unknown> = {}): Promise<void> {
    await this.audit.record({
      action: AuditAction.AdminChange,
      result: 'success',
      caller,
      detail: { change, ...detail },
    });
  }

  async token(
    caller: Caller,
    action: AuditAction.TokenIssue | AuditAction.TokenRevoke,
    detail: Record<string, unknown>,
  ): Promise<void> {
    await this.audit.record({ action, result: 'success', caller, detail });
  }

  async keyRotated(caller: Caller, kid: string): Promise<void> {
    await this.audit.record({
      action: AuditAction.KeyRotate,
      result: 'success',
      caller,
      detail: { kid },
    });
  }
}
