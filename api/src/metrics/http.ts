// How the API's metrics are measured at the edge (HTTP requests, GraphQL operations) and how they
// are served. /metrics is never public: either on its own listener (METRICS_PORT, bound to
// METRICS_HOST, 127.0.0.1 by default) or on the main port behind a bearer token (METRICS_TOKEN).
// Without either, the main port has no /metrics at all (it falls through to the web app or 404).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { listenForScrapes, type MetricsServer } from 'runner/metrics';
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { routeClass, type ApiMetrics } from './index.js';

const isAsyncIterable = (value: unknown): value is AsyncIterable<unknown> =>
  typeof value === 'object' && value !== null && Symbol.asyncIterator in value;

function operationOf(metrics: ApiMetrics, document: DocumentNode, operationName: string | null | undefined) {
  const operation = getOperationAST(document, operationName);
  return { operation: metrics.operationLabel(operation?.name?.value ?? operationName), type: operation?.operation ?? 'query' };
}

/**
 * Times queries and mutations by operation name and counts their errors; counts subscriptions
 * open. Works for both transports, as WebSocket operations run through yoga's envelop too.
 */
export function metricsPlugin(metrics: ApiMetrics): Plugin {
  return {
    onExecute({ args }) {
      const labels = operationOf(metrics, args.document, args.operationName);
      const started = performance.now();
      metrics.graphqlOperations.inc(labels);
      return {
        onExecuteDone({ result }) {
          metrics.graphqlDuration.observe(labels, (performance.now() - started) / 1000);
          if (!isAsyncIterable(result) && result.errors?.length) metrics.graphqlErrors.inc(labels);
        },
      };
    },
    onSubscribe({ args }) {
      const labels = operationOf(metrics, args.document, args.operationName);
      metrics.graphqlOperations.inc(labels);
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) {
            if (result.errors?.length) metrics.graphqlErrors.inc(labels);
            return;
          }
          metrics.subscriptionsOpen.inc();
          return { onEnd: () => metrics.subscriptionsOpen.dec() };
        },
        onSubscribeError: () => metrics.graphqlErrors.inc(labels),
      };
    },
  };
}

/** Counts and times one HTTP request by route class once its response has ended (or the client left). */
export function observeRequest(metrics: ApiMetrics, req: IncomingMessage, res: ServerResponse, webMounted: boolean): void {
  const started = performance.now();
  const route = routeClass(req.url, webMounted);
  res.once('close', () => {
    metrics.httpDuration.observe({ route }, (performance.now() - started) / 1000);
    // A response cut before its head was sent is counted as the client's doing.
    const status = res.headersSent ? `${Math.floor(res.statusCode / 100)}xx` : 'aborted';
    metrics.httpRequests.inc({ route, status });
  });
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Answers a scrape: 401 without the token when one is set, 405 for anything but GET/HEAD. */
export async function serveMetrics(metrics: ApiMetrics, token: string | null, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (token !== null && !tokenMatches(req.headers.authorization, token)) {
    res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="metrics"' });
    return void res.end('metrics need the METRICS_TOKEN bearer token\n');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    return void res.end('GET /metrics\n');
  }
  const body = await metrics.expose();
  res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * For the main port: serves /metrics when a token is set (and only with it); otherwise claims
 * nothing, so the path stays the web app's.
 */
export function handleMetricsOnMainPort(metrics: ApiMetrics | undefined, token: string | null | undefined, req: IncomingMessage, res: ServerResponse): boolean {
  if (!metrics || !token) return false;
  if ((req.url ?? '/').split('?', 1)[0] !== '/metrics') return false;
  void serveMetrics(metrics, token, req, res).catch((error: Error) => {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`cannot collect metrics: ${error.message}\n`);
  });
  return true;
}

export type { MetricsServer };

/** The separate metrics listener (METRICS_PORT on METRICS_HOST); `token`, when set, is required here too. */
export function startMetricsServer(metrics: ApiMetrics, options: { port: number; host: string; token?: string | null }): Promise<MetricsServer> {
  const token = options.token ?? null;
  return listenForScrapes((req, res) => {
    void serveMetrics(metrics, token, req, res).catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`cannot collect metrics: ${error.message}\n`);
    });
  }, options);
}
