// `npm run dashboard:render -w api -- --prometheus <url> --from <iso> --to <iso> --out <png>`:
// renders deploy/grafana/dashboard.json from any Prometheus that scraped the platform (a test's, a
// containerised deployment's) into a PNG, and lists what each panel got. Exits 1 when Prometheus
// refused a panel's query: that is a dashboard bug.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../src/config/paths.js';
import { renderDashboard } from '../test/support/dashboard-render.js';

const USAGE = 'usage: npm run dashboard:render -w api -- --prometheus <url> --from <iso> --to <iso> --out <png> [--step <s>] [--scrape-interval <s>] [--dashboard <json>] [--html]';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function date(name: string, value: string | undefined): Date {
  if (!value) fail(`--${name} is required`);
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) fail(`--${name} ${value} is not a date (ISO 8601, e.g. 2026-01-31T12:00:00Z)`);
  return parsed;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0)) fail(`--${name} ${value} is not a positive number of seconds`);
  return n;
}

const { values } = parseArgs({
  options: {
    prometheus: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string' },
    step: { type: 'string' },
    'scrape-interval': { type: 'string' },
    dashboard: { type: 'string' },
    html: { type: 'boolean', default: false },
  },
});
if (!values.prometheus) fail('--prometheus is required');
if (!values.out) fail('--out is required');
const from = date('from', values.from);
const to = date('to', values.to);
if (to <= from) fail('--to must be after --from');
// Grafana asks for about one point per pixel of a panel; a few hundred per panel is plenty here.
const stepSeconds = positive('step', values.step) ?? Math.max(1, Math.round((to.getTime() - from.getTime()) / 1000 / 300));
// npm runs workspace scripts in api/: paths the caller typed are relative to where they typed them.
const callerDir = process.env.INIT_CWD ?? process.cwd();

const panels = await renderDashboard({
  prometheusUrl: values.prometheus,
  dashboardFile: values.dashboard ? path.resolve(callerDir, values.dashboard) : path.join(repoRoot, 'deploy/grafana/dashboard.json'),
  from,
  to,
  stepSeconds,
  scrapeIntervalSeconds: positive('scrape-interval', values['scrape-interval']),
  outFile: path.resolve(callerDir, values.out),
  keepHtml: values.html,
});
for (const p of panels) {
  const errors = p.errors.length ? `  REFUSED: ${p.errors.join('; ')}` : '';
  console.log(`${String(p.id).padStart(3)}  ${p.title.padEnd(48)} ${String(p.series.length).padStart(3)} series ${String(p.points).padStart(6)} points${errors}`);
}
const refused = panels.filter((p) => p.errors.length).length;
console.log(`${panels.length} panels, ${panels.filter((p) => p.points > 0).length} with data, ${refused} with refused queries → ${path.resolve(callerDir, values.out)}`);
process.exit(refused ? 1 : 0);
