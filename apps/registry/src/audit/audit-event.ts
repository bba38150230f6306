import type { Caller } from '../auth/auth.decorators';

/** What happened. The values are stored in `audit_events.action` and are part of the API. */
export enum AuditAction {
  /** A token was issued in exchange for credentials (password or service-account secret). */
  AuthLogin = 'auth.login',
  /** Credentials were refused. */
  AuthFailure = 'auth.failure',
  /** A principal was locked out after repeated failures. */
  AuthLockout = 'auth.lockout',
  TokenIssue = 'token.issue',
  TokenRevoke = 'token.revoke',
  /** An authenticated or anonymous caller lacked the permission a request needed. */
  AccessDenied = 'access.denied',
  ManifestPush = 'manifest.push',
  ManifestPull = 'manifest.pull',
  ManifestDelete = 'manifest.delete',
  BlobDelete = 'blob.delete',
  TagDelete = 'tag.delete',
  /** Principals, grants, public patterns or settings were changed through the admin API. */
  AdminChange = 'admin.change',
  KeyRotate = 'key.rotate',
  /**
   * Retention deleted a tag (reference: the tag) or a manifest (reference: its digest); detail:
   * `rule` (why), `digest`, and for deletions that followed another one `subject` or `parent`.
   */
  RetentionDelete = 'retention.delete',
  /** Lifecycle policies (retention) were replaced through the admin API (detail: before, after). */
  PolicyChange = 'policy.change',
}

export const AUDIT_ACTIONS: readonly AuditAction[] = Object.values(AuditAction);

export function isAuditAction(value: string): value is AuditAction {
  return (AUDIT_ACTIONS as readonly string[]).includes(value);
}

export type AuditResult = 'success' | 'failure' | 'denied';

/** What callers of `AuditService.record` give; the time and id are assigned on insert. */
export interface AuditEventInput {
  action: AuditAction;
  result: AuditResult;
  /** Principal, client IP and request id come from here. */
  caller: Caller;
  repository?: string;
  /** A tag or digest. */
  reference?: string;
  detail?: Record<string, unknown>;
}

/** A stored audit event (one row of `audit_events`). */
export interface AuditEvent {
  /** A bigint, as a decimal string. */
  id: string;
  /** ISO 8601 in UTC with microseconds, e.g. `2024-11-25T10:00:00.123456Z`. */
  at: string;
  principal: string;
  principalId: string | null;
  clientIp: string;
  action: AuditAction;
  repository: string | null;
  reference: string | null;
  result: AuditResult;
  requestId: string | null;
  detail: Record<string, unknown> | null;
}

/** Which events a query, an export or a live stream covers. Every field narrows. */
export interface AuditFilter {
  /** Inclusive lower bound, ISO 8601 with a zone. */
  from?: string;
  /** Exclusive upper bound, ISO 8601 with a zone. */
  to?: string;
  principal?: string;
  action?: AuditAction;
  repository?: string;
}

export type AuditExportFormat = 'csv' | 'ndjson';

/** The filter of a live stream: no time range (a stream has no end, and starts now). */
export type AuditStreamFilter = Omit<AuditFilter, 'from' | 'to'>;

export function matchesStreamFilter(event: AuditEvent, filter: AuditStreamFilter): boolean {
  return (
    (filter.principal === undefined || event.principal === filter.principal) &&
    (filter.action === undefined || event.action === filter.action) &&
    (filter.repository === undefined || event.repository === filter.repository)
  );
}
