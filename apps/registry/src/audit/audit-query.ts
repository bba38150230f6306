import { BadRequestException } from '@nestjs/common';
import { decodeAuditCursor } from './audit-cursor';
import {
  AUDIT_ACTIONS,
  isAuditAction,
  type AuditExportFormat,
  type AuditFilter,
  type AuditStreamFilter,
} from './audit-event';
import { MAX_AUDIT_PAGE } from './audit.service';

/**
 * Validation of the admin API's query parameters. Every problem is a 400 naming the
 * parameter; unknown parameters are refused, so a misspelt filter never widens a result.
 */

export interface AuditListQuery {
  filter: AuditFilter;
  cursor?: string;
  limit: number;
}

export interface AuditExportQuery {
  filter: AuditFilter;
  format: AuditExportFormat;
}

type RawQuery = Record<string, unknown> | undefined;

const FILTER_PARAMS = ['from', 'to', 'principal', 'action', 'repository'] as const;
const STREAM_PARAMS = ['principal', 'action', 'repository'] as const;

export function parseListQuery(query: RawQuery): AuditListQuery {
  const params = readParams(query, [...FILTER_PARAMS, 'cursor', 'limit']);
  const result: AuditListQuery = { filter: parseFilter(params), limit: 100 };
  if (params.cursor !== undefined) {
    try {
      decodeAuditCursor(params.cursor);
    } catch {
      throw new BadRequestException('"cursor" is not a cursor this API returned');
    }
    result.cursor = params.cursor;
  }
  if (params.limit !== undefined) {
    if (!/^\d{1,4}$/.test(params.limit) || +params.limit < 1 || +params.limit > MAX_AUDIT_PAGE) {
      throw new BadRequestException(`"limit" must be an integer from 1 to ${MAX_AUDIT_PAGE}`);
    }
    result.limit = +params.limit;
  }
  return result;
}

export function parseExportQuery(query: RawQuery): AuditExportQuery {
  const params = readParams(query, [...FILTER_PARAMS, 'format']);
  const format = params.format;
  if (format !== 'csv' && format !== 'ndjson') {
    throw new BadRequestException('"format" must be csv or ndjson');
  }
  return { filter: parseFilter(params), format };
}

export function parseStreamQuery(query: RawQuery): AuditStreamFilter {
  return parseFilter(readParams(query, STREAM_PARAMS));
}

/** The SSE `Last-Event-ID` header: an event id, or absent. */
export function parseLastEventId(header: string | string[] | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  if (typeof header !== 'string' || !/^\d{1,19}$/.test(header)) {
    throw new BadRequestException('Last-Event-ID must be an audit event id');
  }
  return header.replace(/^0+(?=\d)/, '');
}

function readParams<K extends string>(
  query: RawQuery,
  allowed: readonly K[],
): Partial<Record<K, string>> {
  const params: Partial<Record<K, string>> = {};
  for (const [name, value] of Object.entries(query ?? {})) {
    if (!(allowed as readonly string[]).includes(name)) {
      throw new BadRequestException(
        `unknown query parameter "${name}" (expected one of: ${allowed.join(', ')})`,
      );
    }
    if (typeof value !== 'string') {
      throw new BadRequestException(`query parameter "${name}" must be given once`);
    }
    if (value === '') {
      throw new BadRequestException(`query parameter "${name}" must not be empty`);
    }
    params[name as K] = value;
  }
  return params;
}

function parseFilter(params: Partial<Record<string, string>>): AuditFilter {
  const filter: AuditFilter = {};
  if (params.from !== undefined) filter.from = parseInstant('from', params.from);
  if (params.to !== undefined) filter.to = parseInstant('to', params.to);
  if (filter.from && filter.to && Date.parse(filter.from) >= Date.parse(filter.to)) {
    throw new BadRequestException('"from" must be before "to"');
  }
  if (params.principal !== undefined) filter.principal = params.principal;
  if (params.repository !== undefined) filter.repository = params.repository;
  if (params.action !== undefined) {
    if (!isAuditAction(params.action)) {
      throw new BadRequestException(`"action" must be one of: ${AUDIT_ACTIONS.join(', ')}`);
    }
    filter.action = params.action;
  }
  return filter;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;

/**
 * An ISO 8601 instant: a UTC date (`2024-11-25`, midnight UTC) or a date-time with `Z` or an
 * offset. Returned in a form PostgreSQL parses exactly.
 */
function parseInstant(name: string, value: string): string {
  const m = INSTANT.exec(value);
  const invalid = (): BadRequestException =>
    new BadRequestException(
      `"${name}" must be an ISO 8601 date-time with a time zone (e.g. 2024-11-25T10:00:00Z) or a UTC date (2024-11-25)`,
    );
  if (!m) throw invalid();
  const [, year, month, day, hour = '0', minute = '0', second = '0', zone, zoneHour = '0'] = m;
  const zoneMinute = m[9] ?? '0';
  const daysInMonth = new Date(Date.UTC(+year, +month, 0)).getUTCDate();
  if (
    +month < 1 ||
    +month > 12 ||
    +day < 1 ||
    +day > daysInMonth ||
    +hour > 23 ||
    +minute > 59 ||
    +second > 59 ||
    +zoneHour > 15 ||
    +zoneMinute > 59
  ) {
    throw invalid();
  }
  return zone === undefined ? `${value}T00:00:00Z` : value;
}
