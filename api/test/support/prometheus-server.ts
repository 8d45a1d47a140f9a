// A real Prometheus (Debian's /usr/bin/prometheus) scraping a test's API and runners, with the
// project's alert rules loaded, so the Grafana dashboard's queries run against what Prometheus
// itself stored — not against a hand-parsed scrape.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { waitFor } from 'runner/test-support';
import { repoRoot } from '../../src/config/paths.js';
import { freePort } from '../../src/platform/ports.js';

export const PROMETHEUS = process.env.PROMETHEUS_PATH ?? '/usr/bin/prometheus';
export const PROMTOOL = process.env.PROMTOOL_PATH ?? '/usr/bin/promtool';
export const ALERT_RULES = path.join(repoRoot, 'deploy/prometheus/alerts.yaml');
/** Why Prometheus tests are skipped, or null when they can run. */
export const prometheusMissing = existsSync(PROMETHEUS) && existsSync(PROMTOOL) ? null : `${PROMETHEUS} or ${PROMTOOL} is not installed (apt-get install prometheus)`;

export interface ScrapeJob {
  /** The job label; docs/metrics.md names them `thr-api` and `thr-runner`. */
  job: string;
  /** Full /metrics URLs (http://host:port/metrics). */
  targets: string[];
}

export interface PrometheusServer {
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:41234 */
  url: string;
  /** An instant query's result vector; throws with Prometheus' error when it refuses the query. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]>;
  output(): string;
  stop(): Promise<void>;
}

function scrapeConfig(jobs: ScrapeJob[], scrapeIntervalSeconds: number): string {
  const job = ({ job: name, targets }: ScrapeJob) => {
    const urls = targets.map((t) => new URL(t));
    const metricsPath = urls[0]?.pathname ?? '/metrics';
    return { job_name: name, metrics_path: metricsPath, static_configs: [{ targets: urls.map((u) => u.host) }] };
  };
  // JSON is YAML: no serializer needed for a file Prometheus reads once.
  return JSON.stringify({
    global: { scrape_interval: `${scrapeIntervalSeconds}s`, scrape_timeout: `${scrapeIntervalSeconds}s`, evaluation_interval: `${scrapeIntervalSeconds}s` },
    rule_files: [ALERT_RULES],
    scrape_configs: jobs.map(job),
  });
}

export async function startPrometheus(options: { jobs: ScrapeJob[]; scrapeIntervalSeconds?: number }): Promise<PrometheusServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'thr-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  await writeFile(config, scrapeConfig(options.jobs, options.scrapeIntervalSeconds ?? 1));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    PROMETHEUS,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      // Debian's defaults point at /etc/prometheus consoles; none are needed, and none may be shared.
      '--web.console.templates=' + path.join(dir, 'consoles'),
      '--web.console.libraries=' + path.join(dir, 'console_libraries'),
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));

  const stop = async () => {
    if (!gone) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    // A Prometheus that exits (a bad config, a port taken meanwhile) ends the wait at once.
    await waitFor(async () => gone || (await fetch(`${url}/-/ready`).catch(() => null))?.ok === true, {
      what: `prometheus on ${url} to be ready`,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    if (gone) throw new Error(`prometheus exited before it was ready:\n${output}`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url,
    output: () => output,
    stop,
    query: async (expr) => {
      const response = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: expr })}`);
      const body = (await response.json()) as { status: string; error?: string; data?: { result: never[] } };
      if (body.status !== 'success') throw new Error(`prometheus refused ${expr}: ${body.error}`);
      return body.data!.result;
    },
  };
}
