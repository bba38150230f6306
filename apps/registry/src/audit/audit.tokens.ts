/** DI token: days after which audit events are pruned (a number; 0 keeps them forever). */
export const AUDIT_RETENTION_DAYS = Symbol('AUDIT_RETENTION_DAYS');

export const DEFAULT_AUDIT_RETENTION_DAYS = 90;
