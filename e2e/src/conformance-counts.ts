/** The summary line `scripts/conformance.sh` prints, parsed (shared by both conformance specs). */
export interface ConformanceCounts {
  tests: number;
  passed: string;
  failures: number;
  errors: number;
  skipped: number;
  disabled: number;
}

export function parseConformanceCounts(stdout: string): ConformanceCounts | undefined {
  const m =
    /conformance: tests=(\d+) passed=(\S+) failures=(\d+) errors=(\d+) skipped=(\d+) disabled=(\d+)/.exec(
      stdout,
    );
  if (m === null) return undefined;
  return {
    tests: Number(m[1]),
    passed: m[2] ?? '',
    failures: Number(m[3]),
    errors: Number(m[4]),
    skipped: Number(m[5]),
    disabled: Number(m[6]),
  };
}
