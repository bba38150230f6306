import { badRequest } from '../admin/admin-errors';

export const HOUR_MS = 3_600_000;

/** Start of the UTC hour containing `ms`. */
export function hourOf(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/i;
const EXAMPLE = '2026-11-23T09:00:00Z';

/**
 * The `since` parameter of the egress report: an ISO 8601 timestamp with a zone that is the
 * start of an hour (in UTC). Throws a 400 saying what is wrong.
 */
export function parseEgressSince(value: unknown): Date {
  if (value === undefined || value === '') {
    throw badRequest(`since is required: the start of a UTC hour in ISO 8601, e.g. ${EXAMPLE}`);
  }
  if (typeof value !== 'string') throw badRequest('since must be given once');
  const match = ISO_TIMESTAMP.exec(value);
  if (!match) {
    throw badRequest(
      `since=${JSON.stringify(value.slice(0, 64))} is not an ISO 8601 timestamp with a zone, e.g. ${EXAMPLE}`,
    );
  }
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map((p) => Number(p ?? 0));
  const calendar = new Date(Date.UTC(year, month - 1, day));
  const ms = Date.parse(value);
  if (
    calendar.getUTCFullYear() !== year ||
    calendar.getUTCMonth() !== month - 1 ||
    calendar.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59 ||
    Number.isNaN(ms)
  ) {
    throw badRequest(`since=${JSON.stringify(value)} is not a valid date and time`);
  }
  if (ms % HOUR_MS !== 0) {
    throw badRequest(
      `since=${JSON.stringify(value)} is not the start of a UTC hour (reports are per hour), e.g. ${EXAMPLE}`,
    );
  }
  return new Date(ms);
}
