import { setFlagsFromString } from 'node:v8';

/**
 * V8's old-generation growing factor for the data plane, in percent over the live heap.
 *
 * Why: every request leaves a few KiB of objects that outlive two scavenges (requests in
 * flight when the young generation fills) and die in the old generation. V8 lets the old
 * generation grow up to 4x the live heap before a full mark-compact when the heap limit is
 * large (any machine with 4 GiB+), so under 16 concurrent manifest pushes ~70 MiB of dead
 * objects piled up over a ~35 MiB live heap. A fixed factor bounds that.
 *
 * Why 2x and not less: V8 applies the same factor to its global limit, which also counts the
 * ArrayBuffers of request bodies. At 1.3x a full mark-compact ran every ~20 MiB uploaded (291
 * in 3 rounds of 1 GiB large plus 1,000 small pushes, against 46 at 2x), and pushes took
 * about twice the CPU: 4.2-4.9 s per GiB pushed against 2.2-2.5 s (docs/performance.md,
 * finding 8). The flag sets the factor only; there is no heap cap, so a large live heap fits.
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 100;

/**
 * Sets V8's growing factor to `percent` (`REGISTRY_HEAP_GROWING_PERCENT`; 0 keeps V8's own
 * heuristics) unless the process was started with `--heap-growing-percent` (command line or
 * NODE_OPTIONS), which then wins. V8 reads the flag whenever it recomputes the heap limits, so
 * setting it at start-up takes effect from the next garbage collection. Returns the percentage
 * set, if any.
 */
export function tuneHeap(
  percent: number,
  nodeOptions: string | undefined = process.env.NODE_OPTIONS,
  execArgv: readonly string[] = process.execArgv,
  setFlags: (flags: string) => void = setFlagsFromString,
): number | undefined {
  const given = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((arg) =>
    /^--heap[-_]growing[-_]percent(=|$)/.test(arg),
  );
  if (given || percent === 0) return undefined;
  setFlags(`--heap-growing-percent=${percent}`);
  return percent;
}
