// Request bodies on /graphql are counted as they arrive: a JSON body past MAX_BODY_BYTES, or a
// multipart upload past UPLOAD_MAX_REQUEST_MB, is answered 413 — at once when Content-Length says so,
// else as soon as the stream (chunked) crosses the line — and nothing more of it is kept. Yoga holds
// a request's body (and a multipart request's files) in memory while it parses, so this bounds what
// one request can make the API hold.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Transform } from 'node:stream';
import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';

export interface BodyLimits {
  /** JSON and any other non-multipart body. */
  maxBodyBytes: number;
  /** A multipart (upload) request, all parts together. */
  maxUploadBytes: number;
}

class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}

/**
 * After a 413 the rest of the body is read and dropped (a lingering close, as nginx does) for at most
 * this many bytes and this long, then the connection is cut. Cutting at once makes a client still
 * sending see a reset instead of the answer; the bytes are discarded as they come, so draining holds
 * no memory, and the bounds keep one request from keeping the API busy.
 */
const DRAIN_BYTES = 128 * 1024 * 1024;
const DRAIN_MS = 10_000;

function refuse(req: IncomingMessage, res: ServerResponse, message: string): void {
  if (res.headersSent) return void res.destroy();
  // Node closes a `Connection: close` request's socket as soon as its response has ended; data the
  // client is still sending then meets a closed socket, and the reset that answers it can reach the
  // client before it has read the 413, which it then never sees. Kept alive, the socket stays open
  // while the rest of the body is drained below; the client closes it, or the drain bounds cut it.
  res.shouldKeepAlive = true;
  const body = `${message}\n`;
  res.writeHead(413, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
  let drained = 0;
  const cut = setTimeout(() => req.socket.destroy(), DRAIN_MS);
  cut.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_BYTES) req.socket.destroy();
  });
  req.once('end', () => clearTimeout(cut));
  req.once('close', () => clearTimeout(cut));
  req.resume();
}

/**
 * The request to hand on, its body counted; null when it was answered 413 already. The returned
 * stream carries the request's method, URL, headers and socket, as @whatwg-node/server reads them.
 */
export function limitBody(req: IncomingMessage, res: ServerResponse, limits: BodyLimits): IncomingMessage | null {
  if (req.method === 'GET' || req.method === 'HEAD') return req;
  const multipart = (req.headers['content-type'] ?? '').toLowerCase().startsWith('multipart/');
  const max = multipart ? limits.maxUploadBytes : limits.maxBodyBytes;
  const what = multipart
    ? `an upload request may carry at most ${max} bytes in all (UPLOAD_MAX_REQUEST_MB)`
    : `a request body may be at most ${max} bytes (MAX_BODY_BYTES); upload files with a multipart request`;
  const declared = Number(req.headers['content-length']);
  if (declared > max) {
    refuse(req, res, `request body too large: Content-Length is ${declared} bytes, and ${what}`);
    return null;
  }
  let seen = 0;
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.length;
      if (seen <= max) return done(null, chunk);
      req.unpipe(counted);
      refuse(req, res, `request body too large: more than ${max} bytes arrived, and ${what}`);
      done(new BodyTooLarge(what));
    },
  });
  req.once('error', (error) => counted.destroy(error));
  req.pipe(counted);
  return Object.assign(counted, {
    method: req.method,
    url: req.url,
    headers: req.headers,
    httpVersion: req.httpVersion,
    socket: req.socket,
  }) as unknown as IncomingMessage;
}

/**
 * A body yoga cannot read — more files or larger parts than the multipart limits, a body cut short,
 * malformed multipart — is the client's fault: 413 for a limit, 400 otherwise, with the reason,
 * instead of the 500 yoga gives any error it did not raise itself.
 */
export function unreadableBodyIs4xx(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (error instanceof GraphQLError) throw error;
          const reason = (error as Error)?.message ?? String(error);
          const limit = /limit/i.test(reason);
          throw createGraphQLError(
            limit
              ? `the request exceeds an upload limit: ${reason} (UPLOAD_MAX_FILES, UPLOAD_MAX_ZIP_MB)`
              : `the request body could not be read: ${reason}`,
            { extensions: { code: 'BAD_REQUEST', http: { status: limit ? 413 : 400 } } },
          );
        }
      });
    },
  };
}
