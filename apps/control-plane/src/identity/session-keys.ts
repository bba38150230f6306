import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const SESSION_KEYS = Symbol('SESSION_KEYS');

export interface SessionKeys {
  /** HMAC secret of session access tokens (HS256). */
  secret: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

/**
 * A secret from configuration, or one generated on first start and kept in `file` (mode
 * 0600), so tokens stay valid across restarts of a single-machine platform.
 */
export async function loadOrCreateSecret(
  configured: string | undefined,
  file: string,
  bytes: number,
): Promise<string> {
  if (configured !== undefined) return configured;
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(bytes).toString('base64');
    await mkdir(dirname(file), { recursive: true });
    // Two processes starting at once: the first file written wins, both read it back.
    await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    });
    return (await readFile(file, 'utf8')).trim();
  }
}
