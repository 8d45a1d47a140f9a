// Passwords: argon2id (memory-hard) through @node-rs/argon2's prebuilt binaries, PHC strings in
// User.passwordHash so parameters can be raised later without breaking old hashes.
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { InvalidInputError } from '../schema/errors.js';

/** OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. */
const OPTIONS = { algorithm: 2 as Algorithm /* Argon2id; a const enum, not importable as a value */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const MIN_PASSWORD = 10;
export const MAX_PASSWORD = 256;

export function checkPassword(password: string, field: string): void {
  if (password.length < MIN_PASSWORD) throw new InvalidInputError(`the password must be at least ${MIN_PASSWORD} characters`, field);
  if (password.length > MAX_PASSWORD) throw new InvalidInputError(`the password must be at most ${MAX_PASSWORD} characters`, field);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** A hash computed once, verified against when the user does not exist, so timing does not tell names apart. */
let decoy: Promise<string> | undefined;

export async function verifyPassword(phc: string | null, password: string): Promise<boolean> {
  if (password.length === 0 || password.length > MAX_PASSWORD) return false;
  if (!phc) {
    await verify(await (decoy ??= hashPassword('decoy password, never matches')), password).catch(() => false);
    return false;
  }
  return verify(phc, password).catch(() => false);
}
