import { problems } from './problem';

/** A page of a list: every list of the REST API is paginated the same way. */
export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

export interface PageRequest {
  limit: number;
  /** The sort key of the last item of the previous page (decoded), or null. */
  after: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

/** Parses `limit` and `cursor` query parameters (the cursor is opaque to clients). */
export function pageRequest(query: { limit?: string; cursor?: string }): PageRequest {
  let limit = DEFAULT_PAGE_SIZE;
  if (query.limit !== undefined) {
    const raw = query.limit;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE_SIZE) {
      throw problems.validation([
        { name: 'limit', reason: `must be a whole number from 1 to ${MAX_PAGE_SIZE}` },
      ]);
    }
    limit = Number(raw);
  }
  let after: string | null = null;
  if (query.cursor !== undefined && query.cursor !== '') {
    const decoded = Buffer.from(query.cursor, 'base64url').toString('utf8');
    if (!decoded.startsWith('c:')) {
      throw problems.validation([{ name: 'cursor', reason: 'is not a cursor from this API' }]);
    }
    after = decoded.slice(2);
  }
  return { limit, after };
}

/**
 * Builds a page from up to `limit + 1` rows fetched after the cursor (the extra row tells
 * whether there is a next page).
 */
export function toPage<T>(rows: T[], request: PageRequest, keyOf: (row: T) => string): Page<T> {
  const items = rows.slice(0, request.limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > request.limit && last !== undefined
      ? Buffer.from(`c:${keyOf(last)}`, 'utf8').toString('base64url')
      : null;
  return { items, nextCursor };
}
