/**
 * report.html: one self-contained page for a comparison. Inline CSS, the
 * charts as inline SVG (reports/charts.ts), no scripts, no external fonts,
 * images or style sheets, so it opens anywhere, offline, and can be mailed.
 *
 *   title and when
 *   the matrix: collectors (heaplab, HotSpot, V8), workloads, heaps, repeats,
 *               iterations and the warm-up policy, parameters, environment
 *   the summary table: per workload x heap x collector, median [95% CI] across
 *               the successful repeats of p50/p95/p99/max pause, GC share,
 *               wall time; lower-bound overhead; ok/total runs
 *   request latency (where a workload has requests)
 *   failed runs, with their outcome and message
 *   the charts
 *
 * Every piece of text from results.json (names, messages, parameters) is
 * escaped: a collector may be a user's module path and a message is whatever
 * a crashed process printed.
 *
 * Rendering the charts is asynchronous (vega's toSVG), so renderHtmlReport
 * returns a Promise; htmlPage assembles the page synchronously from charts
 * rendered beforehand.
 */
import { formatBytes } from '../vm-core/sizes.js';
import { type Chart, renderCharts } from './charts.js';
import type { CellSummary, CompareResults, Estimate, MatrixRun } from './compare-types.js';
import { formatDuration, formatMs, formatPercent } from './summary.js';

/** Escapes text for HTML element content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;'));
}

const esc = escapeHtml;

function estimateHtml(e: Estimate, format: (x: number) => string): string {
  if (![e.median, e.low, e.high].every(Number.isFinite)) return '—';
  const median = format(e.median);
  const low = format(e.low);
  const high = format(e.high);
  if (low === median && high === median) return esc(median);
  return `${esc(median)}<br><span class="ci">[${esc(low)}, ${esc(high)}]</span>`;
}

function collectorOrder(results: CompareResults): string[] {
  const m = results.matrix;
  const order = [...m.collectors, ...m.hotspot.map((g) => `hotspot-${g}`), ...(m.v8 ? ['v8'] : [])];
  for (const c of results.cells) if (!order.includes(c.cell.collector)) order.push(c.cell.collector);
  return order;
}

function collectorLabel(c: { collector: string; source: string }): string {
  return c.source === 'heaplab' ? c.collector : `${c.collector} (${c.source})`;
}

/** Cells grouped by workload and heap, in matrix order, collectors in matrix order within a group. */
function cellGroups(results: CompareResults): { workload: string; heapBytes: number; cells: CellSummary[] }[] {
  const order = collectorOrder(results);
  const workloads = [...results.matrix.workloads];
  const heaps = [...results.matrix.heaps];
  for (const c of results.cells) {
    if (!workloads.includes(c.cell.workload)) workloads.push(c.cell.workload);
    if (!heaps.includes(c.cell.heapBytes)) heaps.push(c.cell.heapBytes);
  }
  const out: { workload: string; heapBytes: number; cells: CellSummary[] }[] = [];
  for (const workload of workloads) {
    for (const heapBytes of heaps) {
      const cells = results.cells
        .filter((c) => c.cell.workload === workload && c.cell.heapBytes === heapBytes)
        .sort((a, b) => order.indexOf(a.cell.collector) - order.indexOf(b.cell.collector));
      if (cells.length > 0) out.push({ workload, heapBytes, cells });
    }
  }
  return out;
}

function warmUpText(iterations: number): string {
  if (iterations <= 1) return 'none: each run executes the workload once, and that iteration is measured';
  return `DaCapo-style: each run executes the workload ${iterations} times in one fresh Node process; ` +
    `the first ${iterations - 1} are warm-up, only the last iteration is measured and reported`;
}

function matrixSection(results: CompareResults): string {
  const m = results.matrix;
  const firstReport = results.runs.find((r) => r.report !== null && r.cell.source === 'heaplab')?.report ?? null;
  const env = firstReport?.environment;
  const rows: [string, string][] = [
    ['heaplab collectors', m.collectors.join(', ') || '—'],
    ['HotSpot collectors', m.hotspot.length ? m.hotspot.join(', ') : '—'],
    ['V8', m.v8 ? 'yes (native-JS ports, --trace-gc)' : '—'],
    ['workloads', m.workloads.join(', ') || '—'],
    ['heap sizes', m.heaps.map(formatBytes).join(', ') || '—'],
    ['repeats', `${m.repeat} per cell, each in a fresh process (${results.runs.length} runs in all)`],
    ['iterations', String(m.iterations)],
    ['warm-up', warmUpText(m.iterations)],
    ['parameters', Object.entries(m.params).map(([k, v]) => `${k}=${v}`).join(' ') || 'workload defaults'],
  ];
  if (env) {
    rows.push(['environment', `heaplab ${env.heaplabVersion}, Node ${env.nodeVersion} (V8 ${env.v8Version}), ${env.cpuModel}, ${env.cores} cores, ${env.platform}/${env.arch}`]);
  }
  rows.push(['created', results.createdAt]);
  return `<section>\n<h2>Matrix</h2>\n<dl class="matrix">\n${rows.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('\n')}\n</dl>\n</section>`;
}

const SUMMARY_HEADER = ['workload', 'heap', 'collector', 'ok runs', 'pauses', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'GC share', 'wall', 'LBO'];

function summaryRow(c: CellSummary, group: { workload: string; heapBytes: number }): string {
  const ok = c.runs - c.failed;
  const lead = [
    `<td class="nowrap">${esc(group.workload)}</td>`,
    `<td class="num">${esc(formatBytes(group.heapBytes))}</td>`,
    `<th scope="row">${esc(collectorLabel(c.cell))}</th>`,
    `<td class="num">${ok}/${c.runs}</td>`,
  ];
  const cls = c.failed > 0 ? (ok === 0 ? ' class="failed"' : ' class="partial"') : '';
  if (ok === 0) return `<tr${cls}>${lead.join('')}<td colspan="8" class="failed-note">all runs failed</td></tr>`;
  const ms = (e: Estimate): string => estimateHtml(e, formatMs);
  const cells = [
    estimateHtml(c.pauseCount, (x) => String(Math.round(x * 10) / 10)),
    ms(c.p50), ms(c.p95), ms(c.p99), ms(c.max),
    estimateHtml(c.gcShare, formatPercent),
    estimateHtml(c.wallMs, formatDuration),
    c.lowerBoundOverhead === null || !Number.isFinite(c.lowerBoundOverhead) ? '—' : esc(`${c.lowerBoundOverhead.toFixed(3)}×`),
  ].map((h) => `<td class="num">${h}</td>`);
  return `<tr${cls}>${lead.join('')}${cells.join('')}</tr>`;
}

function summarySection(results: CompareResults): string {
  const rows: string[] = [];
  for (const group of cellGroups(results)) for (const c of group.cells) rows.push(summaryRow(c, group));
  const body = rows.length ? rows.join('\n') : `<tr><td colspan="${SUMMARY_HEADER.length}">no cells</td></tr>`;
  return `<section>
<h2>Pause times</h2>
<p class="note">Median across the successful repeats, with its 95% confidence interval in brackets (omitted when it is a single value).
Pause percentiles are per run (HdrHistogram, 3 significant digits). GC share: total pause / wall time. Wall: the measured iteration, pauses included.
LBO: lower-bound overhead (Cai et al., ISPASS 2022): wall time / the smallest (wall &minus; pause time) of any collector on the same workload and heap.</p>
<table class="summary">
<thead><tr>${SUMMARY_HEADER.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${body}
</tbody>
</table>
</section>`;
}

function latencySection(results: CompareResults): string {
  const rows: string[] = [];
  for (const group of cellGroups(results)) {
    for (const c of group.cells) {
      for (const l of c.latency) {
        rows.push(`<tr><td>${esc(group.workload)}</td><td class="num">${esc(formatBytes(group.heapBytes))}</td><th scope="row">${esc(collectorLabel(c.cell))}</th>` +
          `<td>${esc(l.kind)}</td>${[l.p50, l.p90, l.p99, l.p99_9, l.max].map((v) => `<td class="num">${esc(formatMs(v))}</td>`).join('')}</tr>`);
      }
    }
  }
  if (rows.length === 0) return '';
  const header = ['workload', 'heap', 'collector', 'latency', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'];
  return `<section>
<h2>Request latency</h2>
<p class="note">Simple and metered latency as the DaCapo Chopin harness defines them: what users of the application would feel, pauses included.</p>
<table class="summary">
<thead><tr>${header.map((h) => `<th scope="col">${esc(h)}</th>`).join('')}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</section>`;
}

function failedSection(runs: MatrixRun[]): string {
  const failed = runs.filter((r) => r.outcome !== 'ok');
  const items = failed.map((r) => {
    const where = `${collectorLabel(r.cell)} on ${r.cell.workload}, heap ${formatBytes(r.cell.heapBytes)}, repeat ${r.repeat}`;
    const message = r.message ?? r.report?.error;
    return `<li>${esc(where)}: <strong>${esc(r.outcome)}</strong>${message ? ` &mdash; <span class="message">${esc(message)}</span>` : ''}</li>`;
  });
  return `<section>
<h2>Failed runs</h2>
${items.length ? `<ul class="failed-runs">\n${items.join('\n')}\n</ul>` : '<p>None: every run completed.</p>'}
</section>`;
}

function chartsSection(charts: Chart[]): string {
  if (charts.length === 0) return '<section>\n<h2>Charts</h2>\n<p>No data to chart.</p>\n</section>';
  // the SVG carries the title itself; the figure names it for assistive technology
  const figures = charts.map((c) => `<figure class="chart" role="img" aria-label="${esc(c.title)}">\n${c.svg}\n</figure>`);
  return `<section>\n<h2>Charts</h2>\n<div class="charts">\n${figures.join('\n')}\n</div>\n</section>`;
}

const STYLE = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1500px; padding: 0 1.5rem; color: #222; background: #fff; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; margin-top: 2rem; }
.subtitle, .note { color: #555; font-size: 0.9rem; }
dl.matrix { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 1.2rem; font-size: 0.95rem; }
dl.matrix dt { font-weight: 600; }
dl.matrix dd { margin: 0; overflow-wrap: anywhere; }
table.summary { border-collapse: collapse; font-size: 0.88rem; margin-top: 0.6rem; }
table.summary th, table.summary td { border-bottom: 1px solid #e4e4e4; padding: 0.25rem 0.6rem; text-align: left; vertical-align: top; }
table.summary thead th { border-bottom: 2px solid #999; background: #f6f6f6; white-space: nowrap; }
table.summary tbody th { font-weight: 600; overflow-wrap: anywhere; max-width: 18rem; }
table.summary td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ci { color: #777; font-size: 0.85em; }
table.summary td.nowrap { white-space: nowrap; }
tr.failed { background: #fdecea; }
tr.partial { background: #fff8e1; }
td.failed-note { color: #b71c1c; font-weight: 600; }
ul.failed-runs { font-size: 0.9rem; }
.message { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.85em; white-space: pre-wrap; overflow-wrap: anywhere; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5rem; }
figure.chart { margin: 0; padding: 0.5rem; border: 1px solid #e4e4e4; border-radius: 4px; background: #fff; max-width: 100%; }
figure.chart svg { display: block; max-width: 100%; height: auto; }
`;

/** The page from already rendered charts (synchronous). */
export function htmlPage(results: CompareResults, charts: Chart[]): string {
  const title = `heaplab compare: ${results.matrix.workloads.join(', ') || 'no workloads'}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="heaplab">
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>${esc(title)}</h1>
<p class="subtitle">${esc(`${results.cells.length} cells, ${results.runs.length} runs, created ${results.createdAt}`)}</p>
</header>
${matrixSection(results)}
${summarySection(results)}
${latencySection(results)}
${failedSection(results.runs)}
${chartsSection(charts)}
</body>
</html>
`;
}

/** The whole self-contained page: renders the charts (asynchronously), then the page. */
export async function renderHtmlReport(results: CompareResults): Promise<string> {
  return htmlPage(results, await renderCharts(results));
}
