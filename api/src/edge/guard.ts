// The last resort of every HTTP request: whatever a route throws, synchronously or from a promise, is
// logged and answered with 500 (when nothing was sent yet) instead of reaching the process's
// uncaughtException and killing the API for everyone. Routes still validate their own input and
// answer 4xx; this catches what they did not foresee. Also the helpers routes parse with, which
// never throw.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export function guarded(handler: RequestHandler, log: (line: string) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const failed = (error: unknown) => {
      log(`${req.method} ${(req.url ?? '').slice(0, 200)} failed: ${(error as Error)?.stack ?? String(error)}`);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
        res.end('internal error: the request failed on the server (logged)\n');
      } else res.destroy();
    };
    try {
      const result = handler(req, res);
      if (result) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  };
}

/** The request target split without decoding or resolving anything: a malformed URL is still a path. */
export function requestTarget(req: IncomingMessage): { pathname: string; params: URLSearchParams } {
  const url = req.url ?? '/';
  const at = url.indexOf('?');
  return at < 0 ? { pathname: url, params: new URLSearchParams() } : { pathname: url.slice(0, at), params: new URLSearchParams(url.slice(at + 1)) };
}

/** decodeURIComponent, or null for malformed percent-encoding (which decodeURIComponent throws on). */
export function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}
