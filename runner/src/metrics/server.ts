// The runner's /metrics listener (RUNNER_METRICS_PORT on RUNNER_METRICS_HOST, 127.0.0.1 by
// default): a runner has no other HTTP surface, so this is all it serves.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunnerMetrics } from './index.js';

/** A listener that serves only /metrics: its scrape URL, and a stop that also cuts open connections. */
export interface MetricsServer {
  server: Server;
  /** Where Prometheus scrapes: http://host:port/metrics. */
  url: string;
  stop(): Promise<void>;
}

/**
 * Listens on host:port, answering 404 for any path but /metrics and `scrape` for it. The API's
 * separate metrics listener is the same (api/src/metrics/http.ts), with its token check in `scrape`.
 */
export function listenForScrapes(scrape: RequestListener, options: { port: number; host: string }): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?', 1)[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('only /metrics here\n');
    }
    scrape(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        server,
        url: `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}/metrics`,
        stop: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

export function startRunnerMetricsServer(metrics: RunnerMetrics, options: { port: number; host: string }): Promise<MetricsServer> {
  return listenForScrapes((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('GET /metrics\n');
    }
    metrics.expose().then(
      (body) => {
        res.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`cannot collect metrics: ${error.message}\n`);
      },
    );
  }, options);
}
