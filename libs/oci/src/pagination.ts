import { OciError, OciErrorCode } from './errors';
import { quote } from './internal/quote';

export interface PageParams {
  /** Requested page size, already capped at the server maximum; 0 asks for an empty page. */
  n?: number;
  /** Return entries strictly after this one (a tag or repository name). */
  last?: string;
}

/**
 * Validate the `n` and `last` query parameters of tag and catalog listings.
 *
 * - `n` absent or empty: no limit requested (the caller applies its default).
 * - `n` must be a non-negative decimal integer, else OciError(PAGINATION_NUMBER_INVALID, 400).
 * - `n` above `maxN` is capped to `maxN` rather than refused: the distribution spec lets a
 *   registry return fewer results than asked, and the `Link` header lets the client go on.
 * - `last` absent or empty: start at the beginning.
 */
export function parsePageParams(
  n: string | undefined,
  last: string | undefined,
  maxN: number,
): PageParams {
  if (!Number.isSafeInteger(maxN) || maxN < 1) {
    throw new RangeError(`parsePageParams: maxN must be a positive integer, got ${maxN}`);
  }
  const params: PageParams = {};
  if (n !== undefined && n !== '') {
    if (!/^[0-9]+$/.test(n)) {
      throw new OciError(
        OciErrorCode.PAGINATION_NUMBER_INVALID,
        `invalid n ${quote(n)}: must be a non-negative integer`,
        { detail: { n: n.slice(0, 100) } },
      );
    }
    params.n = Math.min(Number(n), maxN);
  }
  if (last !== undefined && last !== '') params.last = last;
  return params;
}
