// The hardened edge in one place for app.ts to wire: every HTTP request passes the Host check, gets
// security and CORS headers and runs inside the last-resort guard; /graphql bodies are counted; the
// WebSocket upgrade passes the Host and Origin checks; yoga gets the CSRF and query-limit plugins.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { VerifyClientCallbackAsync } from 'ws';
import { limitBody, unreadableBodyIs4xx } from './body-limit.js';
import type { EdgeConfig } from './config.js';
import { csrfPrevention } from './csrf.js';
import { guarded, requestTarget, type RequestHandler } from './guard.js';
import { setSecurityHeaders } from './headers.js';
import { hostChecker } from './hosts.js';
import { applyCors, checkWebSocketOrigin } from './origins.js';
import { queryLimitPlugins } from './query-limits.js';

export type { EdgeConfig } from './config.js';

export interface Edge {
  /** Plugins for createYoga: CSRF prevention first, unreadable bodies as 4xx, then the query limits. */
  yogaPlugins: Plugin[];
  graphiql: boolean;
  /** Wraps the server's request handler: Host check, headers, CORS, and the last-resort guard. */
  serve(handler: RequestHandler): (req: IncomingMessage, res: ServerResponse) => void;
  /** The /graphql request with its body counted, or null when it was refused (413). */
  limitBody(req: IncomingMessage, res: ServerResponse): IncomingMessage | null;
  /** For the WebSocketServer: refuses a foreign Host (421) or Origin (403) before the upgrade. */
  verifyClient: VerifyClientCallbackAsync;
  /** Called once the server listens: the Host check needs the bound address and port. */
  bind(host: string, port: number): void;
}

export function createEdge(
  config: EdgeConfig,
  options: { graphqlPath: string; maxUploadBytes: number; log: (line: string) => void },
): Edge {
  let checkHost: (host: string | undefined) => string | null = () => 'the server is not listening yet';
  return {
    yogaPlugins: [csrfPrevention(), unreadableBodyIs4xx(), ...queryLimitPlugins(config.query)],
    graphiql: config.graphiql,
    serve: (handler) =>
      guarded((req, res) => {
        const refused = checkHost(req.headers.host);
        if (refused) {
          res.writeHead(421, { 'content-type': 'text/plain; charset=utf-8' });
          return void res.end(`${refused}\n`);
        }
        // `*` (OPTIONS *) and absolute URLs (proxy requests) are valid HTTP, but no route of ours.
        if (!req.url?.startsWith('/') || req.url.startsWith('//')) {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
          return void res.end('the request target must be a path starting with a single /\n');
        }
        setSecurityHeaders(res, requestTarget(req).pathname === options.graphqlPath ? 'graphql' : 'download');
        if (applyCors(req, res, config.corsOrigins)) return;
        return handler(req, res);
      }, options.log),
    limitBody: (req, res) => limitBody(req, res, { maxBodyBytes: config.maxBodyBytes, maxUploadBytes: options.maxUploadBytes }),
    verifyClient: ({ req }, callback) => {
      const host = checkHost(req.headers.host);
      if (host) return callback(false, 421, host);
      const origin = checkWebSocketOrigin(req, config.corsOrigins);
      if (origin) return callback(false, 403, origin);
      callback(true);
    },
    bind: (host, port) => {
      checkHost = hostChecker({ publicUrl: config.publicUrl, allowedHosts: config.allowedHosts, bindHost: host, port });
    },
  };
}
