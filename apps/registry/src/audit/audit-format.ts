import type { AuditEvent } from './audit-event';

/** Column order of the CSV export (snake_case, as in the table). */
const CSV_COLUMNS: readonly [string, (e: AuditEvent) => string | null][] = [
  ['id', (e) => e.id],
  ['at', (e) => e.at],
  ['principal', (e) => e.principal],
  ['principal_id', (e) => e.principalId],
  ['client_ip', (e) => e.clientIp],
  ['action', (e) => e.action],
  ['repository', (e) => e.repository],
  ['reference', (e) => e.reference],
  ['result', (e) => e.result],
  ['request_id', (e) => e.requestId],
  ['detail', (e) => (e.detail === null ? null : JSON.stringify(e.detail))],
];

/** RFC 4180 line ending. */
const CRLF = '\r\n';

export const CSV_HEADER = CSV_COLUMNS.map(([name]) => name).join(',') + CRLF;

/**
 * RFC 4180: a field containing a comma, a double quote, CR or LF is enclosed in double quotes
 * and its double quotes are doubled. NULL is an empty field. Values are exported as stored
 * (no spreadsheet-formula neutralising), so the export stays a faithful copy of the log.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function toCsvLine(event: AuditEvent): string {
  return CSV_COLUMNS.map(([, get]) => csvField(get(event))).join(',') + CRLF;
}

export function toNdjsonLine(event: AuditEvent): string {
  // JSON.stringify escapes U+2028/U+2029 and control characters: one event per line.
  return JSON.stringify(event) + '\n';
}
