// The HTML page of a static dashboard render: Grafana's dark theme, its 24-column grid (30 px rows,
// 8 px gaps), row headers, panel titles, list legends under the charts, and units on the y axis.
// Charts are uPlot (inlined, so the page needs no network).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

export interface GridPos {
  h: number;
  w: number;
  x: number;
  y: number;
}

export type PageItem =
  | { kind: 'row'; title: string; gridPos: GridPos; collapsed: boolean }
  | { kind: 'panel'; title: string; type: string; gridPos: GridPos; unit: string; series: { name: string; values: (number | null)[] }[]; errors: string[] };

// react-grid-layout's settings in Grafana (public/app/core/constants.ts: GRID_CELL_HEIGHT, GRID_CELL_VMARGIN).
const CELL_HEIGHT = 30;
const GAP = 8;
const PAGE_PADDING = 16;
const HEADER = 56;

// Grafana's classic palette, in its order.
const PALETTE = ['#73BF69', '#F2CC0C', '#8AB8FF', '#FF780A', '#F2495C', '#5794F2', '#B877D9', '#705DA0', '#37872D', '#FADE2A', '#FF9830', '#C4162A'];

const require = createRequire(import.meta.url);

async function uplotAssets(): Promise<{ js: string; css: string }> {
  const dist = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
  const [js, css] = await Promise.all([readFile(path.join(dist, 'uPlot.iife.min.js'), 'utf8'), readFile(path.join(dist, 'uPlot.min.css'), 'utf8')]);
  return { js, css };
}

const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Where a grid position lands on a page `width` pixels wide. */
function place(gridPos: GridPos, width: number): { left: number; top: number; width: number; height: number } {
  const column = (width - 2 * PAGE_PADDING - 23 * GAP) / 24;
  return {
    left: PAGE_PADDING + gridPos.x * (column + GAP),
    top: HEADER + gridPos.y * (CELL_HEIGHT + GAP),
    width: gridPos.w * column + (gridPos.w - 1) * GAP,
    height: gridPos.h * CELL_HEIGHT + (gridPos.h - 1) * GAP,
  };
}

const STYLE = `
  body { margin: 0; background: #111217; color: #ccccdc; font: 13px 'Liberation Sans', 'DejaVu Sans', Arial, sans-serif; }
  header { position: absolute; left: ${PAGE_PADDING}px; right: ${PAGE_PADDING}px; top: 0; height: ${HEADER - GAP}px; display: flex; align-items: center; justify-content: space-between; border-bottom: 1px solid #2d2e34; }
  header h1 { font-size: 18px; font-weight: 500; margin: 0; color: #d8d9da; }
  header .range { font-size: 12px; color: #9fa1a8; border: 1px solid #2d2e34; border-radius: 2px; padding: 5px 10px; background: #181b1f; }
  .row { position: absolute; display: flex; align-items: center; font-size: 15px; font-weight: 500; color: #d8d9da; }
  .row::before { content: '⌄'; margin-right: 8px; color: #9fa1a8; position: relative; top: -3px; }
  .row.collapsed::before { content: '›'; top: 0; }
  .panel { position: absolute; box-sizing: border-box; background: #181b1f; border: 1px solid #2d2e34; border-radius: 2px; display: flex; flex-direction: column; overflow: hidden; }
  .panel h2 { margin: 0; padding: 7px 8px 4px; font-size: 13px; font-weight: 500; color: #ccccdc; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; display: flex; gap: 6px; }
  .panel h2 .error { background: #d10e5c; color: #fff; border-radius: 2px; padding: 0 5px; font-size: 11px; }
  .chart { flex: 1; min-height: 0; position: relative; padding: 0 8px; }
  .nodata { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: #9fa1a8; font-size: 14px; }
  .errortext { position: absolute; inset: 8px; color: #ff7383; font-size: 11px; overflow: hidden; }
  .legend { padding: 2px 8px 6px; display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 12px; color: #ccccdc; }
  .legend span { display: inline-flex; align-items: center; white-space: nowrap; }
  .legend i { display: inline-block; width: 14px; height: 4px; border-radius: 2px; margin-right: 6px; }
  .uplot { font-family: inherit; }
`;

// Runs in the page: draws lines only, as a Grafana time series without fillOpacity does; draws every panel with uPlot once the layout is known (legends measured first,
// the chart takes what is left), then tells the renderer it is done.
const DRAW = `
(() => {
  const { times, panels } = window.DASHBOARD;
  const round = (v) => Number(v.toPrecision(3));
  const scaled = (v, base, units) => { let i = 0; while (Math.abs(v) >= base && i < units.length - 1) { v /= base; i++; } return round(v) + units[i]; };
  const fmt = (unit, v) => {
    if (v == null) return '';
    switch (unit) {
      case 's': return v === 0 ? '0 s' : Math.abs(v) < 1 ? round(v * 1000) + ' ms' : Math.abs(v) < 60 ? round(v) + ' s' : Math.abs(v) < 3600 ? round(v / 60) + ' min' : round(v / 3600) + ' hour';
      case 'bytes': return scaled(v, 1024, [' B', ' KiB', ' MiB', ' GiB', ' TiB']);
      case 'Bps': return scaled(v, 1024, [' B/s', ' KiB/s', ' MiB/s', ' GiB/s']);
      case 'percentunit': return round(v * 100) + '%';
      case 'reqps': return scaled(v, 1000, [' req/s', 'K req/s', 'Mil req/s']);
      default: return scaled(v, 1000, ['', ' K', ' Mil', ' Bil']);
    }
  };
  const axis = { stroke: '#9fa1a8', font: '11px Liberation Sans, sans-serif', grid: { stroke: 'rgba(204,204,220,0.08)', width: 1 }, ticks: { stroke: 'rgba(204,204,220,0.08)', width: 1, size: 4 } };
  for (const p of panels) {
    const el = document.getElementById(p.id);
    const chart = el.querySelector('.chart');
    if (p.errors.length || !p.series.length) continue;
    const box = chart.getBoundingClientRect();
    const values = p.series.flatMap((s) => s.values).filter((v) => v != null);
    const lo = Math.min(0, ...values), hi = Math.max(...values);
    new uPlot({
      width: Math.floor(box.width) - 16,
      height: Math.floor(box.height),
      legend: { show: false },
      cursor: { show: false },
      scales: { x: { time: true }, y: { range: () => [lo, hi > lo ? hi + (hi - lo) * 0.08 : lo + 1] } },
      axes: [
        // Grafana's time axis: 24-hour clock, in the header's time zone (UTC).
        { ...axis, space: 70, values: (u, splits) => splits.map((t) => new Date(t * 1000).toISOString().slice(11, splits.some((s) => s % 60) ? 19 : 16)) },
        { ...axis, size: 64, values: (u, splits) => splits.map((v) => fmt(p.unit, v)) },
      ],
      series: [{}, ...p.series.map((s) => ({ label: s.name, stroke: s.color, width: 1, points: { show: false } }))],
    }, [times, ...p.series.map((s) => s.values)], chart);
  }
  window.dashboardDrawn = true;
})();
`;

export async function dashboardPage(page: { title: string; from: Date; to: Date; times: number[]; items: PageItem[]; width: number }): Promise<string> {
  const { js, css } = await uplotAssets();
  const bottom = Math.max(...page.items.map((i) => i.gridPos.y + i.gridPos.h));
  const panels: { id: string; unit: string; errors: string[]; series: { name: string; color: string; values: (number | null)[] }[] }[] = [];
  const body = page.items.map((item, index) => {
    const box = place(item.gridPos, page.width);
    const style = `left:${box.left}px;top:${box.top}px;width:${box.width}px;height:${box.height}px`;
    if (item.kind === 'row') return `<div class="row${item.collapsed ? ' collapsed' : ''}" style="${style}">${escape(item.title)}</div>`;
    const id = `panel-${index}`;
    const series = item.series.map((s, i) => ({ ...s, color: PALETTE[i % PALETTE.length]! }));
    panels.push({ id, unit: item.unit, errors: item.errors, series });
    const badge = item.errors.length ? '<span class="error">query error</span>' : '';
    const inside = item.errors.length
      ? `<div class="errortext">${item.errors.map(escape).join('<br>')}</div>`
      : series.length === 0
        ? '<div class="nodata">No data</div>'
        : '';
    const legend = series.map((s) => `<span><i style="background:${s.color}"></i>${escape(s.name)}</span>`).join('');
    return `<div class="panel" id="${id}" style="${style}"><h2>${escape(item.title)}${badge}</h2><div class="chart">${inside}</div>${legend ? `<div class="legend">${legend}</div>` : ''}</div>`;
  });
  const range = `${page.from.toISOString().replace('T', ' ').slice(0, 19)} to ${page.to.toISOString().replace('T', ' ').slice(0, 19)} UTC`;
  const height = HEADER + bottom * (CELL_HEIGHT + GAP) + PAGE_PADDING;
  // </script> inside the data would end the script element early.
  const data = JSON.stringify({ times: page.times, panels }).replace(/</g, '\\u003c');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escape(page.title)}</title>
<style>${css}</style><style>${STYLE} body { width: ${page.width}px; height: ${height}px; position: relative; }</style></head>
<body><header><h1>${escape(page.title)}</h1><span class="range">${escape(range)}</span></header>
${body.join('\n')}
<script>${js}</script>
<script>window.DASHBOARD = ${data};</script>
<script>try {${DRAW}} catch (error) { document.title = 'failed'; throw error; }</script>
</body></html>`;
}
