// Web-app sign-in: a name and password (or a one-time login link) become a session whose secret
// travels only in an HttpOnly, SameSite=Lax cookie; the server keeps its sha256, expiry and revocation.
import { recordAudit } from '../audit/record.js';
import type { Db } from '../db/client.js';
import { SESSION_COOKIE, SESSION_IDLE_MS, SESSION_MAX_MS } from './authenticate.js';
import { verifyPassword } from './passwords.js';
import { newSecret, plausibleSecret, sha256Hex } from './secrets.js';
import { UnauthenticatedError, type Viewer } from './viewer.js';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** One message for every failed login: it must not tell which names exist. */
const LOGIN_REFUSED = 'wrong name or password, or the account is disabled';

async function openSession(db: Db, userId: string, client: ClientInfo, now: Date): Promise<string> {
  const secret = newSecret();
  await db.session.create({
    data: {
      userId,
      tokenHash: sha256Hex(secret),
      expiresAt: new Date(now.getTime() + SESSION_IDLE_MS),
      lastUsedAt: now,
      ip: client.ip,
      userAgent: client.userAgent?.slice(0, 500) ?? null,
    },
  });
  return secret;
}

export async function login(db: Db, input: { name: string; password: string }, client: ClientInfo, now = new Date()) {
  const name = input.name.trim().toLowerCase().slice(0, 100);
  const user = await db.user.findUnique({ where: { name } });
  const ok = await verifyPassword(user?.passwordHash ?? null, input.password);
  if (!user || !ok || user.disabledAt) {
    await recordAudit(db, { actor: { name }, action: 'LOGIN_FAILED', targetType: 'user', targetId: user?.id, ip: client.ip });
    throw new UnauthenticatedError(LOGIN_REFUSED);
  }
  const secret = await openSession(db, user.id, client, now);
  await recordAudit(db, { actor: { name: user.name }, action: 'LOGIN', targetType: 'user', targetId: user.id, ip: client.ip, detail: { via: 'password' } });
  return { user, secret };
}

/** Consumes a one-time login link: at most one session per link, however many tabs race for it. */
export async function loginWithLink(db: Db, once: string, client: ClientInfo, now = new Date()) {
  if (!plausibleSecret(once)) throw new UnauthenticatedError('the login link is not valid');
  const used = await db.loginLink.updateMany({
    where: { tokenHash: sha256Hex(once), usedAt: null, expiresAt: { gt: now } },
    data: { usedAt: now },
  });
  if (used.count !== 1) {
    await recordAudit(db, { actor: null, action: 'LOGIN_FAILED', ip: client.ip, detail: { via: 'link' } });
    throw new UnauthenticatedError('the login link is not valid, was used already or has expired');
  }
  const link = await db.loginLink.findUniqueOrThrow({ where: { tokenHash: sha256Hex(once) }, include: { user: true } });
  if (link.user.disabledAt) throw new UnauthenticatedError(LOGIN_REFUSED);
  const secret = await openSession(db, link.userId, client, now);
  await recordAudit(db, { actor: { name: link.user.name }, action: 'LOGIN', targetType: 'user', targetId: link.userId, ip: client.ip, detail: { via: 'link' } });
  return { user: link.user, secret };
}

export async function createLoginLink(db: Db, userId: string, validMs = 24 * 3600_000, now = new Date()): Promise<string> {
  const secret = newSecret();
  await db.loginLink.create({ data: { userId, tokenHash: sha256Hex(secret), expiresAt: new Date(now.getTime() + validMs) } });
  return secret;
}

/** Ends the caller's session server-side; with a token, there is no session to end. */
export async function logout(db: Db, viewer: Viewer, ip: string | null, now = new Date()): Promise<boolean> {
  if (viewer.via !== 'session') return false;
  await db.session.updateMany({ where: { id: viewer.credentialId, revokedAt: null }, data: { revokedAt: now } });
  await recordAudit(db, { actor: viewer, action: 'LOGOUT', targetType: 'Session', targetId: viewer.credentialId, ip });
  return true;
}

/** The Set-Cookie value for a new session; Secure when the public URL is https. */
export function sessionCookie(secret: string, secure: boolean): string {
  return [
    `${SESSION_COOKIE}=${secret}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Lax',
    `Max-Age=${Math.floor(SESSION_MAX_MS / 1000)}`,
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}

export function clearedSessionCookie(secure: boolean): string {
  return [`${SESSION_COOKIE}=`, 'Path=/', 'HttpOnly', 'SameSite=Lax', 'Max-Age=0', ...(secure ? ['Secure'] : [])].join('; ');
}
