import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FromHashWorker, ToHashWorker } from './hash-protocol';

/**
 * An incremental digest whose work may run on another thread. `update` copies or hashes the
 * bytes before it returns, so the caller may reuse the chunk at once; when it returns a promise,
 * the caller must wait for it before the next `update` (the hasher has as many bytes in flight
 * as it may hold).
 */
export interface Hasher {
  readonly algorithm: string;
  update(chunk: Uint8Array): Promise<void> | undefined;
  /** Hex digest of everything so far; the hasher can go on. */
  digest(): Promise<string>;
  /** An independent hasher that starts from this one's state. */
  copy(): Hasher;
  /** Frees the state; idempotent. */
  dispose(): void;
}

/** Hashes on the calling thread. */
export class LocalHasher implements Hasher {
  private readonly hash: Hash;

  constructor(
    readonly algorithm: string,
    hash?: Hash,
  ) {
    this.hash = hash ?? createHash(algorithm);
  }

  update(chunk: Uint8Array): undefined {
    this.hash.update(chunk);
    return undefined;
  }

  digest(): Promise<string> {
    return Promise.resolve(this.hash.copy().digest('hex'));
  }

  copy(): Hasher {
    return new LocalHasher(this.algorithm, this.hash.copy());
  }

  dispose(): void {}
}

export interface HashPoolOptions {
  /** Worker threads that hash; 0 hashes on the event loop. */
  workers: number;
  /**
   * Bodies announced smaller than this are hashed on the event loop (default 4 MiB): for a
   * 1 MiB blob the copy, the messages and the second thread's wake-ups cost about what the
   * hash does (1,000 x 1 MiB pushes: 12.7-14.3 s of CPU with the worker, 10.8-14.1 s without).
   */
  inlineBelowBytes?: number;
  /** A worker with no hasher for this long ends (it holds ~15-20 MiB); default 30 s. */
  idleStopMs?: number;
}

/** The digests the registry accepts; any other name is checked by node:crypto in `create`. */
const SUPPORTED_ALGORITHMS = new Set(['sha256', 'sha512']);
/** Bytes sent to a worker per message. */
const BATCH_BYTES = 512 * 1024;
/** Batches of one hasher on their way to or in its worker; bounds an upload's memory. */
const MAX_IN_FLIGHT = 3;
/** Returned batch buffers kept for reuse across all hashers. */
const MAX_FREE_BUFFERS = 4;

/**
 * Moves SHA-256 (or SHA-512) of blob uploads off the event loop. Receiving a request body,
 * writing it and hashing it all on the event loop caps one process at about half the core's
 * hash rate; with the hashing on a worker thread the event loop only copies each chunk once
 * (memcpy, ~20x cheaper than SHA-256) into a batch buffer that is transferred, not cloned, to
 * the worker and back.
 *
 * A hasher's state lives in one worker for its whole life (`copy` stays there too). If a worker
 * dies, its hashers fail (their digests reject; the upload service then re-hashes from storage)
 * and the next hasher starts a new worker. Hashers that are dropped without `dispose` are
 * closed in the worker when they are garbage collected.
 */
export class HashPool {
  private readonly threads: HashThread[] = [];
  private readonly freeBuffers: ArrayBuffer[] = [];
  private readonly inlineBelow: number;
  private next = 0;
  private closed = false;

  constructor(options: HashPoolOptions, workerFile = join(__dirname, 'hash-worker.js')) {
    this.inlineBelow = options.inlineBelowBytes ?? 4 * 1024 * 1024;
    const idleStopMs = options.idleStopMs ?? 30_000;
    for (let i = 0; i < options.workers; i++) {
      this.threads.push(new HashThread(this, workerFile, idleStopMs));
    }
  }

  /** Worker threads running now (they start with the first hasher, stop when idle). */
  get runningWorkers(): number {
    return this.threads.filter((thread) => thread.running).length;
  }

  /** A hasher for a body of `expectedBytes` (when known). */
  create(algorithm: string, expectedBytes?: number): Hasher {
    if (
      this.closed ||
      this.threads.length === 0 ||
      (expectedBytes !== undefined && expectedBytes < this.inlineBelow)
    ) {
      return new LocalHasher(algorithm);
    }
    // An unknown algorithm must fail here, on the caller's thread, not in the worker.
    if (!SUPPORTED_ALGORITHMS.has(algorithm)) createHash(algorithm);
    const thread = this.threads[this.next++ % this.threads.length];
    return thread.open(algorithm);
  }

  /** Nest calls this on shutdown: the workers end; later hashers hash on the event loop. */
  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((thread) => thread.stop()));
    this.freeBuffers.length = 0;
  }

  /** @internal */
  takeBuffer(): ArrayBuffer {
    return this.freeBuffers.pop() ?? new ArrayBuffer(BATCH_BYTES);
  }

  /** @internal */
  giveBuffer(buffer: ArrayBuffer): void {
    if (this.freeBuffers.length < MAX_FREE_BUFFERS && buffer.byteLength === BATCH_BYTES) {
      this.freeBuffers.push(buffer);
    }
  }
}

/** Per hasher: its batches in flight and whoever waits for one to come back. */
interface Channel {
  inFlight: number;
  waiters: { resolve: () => void; reject: (error: Error) => void }[];
}

interface Started {
  worker: Worker;
  channels: Map<number, Channel>;
  requests: Map<number, { resolve: (hex: string) => void; reject: (error: Error) => void }>;
  /** Set when the worker stopped; every later use of its hashers fails with it. */
  failure?: Error;
}

class HashThread {
  private current: Started | undefined;
  private nextId = 1;
  private nextRequest = 1;
  private readonly finalizer = new FinalizationRegistry<{ started: Started; id: number }>(
    ({ started, id }) => this.release(started, id),
  );
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly pool: HashPool,
    private readonly workerFile: string,
    private readonly idleStopMs: number,
  ) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  open(algorithm: string): Hasher {
    clearTimeout(this.idleTimer);
    return this.add(this.start(), algorithm, (id) => ({ op: 'open', id, algorithm }));
  }

  copyOf(source: WorkerHasher, started: Started): Hasher {
    return this.add(started, source.algorithm, (id) => ({ op: 'copy', id, from: source.id }));
  }

  send(started: Started, id: number, buffer: ArrayBuffer, length: number): void {
    if (started.failure) throw started.failure;
    const channel = started.channels.get(id);
    if (!channel) throw new Error(`hasher ${id} is closed`);
    this.post(started, { op: 'update', id, buffer, length }, [buffer]);
    channel.inFlight++;
  }

  /** Resolves when `id` may send another batch. */
  room(started: Started, id: number): Promise<void> | undefined {
    if (started.failure) return Promise.reject(started.failure);
    const channel = started.channels.get(id);
    if (!channel) return Promise.reject(new Error(`hasher ${id} is closed`));
    if (channel.inFlight < MAX_IN_FLIGHT) return undefined;
    return new Promise((resolve, reject) => channel.waiters.push({ resolve, reject }));
  }

  digest(started: Started, id: number): Promise<string> {
    if (started.failure) return Promise.reject(started.failure);
    const request = this.nextRequest++;
    return new Promise((resolve, reject) => {
      started.requests.set(request, { resolve, reject });
      this.post(started, { op: 'digest', id, request });
    });
  }

  close(started: Started, hasher: WorkerHasher): void {
    this.finalizer.unregister(hasher);
    this.release(started, hasher.id);
  }

  /** Ends hasher `id` in its worker (closed, or dropped unclosed); once. */
  private release(started: Started, id: number): void {
    if (started.failure || !started.channels.delete(id)) return;
    this.post(started, { op: 'close', id });
    this.stopWhenIdle(started);
  }

  private stopWhenIdle(started: Started): void {
    if (started.channels.size > 0 || started !== this.current) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (started.channels.size > 0 || started !== this.current) return;
      this.current = undefined;
      this.fail(started, new Error('the hash worker stopped when idle'));
      void started.worker.terminate();
    }, this.idleStopMs);
    this.idleTimer.unref();
  }

  async stop(): Promise<void> {
    clearTimeout(this.idleTimer);
    const started = this.current;
    this.current = undefined;
    if (!started) return;
    this.fail(started, new Error('the hash worker was stopped'));
    await started.worker.terminate();
  }

  /** A new hasher in `started`, created in the worker by `message`, closed there when dropped. */
  private add(
    started: Started,
    algorithm: string,
    message: (id: number) => ToHashWorker,
  ): WorkerHasher {
    const id = this.nextId++;
    started.channels.set(id, { inFlight: 0, waiters: [] });
    this.post(started, message(id));
    const hasher = new WorkerHasher(algorithm, this, started, id);
    this.finalizer.register(hasher, { started, id }, hasher);
    return hasher;
  }

  private post(started: Started, message: ToHashWorker, transfer?: ArrayBuffer[]): void {
    if (started.failure) throw started.failure;
    started.worker.postMessage(message, transfer);
  }

  private start(): Started {
    if (this.current && !this.current.failure) return this.current;
    const worker = new Worker(this.workerFile);
    // Idle hashing must not keep the process alive; `stop` ends it on shutdown.
    worker.unref();
    const started: Started = { worker, channels: new Map(), requests: new Map() };
    worker.on('message', (message: FromHashWorker) => this.receive(started, message));
    worker.on('error', (error) => this.fail(started, error));
    worker.on('exit', (code) => this.fail(started, new Error(`the hash worker exited (${code})`)));
    this.current = started;
    return started;
  }

  private receive(started: Started, message: FromHashWorker): void {
    if (message.op === 'returned') {
      this.pool.giveBuffer(message.buffer);
      const channel = started.channels.get(message.id);
      if (!channel) return;
      channel.inFlight--;
      channel.waiters.shift()?.resolve();
      return;
    }
    const request = started.requests.get(message.request);
    if (!request) return;
    started.requests.delete(message.request);
    if (message.op === 'digest') request.resolve(message.hex);
    else request.reject(new Error(message.message));
  }

  private fail(started: Started, error: Error): void {
    if (started.failure) return;
    started.failure = error;
    for (const request of started.requests.values()) request.reject(error);
    started.requests.clear();
    for (const channel of started.channels.values()) {
      for (const waiter of channel.waiters) waiter.reject(error);
    }
    started.channels.clear();
    if (this.current === started) this.current = undefined;
  }
}

class WorkerHasher implements Hasher {
  private batch: ArrayBuffer | undefined;
  private filled = 0;
  private disposed = false;

  constructor(
    readonly algorithm: string,
    private readonly thread: HashThread,
    readonly started: Started,
    readonly id: number,
  ) {}

  update(chunk: Uint8Array): Promise<void> | undefined {
    let offset = 0;
    while (offset < chunk.byteLength) {
      if (this.batch === undefined) {
        const wait = this.thread.room(this.started, this.id);
        if (wait) {
          const rest = chunk.subarray(offset);
          return wait.then(() => this.update(rest));
        }
        this.batch = this.thread.pool.takeBuffer();
        this.filled = 0;
      }
      const length = Math.min(chunk.byteLength - offset, this.batch.byteLength - this.filled);
      new Uint8Array(this.batch, this.filled, length).set(chunk.subarray(offset, offset + length));
      this.filled += length;
      offset += length;
      if (this.filled === this.batch.byteLength) this.flush();
    }
    return undefined;
  }

  async digest(): Promise<string> {
    this.flush();
    return this.thread.digest(this.started, this.id);
  }

  copy(): Hasher {
    this.flush();
    return this.thread.copyOf(this, this.started);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.batch) this.thread.pool.giveBuffer(this.batch);
    this.batch = undefined;
    this.thread.close(this.started, this);
  }

  private flush(): void {
    if (this.disposed) throw new Error(`hasher ${this.id} is disposed`);
    if (this.batch === undefined || this.filled === 0) return;
    const batch = this.batch;
    this.batch = undefined;
    this.thread.send(this.started, this.id, batch, this.filled);
  }
}
