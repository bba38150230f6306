/**
 * Repository glob patterns of the access matrix and public repositories.
 *
 * - `*` matches any characters within one path component (not `/`),
 * - `**` matches any characters across components (including `/`), and a trailing `/**`
 *   also matches the prefix itself (`base/**` matches `base`, `base/x` and `base/x/y`),
 * - `?` matches one character other than `/`,
 * - everything else matches itself.
 *
 * Specificity decides between several matching patterns: an exact name beats any glob; among
 * globs, more literal characters win, then fewer `**`, then fewer `*`, then the pattern text.
 */
export class RepositoryPattern {
  readonly literalChars: number;
  readonly doubleStars: number;
  readonly singleStars: number;
  readonly exact: boolean;
  private readonly regex: RegExp;

  constructor(readonly pattern: string) {
    if (!RepositoryPattern.isValid(pattern))
      throw new Error(`invalid repository pattern ${JSON.stringify(pattern)}`);
    let source = '';
    let literal = 0;
    let doubles = 0;
    let singles = 0;
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i];
      if (ch === '*' && pattern[i + 1] === '*') {
        doubles++;
        i++;
        if (source.endsWith('/') && i === pattern.length - 1) {
          source = `${source.slice(0, -1)}(?:/.*)?`;
        } else {
          source += '.*';
        }
      } else if (ch === '*') {
        singles++;
        source += '[^/]*';
      } else if (ch === '?') {
        singles++;
        source += '[^/]';
      } else {
        literal++;
        source += ch.replace(/[.+^${}()|[\]\\-]/g, '\\$&');
      }
    }
    this.regex = new RegExp(`^${source}$`);
    this.literalChars = literal;
    this.doubleStars = doubles;
    this.singleStars = singles;
    this.exact = doubles === 0 && singles === 0;
  }

  static isValid(pattern: string): boolean {
    return (
      pattern.length > 0 &&
      pattern.length <= 255 &&
      /^[a-z0-9._/*?-]+$/.test(pattern) &&
      !pattern.includes('***')
    );
  }

  matches(repository: string): boolean {
    return this.regex.test(repository);
  }

  /** Negative when `this` is more specific than `other`. */
  compareSpecificity(other: RepositoryPattern): number {
    if (this.exact !== other.exact) return this.exact ? -1 : 1;
    if (this.literalChars !== other.literalChars) return other.literalChars - this.literalChars;
    if (this.doubleStars !== other.doubleStars) return this.doubleStars - other.doubleStars;
    if (this.singleStars !== other.singleStars) return this.singleStars - other.singleStars;
    return this.pattern < other.pattern ? -1 : this.pattern > other.pattern ? 1 : 0;
  }
}

/** The most specific of `items` whose pattern matches `repository`, if any. */
export function mostSpecific<T extends { pattern: RepositoryPattern }>(
  items: readonly T[],
  repository: string,
): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    if (!item.pattern.matches(repository)) continue;
    if (!best || item.pattern.compareSpecificity(best.pattern) < 0) best = item;
  }
  return best;
}
