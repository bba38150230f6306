import { createServer } from 'node:net';

/** An inclusive range of TCP ports. */
export interface PortRange {
  start: number;
  end: number;
}

/** True when `port` can be bound on `host` right now (bound and released at once). */
export function isPortBindable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * The lowest port of `range` that no tenant holds (`used`: the ports the control plane stored
 * for its registries, suspended ones included) and that is bindable on `host` now. The caller
 * stores the port with the registry; two concurrent allocations may pick the same port, so the
 * store must keep ports unique.
 */
export async function allocatePort(
  used: ReadonlySet<number>,
  range: PortRange,
  host = '127.0.0.1',
): Promise<number> {
  const { start, end } = range;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 1 || end > 65535) {
    throw new Error(`port range ${start}-${end} is not within 1-65535`);
  }
  if (start > end) throw new Error(`port range ${start}-${end} is empty`);
  let busy = 0;
  for (let port = start; port <= end; port++) {
    if (used.has(port)) continue;
    if (await isPortBindable(port, host)) return port;
    busy++;
  }
  const held = end - start + 1 - busy;
  throw new Error(
    `no free port in ${start}-${end}: ${held} held by registries, ${busy} in use by other programs`,
  );
}
