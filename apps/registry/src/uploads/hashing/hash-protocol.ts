/**
 * Messages between `HashPool` (event loop) and `hash-worker` (a worker thread). One port per
 * worker; messages are handled in order, so an `update` always lands before the `digest` or
 * `copy` posted after it.
 */
export type ToHashWorker =
  | { op: 'open'; id: number; algorithm: string }
  /** Hash `length` bytes of `buffer` (transferred), then transfer it back in `returned`. */
  | { op: 'update'; id: number; buffer: ArrayBuffer; length: number }
  /** Start hasher `id` as a copy of hasher `from`. */
  | { op: 'copy'; id: number; from: number }
  /** Answer the digest of everything hashed so far by `id`, without ending it. */
  | { op: 'digest'; id: number; request: number }
  | { op: 'close'; id: number };

export type FromHashWorker =
  | { op: 'returned'; id: number; buffer: ArrayBuffer }
  | { op: 'digest'; request: number; hex: string }
  | { op: 'failed'; request: number; message: string };
