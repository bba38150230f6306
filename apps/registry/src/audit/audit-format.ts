import type { AuditEvent } from './audit-event';

/**
 * An event as exported: `detail` stays the JSON text PostgreSQL returned (never parsed and
 * re-serialised), which keeps the per-row garbage of a large export small.
 */
export type ExportedEvent = Omit<AuditEvent, 'detail'> & { detailJson: string | null };

/** Column order of the CSV export (snake_case, as in the table). */
const CSV_COLUMNS: readonly [string, (e: ExportedEvent) => string | null][] = [
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
  ['detail', (e) => e.detailJson],
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

export function toCsvLine(event: ExportedEvent): string {
  return CSV_COLUMNS.map(([, get]) => csvField(get(event))).join(',') + CRLF;
}

/** The event's JSON (as the query API returns it) on one line: JSON text never holds a raw LF. */
export function toNdjsonLine(event: ExportedEvent): string {
  const { detailJson, ...fields } = event;
  return `${JSON.stringify(fields).slice(0, -1)},"detail":${detailJson ?? 'null'}}\n`;
}
