// Raw HTTP requests for edge tests: any method, target, Host header and body (a string, a Buffer, or
// chunks streamed without Content-Length), which fetch does not allow. Resolves with the answer, or
// with status 0 when the server closed the connection without one.
import { request } from 'node:http';
import { registeredToken } from './auth.js';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function rawRequest(
  base: string,
  options: {
    method?: string;
    /** The request target exactly as sent (not normalised or encoded). */
    path: string;
    headers?: Record<string, string>;
    /** Send no credential; by default the API's registered token goes along (support/auth.ts), as with fetch. */
    anonymous?: boolean;
    body?: string | Buffer | AsyncIterable<Buffer>;
    timeoutMs?: number;
  },
): Promise<RawAnswer> {
  const url = new URL(base);
  const token = options.anonymous ? undefined : registeredToken(base);
  const given = options.headers ?? {};
  const headers =
    token && !Object.keys(given).some((h) => h.toLowerCase() === 'authorization') ? { ...given, authorization: `Bearer ${token}` } : options.headers;
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      method: options.method ?? 'GET',
      path: options.path,
      headers,
      // A fresh connection each: a server that closes one after answering early must not fail the next.
      agent: false,
      setHost: !options.headers || !Object.keys(options.headers).some((h) => h.toLowerCase() === 'host'),
    });
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer to ${options.method ?? 'GET'} ${options.path.slice(0, 80)}`)));
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // The server may answer early (413) and close while the body is still going out.
      if (answered) return;
      if (error.code === 'ECONNRESET' || error.code === 'EPIPE') resolve({ status: 0, headers: {}, body: error.message });
      else reject(error);
    });
    const body = options.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) return void req.end(body);
    void (async () => {
      try {
        for await (const chunk of body) {
          if (req.destroyed || answered) break;
          if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
        }
        req.end();
      } catch {
        // the connection went away mid-body: the answer (or its absence) tells
      }
    })();
  });
}
