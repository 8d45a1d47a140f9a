// Which web pages may call the API from a browser. CORS answers only origins of CORS_ORIGINS (by
// default the origin of PUBLIC_URL, or none), each by name — never a reflected arbitrary origin with
// credentials. The WebSocket has no CORS: browsers always send Origin on it, so the upgrade is refused
// unless that Origin is this host itself or one of the same list; a missing Origin is a script.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APOLLO_CSRF_HEADER, CSRF_HEADER } from './csrf.js';

/** Preflights are cached this long by browsers. */
const MAX_AGE_S = 600;

/** The Origin header as an origin, or null when absent or not a URL origin. */
function originOf(req: IncomingMessage): string | null {
  const value = req.headers.origin;
  if (!value || value === 'null' || !URL.canParse(value)) return null;
  return new URL(value).origin;
}

/** True when the request's Origin names the host it was sent to (a page of this platform). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  return host !== undefined && new URL(origin).host === host.toLowerCase();
}

/**
 * Adds CORS headers for an allowed origin; answers a preflight itself. Returns true when the
 * response is complete (a preflight).
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: readonly string[]): boolean {
  const origin = originOf(req);
  const permitted = origin !== null && allowed.includes(origin);
  // Caches must not serve one origin's answer to another.
  res.setHeader('vary', 'Origin');
  if (permitted) {
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-allow-credentials', 'true');
  }
  if (req.method !== 'OPTIONS' || !req.headers['access-control-request-method']) return false;
  if (!permitted) {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`the origin ${JSON.stringify(req.headers.origin ?? null)} may not call this API (see CORS_ORIGINS)\n`);
    return true;
  }
  res.writeHead(204, {
    'access-control-allow-methods': 'GET, POST, OPTIONS',
    'access-control-allow-headers': `content-type, authorization, ${CSRF_HEADER}, ${APOLLO_CSRF_HEADER}`,
    'access-control-max-age': String(MAX_AGE_S),
    'content-length': '0',
  });
  res.end();
  return true;
}

/** Null when a WebSocket upgrade with this Origin may proceed, else why not. */
export function checkWebSocketOrigin(req: IncomingMessage, allowed: readonly string[]): string | null {
  const raw = req.headers.origin;
  if (raw === undefined) return null;
  const origin = originOf(req);
  if (origin && (sameOrigin(origin, req.headers.host) || allowed.includes(origin))) return null;
  return `the origin ${JSON.stringify(raw.slice(0, 200))} may not open a WebSocket to this API (see CORS_ORIGINS)`;
}
