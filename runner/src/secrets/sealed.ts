// AES-256-GCM sealing of provider keys. The API seals, the runner opens in memory; both share the
// key from SECRETS_KEY (32 bytes, base64 or hex). Ciphertext layout: base64(iv(12) | tag(16) | data).
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretsKeyError extends Error {
  override name = 'SecretsKeyError';
}

/** Reads a 32-byte key given as 64 hex characters or base64. */
export function parseSecretsKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) {
    throw new SecretsKeyError('SECRETS_KEY must be 32 bytes, as 64 hex characters or base64 (e.g. `openssl rand -base64 32`)');
  }
  return key;
}

export function seal(key: Buffer, plaintext: string, associatedData: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), data]).toString('base64');
}

/** Throws when the ciphertext was altered, sealed for other associated data, or with another key. */
export function open(key: Buffer, sealed: string, associatedData: string): string {
  const bytes = Buffer.from(sealed, 'base64');
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new SecretsKeyError('sealed secret is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(associatedData));
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretsKeyError('sealed secret cannot be opened: wrong SECRETS_KEY or altered ciphertext');
  }
}
