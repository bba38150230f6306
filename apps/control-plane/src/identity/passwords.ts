import { hash, verify } from '@node-rs/argon2';

// argon2id (the library's default algorithm) with OWASP's second recommended setting.
const OPTIONS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** A hash of nothing, verified when the account does not exist so timing reveals nothing. */
let dummyHash: Promise<string> | undefined;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    dummyHash ??= hash('berth-no-such-account', OPTIONS);
    await verify(await dummyHash, password);
    return false;
  }
  return verify(stored, password);
}

/** Password rules shown to users (length only, as NIST SP 800-63B recommends). */
export function passwordProblem(password: string): string | null {
  if (password.length < 12) return 'must have at least 12 characters';
  if (password.length > 256) return 'must have at most 256 characters';
  return null;
}
