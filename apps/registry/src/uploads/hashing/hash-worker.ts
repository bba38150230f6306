import { createHash, type Hash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { FromHashWorker, ToHashWorker } from './hash-protocol';

/**
 * Worker thread of `HashPool`: keeps the hash state of uploads and hashes the bytes the event
 * loop copies to it, so that SHA-256 runs on another core than the one that receives requests.
 * Deliberately tiny (no framework, no logging): it costs one isolate (~10 MiB).
 */
const port = parentPort;
if (!port) throw new Error('hash-worker must run as a worker thread');

const hashes = new Map<number, Hash>();

function send(message: FromHashWorker, transfer?: ArrayBuffer[]): void {
  port!.postMessage(message, transfer);
}

port.on('message', (message: ToHashWorker) => {
  switch (message.op) {
    case 'open':
      hashes.set(message.id, createHash(message.algorithm));
      break;
    case 'update':
      hashes.get(message.id)?.update(new Uint8Array(message.buffer, 0, message.length));
      send({ op: 'returned', id: message.id, buffer: message.buffer }, [message.buffer]);
      break;
    case 'copy': {
      const from = hashes.get(message.from);
      if (from) hashes.set(message.id, from.copy());
      break;
    }
    case 'digest': {
      const hash = hashes.get(message.id);
      if (hash) send({ op: 'digest', request: message.request, hex: hash.copy().digest('hex') });
      else send({ op: 'failed', request: message.request, message: `no hasher ${message.id}` });
      break;
    }
    case 'close':
      hashes.delete(message.id);
      break;
  }
});
