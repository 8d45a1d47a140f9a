// A static render of the Grafana dashboard (deploy/grafana/dashboard.json) from a real Prometheus:
// every panel's queries go through Prometheus' own query_range API, as Grafana's Prometheus data
// source sends them, and the page is laid out on Grafana's grid and photographed by Chromium.
// Grafana itself cannot be installed here; what this proves is that the dashboard's PromQL is
// accepted and shows the figures a deployment produces.
import { readFile, writeFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';
import { dashboardPage, type PageItem } from './dashboard-page.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface RenderOptions {
  prometheusUrl: string;
  dashboardFile: string;
  from: Date;
  to: Date;
  stepSeconds: number;
  /** The PNG to write; the HTML page is written next to it when `keepHtml` is set. */
  outFile: string;
  keepHtml?: boolean;
  /** Prometheus' scrape interval: Grafana's `$__rate_interval` is at least four of them. */
  scrapeIntervalSeconds?: number;
  /** The page's width in CSS pixels (Grafana's grid scales to it). */
  width?: number;
}

export interface SeriesResult {
  refId: string;
  /** The legend entry: legendFormat with `{{label}}` filled in. */
  name: string;
  labels: Record<string, string>;
  /** Samples with a finite value. */
  points: number;
  last: number | null;
  max: number | null;
}

export interface PanelResult {
  id: number;
  title: string;
  type: string;
  series: SeriesResult[];
  points: number;
  /** Queries Prometheus refused, as `refId: error`. */
  errors: string[];
}

interface Target {
  expr?: string;
  refId?: string;
  legendFormat?: string;
  hide?: boolean;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  collapsed?: boolean;
  panels?: Panel[];
  targets?: Target[];
  fieldConfig?: { defaults?: { unit?: string } };
}

const seconds = (n: number) => `${Math.max(1, Math.round(n))}s`;

/**
 * Grafana's built-in variables as its Prometheus data source fills them in for a range query
 * (public/app/plugins/datasource/prometheus): `$__interval` is the step, `$__rate_interval` is
 * max(interval + scrape interval, 4 × scrape interval), `$__range` the whole range. The data source
 * variable only picks the data source and never reaches PromQL; it is emptied.
 */
export function substituteVariables(expr: string, v: { stepSeconds: number; rangeSeconds: number; scrapeIntervalSeconds: number }): string {
  const values: Record<string, string> = {
    __interval: seconds(v.stepSeconds),
    __interval_ms: String(Math.round(v.stepSeconds * 1000)),
    __rate_interval: seconds(Math.max(v.stepSeconds + v.scrapeIntervalSeconds, 4 * v.scrapeIntervalSeconds)),
    __range: seconds(v.rangeSeconds),
    __range_s: String(Math.round(v.rangeSeconds)),
    __range_ms: String(Math.round(v.rangeSeconds * 1000)),
    datasource: '',
  };
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => values[(braced ?? bare)!] ?? whole);
}

/** A series' legend entry as Grafana writes it: legendFormat with `{{label}}` filled in, or the series' selector. */
export function legendName(legendFormat: string | undefined, labels: Record<string, string>): string {
  if (legendFormat && legendFormat !== '__auto') return legendFormat.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => labels[name] ?? '');
  const { __name__: name = '', ...rest } = labels;
  const pairs = Object.entries(rest).map(([k, v]) => `${k}="${v}"`);
  return pairs.length ? `${name}{${pairs.join(', ')}}` : name || 'Value';
}

interface Matrix {
  metric: Record<string, string>;
  values: [number, string][];
}

async function queryRange(prometheusUrl: string, expr: string, start: number, end: number, step: number): Promise<Matrix[]> {
  const response = await fetch(new URL('/api/v1/query_range', prometheusUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) }),
  });
  const body = (await response.json().catch(() => ({ status: 'error', error: `HTTP ${response.status}` }))) as {
    status: string;
    error?: string;
    data?: { resultType: string; result: Matrix[] };
  };
  if (body.status !== 'success') throw new Error(body.error ?? `HTTP ${response.status}`);
  if (body.data?.resultType !== 'matrix') throw new Error(`a ${body.data?.resultType} instead of a range of samples`);
  return body.data.result;
}

/**
 * The dashboard's top-level panels from top to bottom; a collapsed row keeps its panels inside
 * itself and Grafana shows only its header, so they are neither queried nor drawn.
 */
function visiblePanels(panels: Panel[]): Panel[] {
  return [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
}

export async function renderDashboard(options: RenderOptions): Promise<PanelResult[]> {
  const dashboard = JSON.parse(await readFile(options.dashboardFile, 'utf8')) as { title: string; panels: Panel[] };
  const step = options.stepSeconds;
  // Grafana aligns a range query's start to its step, so every series shares the same timestamps.
  const start = Math.floor(options.from.getTime() / 1000 / step) * step;
  const end = Math.ceil(options.to.getTime() / 1000 / step) * step;
  const times: number[] = [];
  for (let t = start; t <= end; t += step) times.push(t);
  const variables = { stepSeconds: step, rangeSeconds: end - start, scrapeIntervalSeconds: options.scrapeIntervalSeconds ?? 15 };

  const results: PanelResult[] = [];
  const items: PageItem[] = [];
  for (const panel of visiblePanels(dashboard.panels)) {
    if (panel.type === 'row') {
      items.push({ kind: 'row', title: panel.title, gridPos: panel.gridPos, collapsed: panel.collapsed === true });
      continue;
    }
    const result: PanelResult = { id: panel.id, title: panel.title, type: panel.type, series: [], points: 0, errors: [] };
    const drawn: { name: string; values: (number | null)[] }[] = [];
    for (const target of panel.targets ?? []) {
      if (target.hide || !target.expr) continue;
      const refId = target.refId ?? '?';
      try {
        const matrix = await queryRange(options.prometheusUrl, substituteVariables(target.expr, variables), start, end, step);
        for (const { metric, values } of matrix) {
          const byTime = new Map(values.map(([t, v]) => [t, Number(v)]));
          const aligned = times.map((t) => {
            const v = byTime.get(t);
            return v === undefined || !Number.isFinite(v) ? null : v;
          });
          const finite = aligned.filter((v): v is number => v !== null);
          const name = legendName(target.legendFormat, metric);
          result.series.push({
            refId,
            name,
            labels: metric,
            points: finite.length,
            last: [...aligned].reverse().find((v) => v !== null) ?? null,
            max: finite.length ? Math.max(...finite) : null,
          });
          result.points += finite.length;
          drawn.push({ name, values: aligned });
        }
      } catch (error) {
        result.errors.push(`${refId}: ${(error as Error).message}`);
      }
    }
    results.push(result);
    items.push({ kind: 'panel', title: panel.title, type: panel.type, gridPos: panel.gridPos, unit: panel.fieldConfig?.defaults?.unit ?? 'short', series: drawn, errors: result.errors });
  }

  const html = await dashboardPage({ title: dashboard.title, from: new Date(start * 1000), to: new Date(end * 1000), times, items, width: options.width ?? 1600 });
  if (options.keepHtml) await writeFile(options.outFile.replace(/\.png$/, '') + '.html', html);
  await photograph(html, options.outFile, options.width ?? 1600);
  return results;
}

async function photograph(html: string, outFile: string, width: number): Promise<void> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width, height: 900 }, deviceScaleFactor: 1 });
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    await page.setContent(html, { waitUntil: 'load' });
    // The page sets this once every chart is drawn (or it threw: then the error is the answer).
    await page.waitForFunction(() => (window as unknown as { dashboardDrawn?: boolean }).dashboardDrawn === true || document.title === 'failed', undefined, { timeout: 30_000 });
    if (failures.length) throw new Error(`the dashboard page failed: ${failures.join('; ')}`);
    await page.screenshot({ path: outFile, fullPage: true });
  } finally {
    await browser.close();
  }
}
