// The runner's /metrics listener (RUNNER_METRICS_PORT on RUNNER_METRICS_HOST, 127.0.0.1 by
// default): a runner has no other HTTP surface, so this is all it serves.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunnerMetrics } from './index.js';

export interface RunnerMetricsServer {
  server: Server;
  url: string;
  stop(): Promise<void>;
}

export function startRunnerMetricsServer(metrics: RunnerMetrics, options: { port: number; host: string }): Promise<RunnerMetricsServer> {
  const server = createServer((req, res) => {
    if ((req.url ?? '/').split('?', 1)[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      return void res.end('only /metrics here\n');
    }
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
