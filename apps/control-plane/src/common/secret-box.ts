import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption (AES-256-GCM) of tenant secrets at rest in the control plane's
 * database: database passwords, admin passwords, signing keys. The key never enters the
 * database (BERTH_SECRET_KEY, or a file under the data directory in the quick start).
 */
export class SecretBox {
  private static readonly VERSION = 1;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
  }

  seal(value: unknown): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([Buffer.of(SecretBox.VERSION), iv, cipher.getAuthTag(), body]);
  }

  open<T>(sealed: Buffer): T {
    if (sealed[0] !== SecretBox.VERSION) throw new Error('unknown secret format');
    const iv = sealed.subarray(1, 13);
    const tag = sealed.subarray(13, 29);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as T;
  }
}

/** Nest injection token of the platform's SecretBox. */
export const SECRET_BOX = Symbol('SECRET_BOX');
