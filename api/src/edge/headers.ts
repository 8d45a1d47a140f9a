// Security headers on every response. The web app's own Content-Security-Policy (script hashes for
// SvelteKit's inline start-up script) comes from kit.csp in web/svelte.config.js; API paths get one
// here. No page of this platform is meant to be framed, sniffed into another type, or to leak its
// URLs (job and run ids) to other sites in Referer.
import type { ServerResponse } from 'node:http';

/**
 * GraphiQL (graphiql/page.ts: its scripts, workers and styles all from this server) and JSON answers
 * on /graphql. GraphiQL and its Monaco editor inject styles and load fonts and icons as data: URLs;
 * no script is inline and nothing is fetched from elsewhere.
 */
const GRAPHQL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');
/** Downloads and errors: nothing in them may run, load or be framed. */
const DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

export type ResponseKind = 'graphql' | 'download' | 'web';

/** Set before a handler writes its head (again when a request falls through to the web app): a handler's own header of the same name (writeHead) wins. */
export function setSecurityHeaders(res: ServerResponse, kind: ResponseKind): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'same-origin');
  if (kind === 'graphql') res.setHeader('content-security-policy', GRAPHQL_CSP);
  else if (kind === 'download') res.setHeader('content-security-policy', DOWNLOAD_CSP);
  // The web app sends its own (kit.csp), with the hashes of its scripts.
  else res.removeHeader('content-security-policy');
}
