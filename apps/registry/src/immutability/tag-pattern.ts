/**
 * Tag globs of immutability rules: `*` matches any run of characters, `?` one character,
 * everything else itself (tags contain no `/`). `v*` matches `v1`, `v1.2.3`, `vnext`.
 */
export class TagPattern {
  private readonly regex: RegExp;

  constructor(readonly pattern: string) {
    if (!TagPattern.isValid(pattern))
      throw new Error(`invalid tag pattern ${JSON.stringify(pattern)}`);
    const source = [...pattern]
      .map((ch) =>
        ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\-]/g, '\\$&'),
      )
      .join('');
    this.regex = new RegExp(`^${source}$`);
  }

  static isValid(pattern: string): boolean {
    return /^[A-Za-z0-9_.*?-]{1,128}$/.test(pattern);
  }

  matches(tag: string): boolean {
    return this.regex.test(tag);
  }
}
