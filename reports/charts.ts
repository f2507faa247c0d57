/**
 * The charts of a comparison, as SVG strings: vega-lite specs compiled to
 * vega (`compile`) and rendered in Node by a headless vega View (renderer
 * 'none', `toSVG()`): no canvas, no browser, no fonts loaded. Text widths are
 * vega's estimate, which is close enough for axis labels.
 *
 * For each workload x heap of the matrix (in matrix order), in this order:
 *
 *   spectrum   pause-time percentile spectrum, as HdrHistogram plots it: x is
 *              1/(1-p) on a log scale (labels 0%, 90%, 99%, 99.9%, ...), y the
 *              pause in ms; one line per collector, over the pauses of all its
 *              successful repeats (exact order statistics, nearest rank). A
 *              line ends where the data does: at p = 1 - 1/n it is the max.
 *   mmu        minimum mutator utilisation (the cells' median curves) over
 *              windows of 1 ms .. 1 s, log scale; y from 0 to 1
 *   timeline   heap occupancy after each GC (top) and pause durations (bottom)
 *              over time, for one representative run per collector: the repeat
 *              with the median wall time
 *   phases     mean milliseconds per pause spent in each phase (stacked bars,
 *              one per collector; phases from the pause records; imported
 *              runs have none and are left out)
 *
 * A chart with no data (every run failed, no pauses) is left out. Each
 * collector keeps one colour across all charts. The ids vega puts in an SVG
 * (clip paths) are made unique per chart so that several SVGs can be inlined
 * in one HTML page.
 */
import { parse, View, logger, Error as VegaErrorLevel } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { formatBytes } from '../vm-core/sizes.js';
import type { CellKey, CellSummary, CompareResults } from './compare-types.js';
import type { RunReport } from './run-report.js';

export interface Chart {
  title: string;
  svg: string;
}

const MIB = 1024 * 1024;
const CHART_WIDTH = 520;
const CHART_HEIGHT = 260;
/** tableau10: enough distinct colours for a matrix; they repeat beyond ten collectors. */
const COLLECTOR_COLORS = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac'];

/** One workload x heap of the matrix: the cells (one per collector) and their runs. */
interface Group {
  workload: string;
  heapBytes: number;
  cells: CellSummary[];
}

function sameCell(a: CellKey, b: CellKey): boolean {
  return a.collector === b.collector && a.workload === b.workload && a.heapBytes === b.heapBytes && a.source === b.source;
}

function okReports(results: CompareResults, cell: CellKey): RunReport[] {
  const out: RunReport[] = [];
  for (const run of results.runs) {
    if (run.outcome === 'ok' && run.report !== null && sameCell(run.cell, cell)) out.push(run.report);
  }
  return out;
}

function groups(results: CompareResults): Group[] {
  const byKey = new Map<string, Group>();
  for (const cell of results.cells) {
    const key = `${cell.cell.workload}\u0000${cell.cell.heapBytes}`;
    let group = byKey.get(key);
    if (!group) {
      group = { workload: cell.cell.workload, heapBytes: cell.cell.heapBytes, cells: [] };
      byKey.set(key, group);
    }
    group.cells.push(cell);
  }
  const order = results.matrix.workloads;
  const rank = (w: string): number => (order.includes(w) ? order.indexOf(w) : order.length);
  return [...byKey.values()].sort((a, b) => rank(a.workload) - rank(b.workload) || a.workload.localeCompare(b.workload) || a.heapBytes - b.heapBytes);
}

/** Collector names in a stable order (the matrix's heaplab collectors first), for a colour scale shared by every chart. */
function collectorDomain(results: CompareResults): string[] {
  const names: string[] = [];
  const add = (name: string): void => {
    if (!names.includes(name)) names.push(name);
  };
  for (const c of results.matrix.collectors) add(c);
  for (const g of results.matrix.hotspot) add(`hotspot-${g}`);
  if (results.matrix.v8) add('v8');
  for (const cell of results.cells) add(cell.cell.collector);
  for (const run of results.runs) add(run.cell.collector);
  return names;
}

type Colors = { domain: string[]; range: string[] };

function colorScale(domain: string[]): Colors {
  return { domain, range: domain.map((_, i) => COLLECTOR_COLORS[i % COLLECTOR_COLORS.length]) };
}

/** The shared colour scale restricted to the collectors a chart shows (so its legend lists only those), colours unchanged. */
function colorsFor(all: Colors, present: Iterable<string>): Colors {
  const set = new Set(present);
  const domain: string[] = [];
  const range: string[] = [];
  all.domain.forEach((name, i) => {
    if (set.has(name)) {
      domain.push(name);
      range.push(all.range[i]);
    }
  });
  return { domain, range };
}

// ---- data --------------------------------------------------------------------------

/** The largest 1/(1-p) the spectrum axis shows: at least 10^4 (99.99%), more when there are more pauses. */
function spectrumLimit(maxCount: number): number {
  let limit = 1e4;
  while (limit < maxCount) limit *= 10;
  return limit;
}

/** Points of a percentile spectrum: nearest-rank percentiles at 1/(1-p) = 10^(k/20), then the max at 1/(1-p) = n. */
export function spectrumPoints(durationsMs: readonly number[]): { x: number; percentile: number; ms: number }[] {
  const n = durationsMs.length;
  if (n === 0) return [];
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))];
  const points: { x: number; percentile: number; ms: number }[] = [];
  for (let k = 0; ; k++) {
    const x = 10 ** (k / 20);
    if (x >= n) break;
    const p = 1 - 1 / x;
    points.push({ x, percentile: p * 100, ms: at(p) });
  }
  points.push({ x: n, percentile: 100, ms: sorted[n - 1] });
  return points;
}

/** The repeat with the median wall time (the lower of the two middle ones for an even count). */
export function representativeRun(reports: readonly RunReport[]): RunReport | null {
  if (reports.length === 0) return null;
  const sorted = [...reports].sort((a, b) => a.wallMs - b.wallMs);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

// ---- specs -------------------------------------------------------------------------

function groupLabel(g: Group): string {
  return `${g.workload}, heap ${formatBytes(g.heapBytes)}`;
}

const BASE_CONFIG = {
  font: 'sans-serif',
  /** No per-mark aria descriptions: they would repeat every data point as text in a static SVG. */
  aria: false,
  background: 'white',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 320, orient: 'bottom' as const, direction: 'horizontal' as const, columns: 3 },
  title: { fontSize: 14, anchor: 'start' as const },
};

function spectrumSpec(results: CompareResults, g: Group, colors: Colors): TopLevelSpec | null {
  const values: { collector: string; x: number; percentile: number; ms: number }[] = [];
  let maxCount = 0;
  for (const cell of g.cells) {
    const durations = okReports(results, cell.cell).flatMap((r) => r.pauses.map((p) => p.durationMs));
    maxCount = Math.max(maxCount, durations.length);
    for (const point of spectrumPoints(durations)) values.push({ collector: cell.cell.collector, ...point });
  }
  if (values.length === 0) return null;
  const limit = spectrumLimit(maxCount);
  const ticks: number[] = [];
  for (let t = 1; t <= limit; t *= 10) ticks.push(t);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Pause-time percentile spectrum: ${groupLabel(g)}`, subtitle: 'all pauses of the successful repeats, merged' },
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    config: BASE_CONFIG,
    data: { values },
    mark: { type: 'line', point: { size: 18, filled: true }, strokeWidth: 1.5, interpolate: 'step-after', clip: true },
    encoding: {
      x: {
        field: 'x',
        type: 'quantitative',
        title: 'percentile',
        scale: { type: 'log', domain: [1, limit] },
        axis: { values: ticks, labelExpr: "datum.value <= 1 ? '0%' : format(100 - 100 / datum.value, '.6~r') + '%'", grid: true },
      },
      y: { field: 'ms', type: 'quantitative', title: 'pause (ms)', scale: { zero: true } },
      color: { field: 'collector', type: 'nominal', title: 'collector', scale: colorsFor(colors, values.map((v) => v.collector)) },
    },
  } as TopLevelSpec;
}

function mmuSpec(g: Group, colors: Colors): TopLevelSpec | null {
  const values: { collector: string; windowMs: number; mmu: number }[] = [];
  for (const cell of g.cells) {
    for (const point of cell.mmu) {
      if (point.windowMs > 0 && Number.isFinite(point.mmu)) values.push({ collector: cell.cell.collector, windowMs: point.windowMs, mmu: point.mmu });
    }
  }
  if (values.length === 0) return null;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Minimum mutator utilisation: ${groupLabel(g)}`, subtitle: 'median over repeats per window (Cheng & Blelloch)' },
    width: CHART_WIDTH,
    height: CHART_HEIGHT,
    config: BASE_CONFIG,
    data: { values },
    mark: { type: 'line', point: { size: 18, filled: true }, strokeWidth: 1.5, clip: true },
    encoding: {
      x: {
        field: 'windowMs',
        type: 'quantitative',
        title: 'window (ms)',
        scale: { type: 'log', domain: [1, 1000] },
        axis: { values: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000], format: '~g', grid: true },
      },
      y: { field: 'mmu', type: 'quantitative', title: 'minimum mutator utilisation', scale: { domain: [0, 1] }, axis: { format: '.0%' } },
      color: { field: 'collector', type: 'nominal', title: 'collector', scale: colorsFor(colors, values.map((v) => v.collector)) },
    },
  } as TopLevelSpec;
}

function timelineSpec(results: CompareResults, g: Group, colors: Colors): TopLevelSpec | null {
  const occupancy: { collector: string; s: number; mib: number }[] = [];
  const pauses: { collector: string; s: number; ms: number; kind: string }[] = [];
  let endS = 0;
  for (const cell of g.cells) {
    const report = representativeRun(okReports(results, cell.cell));
    if (!report) continue;
    const label = cell.cell.collector;
    for (const o of report.occupancy) occupancy.push({ collector: label, s: o.timeMs / 1000, mib: o.usedBytes / MIB });
    for (const p of report.pauses) pauses.push({ collector: label, s: p.startMs / 1000, ms: p.durationMs, kind: p.kind });
    endS = Math.max(endS, report.wallMs / 1000);
  }
  if (occupancy.length === 0 && pauses.length === 0) return null;
  for (const o of occupancy) endS = Math.max(endS, o.s);
  for (const p of pauses) endS = Math.max(endS, p.s);
  const x = { field: 's', type: 'quantitative', title: 'time since start (s)', scale: { domain: [0, endS > 0 ? endS : 1], nice: false } };
  const color = { field: 'collector', type: 'nominal', title: 'collector', scale: colorsFor(colors, [...occupancy, ...pauses].map((v) => v.collector)) };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Heap after GC and pauses over time: ${groupLabel(g)}`, subtitle: 'the repeat with the median wall time, per collector' },
    config: BASE_CONFIG,
    vconcat: [
      {
        width: CHART_WIDTH,
        height: 170,
        data: { values: occupancy },
        layer: [
          {
            mark: { type: 'line', point: { size: 14, filled: true }, strokeWidth: 1.2, clip: true },
            encoding: {
              x: { ...x, axis: { title: null, labels: true } },
              y: { field: 'mib', type: 'quantitative', title: 'heap after GC (MiB)', scale: { domain: [0, g.heapBytes / MIB] } },
              color,
            },
          },
        ],
      },
      {
        width: CHART_WIDTH,
        height: 130,
        data: { values: pauses },
        mark: { type: 'point', filled: true, size: 22, opacity: 0.75, clip: true },
        encoding: {
          x,
          y: { field: 'ms', type: 'quantitative', title: 'pause (ms)', scale: { zero: true } },
          color,
        },
      },
    ],
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

function phasesSpec(results: CompareResults, g: Group): TopLevelSpec | null {
  const values: { collector: string; phase: string; ms: number; order: number }[] = [];
  const phaseOrder: string[] = [];
  for (const cell of g.cells) {
    const totals = new Map<string, number>();
    let count = 0;
    for (const report of okReports(results, cell.cell)) {
      for (const pause of report.pauses) {
        count++;
        for (const [phase, ms] of Object.entries(pause.phases)) {
          if (!phaseOrder.includes(phase)) phaseOrder.push(phase);
          totals.set(phase, (totals.get(phase) ?? 0) + ms);
        }
      }
    }
    if (count === 0 || totals.size === 0) continue;
    for (const [phase, total] of totals) values.push({ collector: cell.cell.collector, phase, ms: total / count, order: 0 });
  }
  if (values.length === 0) return null;
  for (const v of values) v.order = phaseOrder.indexOf(v.phase);
  const collectors = [...new Set(values.map((v) => v.collector))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Pause phases: ${groupLabel(g)}`, subtitle: 'mean milliseconds per pause spent in each phase' },
    width: CHART_WIDTH,
    height: Math.max(60, 34 * collectors.length),
    config: BASE_CONFIG,
    data: { values },
    mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      y: { field: 'collector', type: 'nominal', title: 'collector', sort: collectors, axis: { labelLimit: 200 } },
      x: { field: 'ms', type: 'quantitative', title: 'mean ms per pause', stack: 'zero' },
      color: { field: 'phase', type: 'nominal', title: 'phase', sort: phaseOrder, scale: { scheme: 'tableau20' } },
      order: { field: 'order', type: 'quantitative' },
    },
  } as TopLevelSpec;
}

// ---- rendering ---------------------------------------------------------------------

const quiet = logger(VegaErrorLevel);

/** Compiles a vega-lite spec and renders it to an SVG string, headless. */
export async function renderSpec(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile(spec, { logger: quiet }).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none', logLevel: VegaErrorLevel });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Prefixes every id in an SVG (and the url(#id) / href="#id" references to it) so several SVGs can share a page. */
export function uniquifySvgIds(svg: string, prefix: string): string {
  const ids = new Set<string>();
  for (const m of svg.matchAll(/\sid="([^"]+)"/g)) ids.add(m[1]);
  if (ids.size === 0) return svg;
  return svg
    .replace(/(\sid=")([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}${prefix}${id}${b}` : all))
    .replace(/url\(#([^)]+)\)/g, (all, id: string) => (ids.has(id) ? `url(#${prefix}${id})` : all))
    .replace(/(href=")#([^"]+)(")/g, (all, a: string, id: string, b: string) => (ids.has(id) ? `${a}#${prefix}${id}${b}` : all));
}

/** The specs of every chart of a comparison, in page order (exported for tests and for re-use). */
export function chartSpecs(results: CompareResults): { title: string; spec: TopLevelSpec }[] {
  const colors = colorScale(collectorDomain(results));
  const out: { title: string; spec: TopLevelSpec }[] = [];
  for (const g of groups(results)) {
    g.cells.sort((a, b) => colors.domain.indexOf(a.cell.collector) - colors.domain.indexOf(b.cell.collector));
    const label = groupLabel(g);
    const specs: [string, TopLevelSpec | null][] = [
      [`Pause-time percentile spectrum: ${label}`, spectrumSpec(results, g, colors)],
      [`Minimum mutator utilisation: ${label}`, mmuSpec(g, colors)],
      [`Heap after GC and pauses over time: ${label}`, timelineSpec(results, g, colors)],
      [`Pause phases: ${label}`, phasesSpec(results, g)],
    ];
    for (const [title, spec] of specs) if (spec) out.push({ title, spec });
  }
  return out;
}

/** Renders every chart of a comparison to SVG (vega's toSVG is asynchronous, hence the Promise). */
export async function renderCharts(results: CompareResults): Promise<Chart[]> {
  const charts: Chart[] = [];
  let index = 0;
  for (const { title, spec } of chartSpecs(results)) {
    const svg = await renderSpec(spec);
    charts.push({ title, svg: uniquifySvgIds(svg, `hl${index++}-`) });
  }
  return charts;
}
