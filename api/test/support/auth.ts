// Tests talk to APIs that require sign-in. Each API a test starts registers its origin with a token
// here, and fetch calls to that origin carry `Authorization: Bearer <token>` unless they set their
// own Authorization header — so existing tests stay as they were, and auth tests opt out with
// `anonymousFetch` or an explicit header. WebSocket clients take `authParams(url)` as connectionParams.
import type { Role } from '../../src/auth/viewer.js';
import { newSecret, sha256Hex, TOKEN_PREFIX } from '../../src/auth/secrets.js';
import type { Db } from '../../src/db/client.js';

const tokens = new Map<string, string>();

/** fetch as it was, sending no credential unless told. */
export const anonymousFetch: typeof fetch = globalThis.fetch.bind(globalThis);

function originOf(input: string | URL | Request): string | null {
  try {
    return new URL(typeof input === 'string' || input instanceof URL ? input : input.url).origin;
  } catch {
    return null;
  }
}

const authedFetch: typeof fetch = (input, init) => {
  const origin = originOf(input as string | URL | Request);
  const token = origin ? tokens.get(origin) : undefined;
  if (!token) return anonymousFetch(input, init);
  const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
  if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
  return anonymousFetch(input, { ...init, headers });
};
if (globalThis.fetch !== authedFetch) globalThis.fetch = authedFetch;

/** Requests to this URL's origin (an API's /graphql or any download path) carry this token from now on. */
export function useToken(url: string, token: string): void {
  tokens.set(new URL(url).origin, token);
}

export function forgetToken(url: string): void {
  tokens.delete(new URL(url).origin);
}

/** The token registered for this URL's origin, if any. */
export function registeredToken(url: string): string | undefined {
  return tokens.get(new URL(url).origin);
}

export function tokenFor(url: string): string {
  const token = tokens.get(new URL(url).origin);
  if (!token) throw new Error(`no token registered for ${url}`);
  return token;
}

/** graphql-ws connectionParams that authenticate as the URL's registered token. */
export function authParams(url: string): { authorization: string } {
  return { authorization: `Bearer ${tokenFor(url.replace(/^ws/, 'http'))}` };
}

/** A user with this role and an API token of theirs, written straight to the database. */
export async function createUserWithToken(db: Db, role: Role, name: string, tokenOptions: { expiresAt?: Date } = {}) {
  const user = await db.user.upsert({ where: { name }, create: { name, role }, update: {} });
  const token = newSecret(TOKEN_PREFIX);
  const row = await db.apiToken.create({
    data: { userId: user.id, name: 'test', prefix: token.slice(0, 10), tokenHash: sha256Hex(token), expiresAt: tokenOptions.expiresAt ?? null },
  });
  return { userId: user.id, token, tokenId: row.id };
}

/** `Authorization` header for a token. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}
