// Secrets handed to people (API tokens, session cookies, login links): 32 random bytes, stored only
// as their sha256 so a database dump reveals nothing usable. sha256 (not a slow KDF) is right here:
// the secrets carry 256 bits of entropy, so there is nothing to brute-force, and every request
// verifies one.
import { createHash, randomBytes } from 'node:crypto';

/** API tokens start with this, so secret scanners and people can recognise them. */
export const TOKEN_PREFIX = 'thr_';

export function newSecret(prefix = ''): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Whether a string is shaped like one of our secrets at all; anything else is refused unhashed. */
export function plausibleSecret(value: string): boolean {
  return value.length >= 16 && value.length <= 256 && /^[A-Za-z0-9_-]+$/.test(value);
}

/** ADMIN_TOKEN's rule: long enough to be unguessable, and shaped like the tokens we hand out. */
export function checkAdminToken(value: string): string | null {
  return plausibleSecret(value) && value.length >= 32 ? null : 'at least 32 characters of A-Z, a-z, 0-9, "-" or "_" (e.g. `openssl rand -hex 32`)';
}
