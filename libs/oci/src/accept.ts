import { normalizeContentType } from './media-types';

/**
 * Media types listed in `Accept` header(s), in order of appearance: parameters dropped,
 * lower-cased, duplicates removed, and entries with `q=0` (explicitly not acceptable) left out.
 * Accepts one header value, several (as Node gives repeated headers), or none. Quality values
 * other than 0 do not reorder the list. Entries that are not `type/subtype` are ignored.
 */
export function parseAccept(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const result: string[] = [];
  for (const value of values) {
    for (const entry of value.split(',')) {
      const mediaType = normalizeContentType(entry);
      if (mediaType === undefined || !/^[^/\s]+\/[^/\s]+$/.test(mediaType)) continue;
      if (isRefused(entry)) continue;
      if (!result.includes(mediaType)) result.push(mediaType);
    }
  }
  return result;
}

/** Whether an Accept entry carries `q=0` (or `q=0.0`, `q=0.000`). */
function isRefused(entry: string): boolean {
  return entry
    .split(';')
    .slice(1)
    .some((param) => /^\s*q\s*=\s*0(?:\.0{0,3})?\s*$/i.test(param));
}

/**
 * Whether a manifest stored as `storedMediaType` may be served to a client whose parsed Accept
 * list is `accept` (see `parseAccept`). True when:
 * - the list is empty (no Accept header) or has a wildcard (`*` + `/*` or `application/*`);
 * - it lists the stored type;
 * - it lists `application/json` (generic JSON clients).
 *
 * The caller decides what to do otherwise. CNCF distribution serves a request by digest anyway
 * (the client asked for exact content) and answers a request by tag for an OCI manifest or
 * index the client does not accept with MANIFEST_UNKNOWN (404).
 */
export function manifestAcceptable(storedMediaType: string, accept: string[]): boolean {
  if (accept.length === 0) return true;
  const stored = storedMediaType.toLowerCase();
  return accept.some(
    (mt) => mt === '*/*' || mt === 'application/*' || mt === 'application/json' || mt === stored,
  );
}
