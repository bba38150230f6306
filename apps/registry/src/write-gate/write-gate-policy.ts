import {
  MAINTENANCE_MESSAGE_MAX_LENGTH,
  type MaintenanceSettings,
  type QuotaSettings,
  type StorageUsageReport,
  type WriteGateSettings,
} from '@berth/platform-contracts';
import { badRequest } from '../admin/admin-errors';

/**
 * The write gate's rules as pure functions: validating settings, the quota's hysteresis and
 * the reason clients are shown.
 */

/** `Retry-After` of a push refused by the quota: usage falls only after deletes and a GC. */
export const QUOTA_RETRY_AFTER_SECONDS = 600;
/** `Retry-After` of a push refused during maintenance. */
export const MAINTENANCE_RETRY_AFTER_SECONDS = 60;

/**
 * Whether pushes are blocked by the quota after usage became `totalBytes`, given whether they
 * were blocked before. Blocks at `blockAtBytes` or more; once blocked, stays blocked until usage
 * is `resumeAtBytes` or less. Without a quota nothing blocks.
 */
export function nextBlocked(
  blocked: boolean,
  totalBytes: number,
  quota: QuotaSettings | null,
): boolean {
  if (!quota) return false;
  if (totalBytes >= quota.blockAtBytes) return true;
  if (totalBytes <= quota.resumeAtBytes) return false;
  return blocked;
}

/** What a client sees when the quota refuses a push (it travels in a header: ASCII only). */
export function quotaReason(quota: QuotaSettings, usage: StorageUsageReport): string {
  const percent =
    quota.limitBytes === 0 ? 100 : Math.floor((usage.totalBytes / quota.limitBytes) * 100);
  return (
    `storage quota reached: ${formatBytes(usage.totalBytes)} of ${formatBytes(quota.limitBytes)} ` +
    `used (${percent}%); pushes resume at ${formatBytes(quota.resumeAtBytes)} or less: ` +
    `delete images and run garbage collection, or upgrade the tier`
  );
}

/** Decimal units, as tiers are sold: `9.1 GB`, `10 GB`, `512 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  const shown =
    value >= 100 ? Math.round(value).toString() : (Math.round(value * 10) / 10).toString();
  return `${shown} ${units[unit]}`;
}

/**
 * The body of `PUT /admin/v1/write-gate`: `{ "quota": {...} | null, "maintenance": {...} | null }`,
 * both present (null clears). Throws a 400 naming the first problem.
 */
export function parseWriteGateSettings(body: unknown): WriteGateSettings {
  const o = object(body, 'body');
  onlyKeys(o, ['quota', 'maintenance'], 'body');
  if (!('quota' in o)) throw badRequest('quota is required (null removes the quota)');
  if (!('maintenance' in o)) {
    throw badRequest('maintenance is required (null switches maintenance off)');
  }
  return {
    quota: o.quota === null ? null : parseQuota(o.quota),
    maintenance: o.maintenance === null ? null : parseMaintenance(o.maintenance),
  };
}

function parseQuota(value: unknown): QuotaSettings {
  const o = object(value, 'quota');
  onlyKeys(o, ['limitBytes', 'blockAtBytes', 'resumeAtBytes'], 'quota');
  const quota: QuotaSettings = {
    limitBytes: byteCount(o.limitBytes, 'quota.limitBytes'),
    blockAtBytes: byteCount(o.blockAtBytes, 'quota.blockAtBytes'),
    resumeAtBytes: byteCount(o.resumeAtBytes, 'quota.resumeAtBytes'),
  };
  if (quota.blockAtBytes > quota.limitBytes) {
    throw badRequest('quota.blockAtBytes must not exceed quota.limitBytes');
  }
  if (quota.resumeAtBytes > quota.blockAtBytes) {
    throw badRequest('quota.resumeAtBytes must not exceed quota.blockAtBytes');
  }
  return quota;
}

function parseMaintenance(value: unknown): MaintenanceSettings {
  const o = object(value, 'maintenance');
  onlyKeys(o, ['message'], 'maintenance');
  const { message } = o;
  if (typeof message !== 'string') throw badRequest('maintenance.message must be a string');
  if (message.length < 1 || message.length > MAINTENANCE_MESSAGE_MAX_LENGTH) {
    throw badRequest(
      `maintenance.message must have 1 to ${MAINTENANCE_MESSAGE_MAX_LENGTH} characters`,
    );
  }
  // Printable ASCII: the message is also sent as an HTTP header.
  if (!/^[\x20-\x7e]+$/.test(message) || message.trim() === '') {
    throw badRequest(
      'maintenance.message must be printable ASCII text (letters, digits, punctuation, spaces)',
    );
  }
  return { message };
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest(`${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function onlyKeys(o: Record<string, unknown>, allowed: string[], what: string): void {
  const unknown = Object.keys(o).find((k) => !allowed.includes(k));
  if (unknown !== undefined) {
    throw badRequest(`unknown field "${unknown}" in ${what} (allowed: ${allowed.join(', ')})`);
  }
}

function byteCount(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw badRequest(`${what} must be a whole number of bytes, 0 or more`);
  }
  return value;
}
