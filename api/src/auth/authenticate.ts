// Who is asking, from what a request carries: `Authorization: Bearer <token>` (scripts, notebooks,
// graphql-ws `connection_init`) or the `thr_session` cookie (the web app). Every transport — GraphQL
// over HTTP, WebSocket, downloads — goes through authenticate(), so the rules are the same everywhere.
import type { Db } from '../db/client.js';
import { plausibleSecret, sha256Hex } from './secrets.js';
import type { Role, Viewer } from './viewer.js';

export const SESSION_COOKIE = 'thr_session';
/** A session not used for this long ends (sliding expiry)... */
export const SESSION_IDLE_MS = 14 * 24 * 3600_000;
/** ...and none lives longer than this, however active, so a stolen cookie does not last for ever. */
export const SESSION_MAX_MS = 90 * 24 * 3600_000;
/** lastUsedAt (and a session's sliding expiry) is written at most this often per credential. */
export const TOUCH_EVERY_MS = 60_000;

export interface Credentials {
  authorization?: string | null;
  cookie?: string | null;
}

export type AuthResult =
  | { viewer: Viewer; problem: null }
  /** problem: why the credential sent was refused; null when none was sent at all. */
  | { viewer: null; problem: string | null };

interface Owner {
  id: string;
  name: string;
  role: Role;
  disabledAt: Date | null;
}

const OWNER = { select: { id: true, name: true, role: true, disabledAt: true } } as const;

export function readCookie(header: string | null | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The credential a request carries; the Authorization header wins over the cookie. */
export async function authenticate(db: Db, credentials: Credentials, now = new Date()): Promise<AuthResult> {
  const authorization = credentials.authorization?.trim();
  if (authorization) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) return refused('the Authorization header must be `Bearer <token>`');
    return verifyToken(db, match[1]!, now);
  }
  const session = readCookie(credentials.cookie, SESSION_COOKIE);
  if (session) return verifySession(db, session, now);
  return { viewer: null, problem: null };
}

function refused(problem: string): AuthResult {
  return { viewer: null, problem };
}

function ownerProblem(owner: Owner): string | null {
  return owner.disabledAt ? `the account ${owner.name} is disabled` : null;
}

function toViewer(owner: Owner, via: Viewer['via'], credentialId: string): Viewer {
  return { userId: owner.id, name: owner.name, role: owner.role, via, credentialId };
}

function stale(lastUsedAt: Date | null, now: Date): boolean {
  return !lastUsedAt || now.getTime() - lastUsedAt.getTime() >= TOUCH_EVERY_MS;
}

export async function verifyToken(db: Db, token: string, now = new Date()): Promise<AuthResult> {
  if (!plausibleSecret(token)) return refused('the API token is not valid');
  const row = await db.apiToken.findUnique({ where: { tokenHash: sha256Hex(token) }, include: { user: OWNER } });
  if (!row) return refused('the API token is not valid');
  if (row.revokedAt) return refused(`the API token "${row.name}" was revoked`);
  if (row.expiresAt && row.expiresAt <= now) return refused(`the API token "${row.name}" expired at ${row.expiresAt.toISOString()}`);
  const problem = ownerProblem(row.user);
  if (problem) return refused(problem);
  if (stale(row.lastUsedAt, now)) {
    // Conditional, so concurrent requests write once per minute, not once each.
    await db.apiToken.updateMany({
      where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - TOUCH_EVERY_MS) } }] },
      data: { lastUsedAt: now },
    });
  }
  return { viewer: toViewer(row.user, 'token', row.id), problem: null };
}

export async function verifySession(db: Db, secret: string, now = new Date()): Promise<AuthResult> {
  if (!plausibleSecret(secret)) return refused('the session cookie is not valid');
  const row = await db.session.findUnique({ where: { tokenHash: sha256Hex(secret) }, include: { user: OWNER } });
  if (!row || row.revokedAt) return refused('the session has ended');
  if (row.expiresAt <= now) return refused('the session expired');
  const problem = ownerProblem(row.user);
  if (problem) return refused(problem);
  if (stale(row.lastUsedAt, now)) {
    await db.session.updateMany({
      where: { id: row.id, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - TOUCH_EVERY_MS) } }] },
      data: { lastUsedAt: now, expiresAt: slidingExpiry(row.createdAt, now) },
    });
  }
  return { viewer: toViewer(row.user, 'session', row.id), problem: null };
}

export function slidingExpiry(createdAt: Date, now: Date): Date {
  return new Date(Math.min(createdAt.getTime() + SESSION_MAX_MS, now.getTime() + SESSION_IDLE_MS));
}

/** Whether the credential behind a viewer is still good, and the viewer as it is now (role changes apply). */
export async function recheck(db: Db, viewer: Viewer, now = new Date()): Promise<AuthResult> {
  const row =
    viewer.via === 'token'
      ? await db.apiToken.findUnique({ where: { id: viewer.credentialId }, include: { user: OWNER } })
      : await db.session.findUnique({ where: { id: viewer.credentialId }, include: { user: OWNER } });
  if (!row) return refused('the credential no longer exists');
  if (row.revokedAt) return refused(viewer.via === 'token' ? 'the API token was revoked' : 'the session has ended');
  if (row.expiresAt && row.expiresAt <= now) return refused(viewer.via === 'token' ? 'the API token expired' : 'the session expired');
  const problem = ownerProblem(row.user);
  if (problem) return refused(problem);
  return { viewer: toViewer(row.user, viewer.via, row.id), problem: null };
}
