/**
 * Settings every runtime starts a data plane process with. Both only take effect at process
 * start: V8 sizes its young generation when the isolate is created, glibc reads its tunables
 * when it loads. Measured with `npm run bench` (docs/performance.md, finding 8):
 *
 * - `--max-semi-space-size=4`: a young generation of 2 x 4 MiB instead of up to 2 x 16 MiB.
 *   Request objects die young either way; the idle process is ~20 MiB smaller and throughput
 *   was unchanged or better.
 * - `glibc.malloc.mmap_threshold=131072`: Buffers of 128 KiB and more (the pooled download
 *   buffers and hash batches) are mapped and unmapped on their own. With glibc's adaptive
 *   threshold they came from malloc's heap after the first free, and its holes kept ~35 MiB
 *   resident at the peak.
 *
 * An operator's own NODE_OPTIONS or GLIBC_TUNABLES are kept: `dataPlaneProcessEnv` appends.
 */
export const DATA_PLANE_PROCESS_SETTINGS = {
  NODE_OPTIONS: '--max-semi-space-size=4',
  GLIBC_TUNABLES: 'glibc.malloc.mmap_threshold=131072',
} as const;

/** `DATA_PLANE_PROCESS_SETTINGS` merged into what `base` already has (its own options win). */
export function dataPlaneProcessEnv(base: Readonly<Record<string, string | undefined>> = {}): {
  NODE_OPTIONS: string;
  GLIBC_TUNABLES: string;
} {
  return {
    NODE_OPTIONS: extend(
      base.NODE_OPTIONS,
      DATA_PLANE_PROCESS_SETTINGS.NODE_OPTIONS,
      /--max[-_]semi[-_]space[-_]size/,
      ' ',
    ),
    GLIBC_TUNABLES: extend(
      base.GLIBC_TUNABLES,
      DATA_PLANE_PROCESS_SETTINGS.GLIBC_TUNABLES,
      /glibc\.malloc\.mmap_threshold/,
      ':',
    ),
  };
}

/** `own` with `setting` appended after `separator`, unless `own` already sets it (`ownsIt`). */
function extend(
  own: string | undefined,
  setting: string,
  ownsIt: RegExp,
  separator: string,
): string {
  const trimmed = own?.trim() ?? '';
  return ownsIt.test(trimmed) ? trimmed : [trimmed, setting].filter(Boolean).join(separator);
}
