// Authentication on the plain HTTP side of the server: credentials out of a Node request, the
// 401 a download route answers, the one-time login link (`GET /login?once=`), and the yoga plugin
// that lets resolvers (login, logout) set cookies on their HTTP response.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Db } from '../db/client.js';
import { authenticate, type AuthResult, type Credentials } from './authenticate.js';
import { loginWithLink, sessionCookie } from './sessions.js';
import type { Viewer } from './viewer.js';

export function nodeCredentials(req: IncomingMessage): Credentials {
  return { authorization: req.headers.authorization ?? null, cookie: req.headers.cookie ?? null };
}

export function clientIpOf(req: IncomingMessage | undefined): string | null {
  return req?.socket?.remoteAddress ?? null;
}

/** The caller of a download route, or null after answering 401 naming what is missing or wrong. */
export async function requireDownloadViewer(db: Db, req: IncomingMessage, res: ServerResponse): Promise<Viewer | null> {
  const result = await authenticate(db, nodeCredentials(req));
  if (result.viewer) return result.viewer;
  res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="thr"' });
  res.end(`${unauthenticatedMessage(result)}\n`);
  return null;
}

export function unauthenticatedMessage(result: AuthResult): string {
  return result.problem
    ? `${result.problem}; sign in or send a valid API token (Authorization: Bearer <token>)`
    : 'sign in or send an API token (Authorization: Bearer <token>)';
}

/**
 * `GET /login?once=<secret>`: the first-start link. Consumes it, sets the session cookie and sends the
 * browser to the web app; a bad link goes to the login page with the reason. Other /login requests
 * are the web app's.
 */
export function handleLoginLink(deps: { db: Db; secureCookies: boolean }, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET') return false;
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://x');
  } catch {
    return false;
  }
  const once = url.searchParams.get('once');
  if (url.pathname !== '/login' || once === null) return false;
  void loginWithLink(deps.db, once, { ip: clientIpOf(req), userAgent: req.headers['user-agent'] ?? null }).then(
    ({ secret }) => {
      res.writeHead(303, { location: '/', 'set-cookie': sessionCookie(secret, deps.secureCookies), 'cache-control': 'no-store' });
      res.end();
    },
    (error: Error) => {
      res.writeHead(303, { location: `/login?error=${encodeURIComponent(error.message)}`, 'cache-control': 'no-store' });
      res.end();
    },
  );
  return true;
}

/** Set-Cookie headers resolvers asked for, by request, added when yoga sends the response. */
export function cookieJar() {
  const pending = new WeakMap<Request, string[]>();
  const plugin: Plugin = {
    onResponse({ request, response }) {
      for (const cookie of pending.get(request) ?? []) response.headers.append('set-cookie', cookie);
    },
  };
  return {
    plugin,
    setter: (request: Request | undefined) => (cookie: string) => {
      if (!request) return;
      const list = pending.get(request) ?? [];
      list.push(cookie);
      pending.set(request, list);
    },
  };
}
