/**
 * The files `heaplab compare` (and `heaplab report`) write into the output
 * directory, and nothing else:
 *
 *   results.json   CompareResults: the matrix, every run full, every cell's statistics
 *   results.csv    one row per run (RFC 4180 quoting), raw numbers, one column per result value
 *   summary.md     tables ready for a paper: per workload and heap, one row per
 *                  collector with median [95% CI] across repeats, MMU, request
 *                  latency, lower-bound overhead, the failed cells, and the method
 *   report.html    renderHtmlReport (self-contained, SVG charts)
 *
 * Method: every number in summary.md comes from results.json (the cells'
 * Estimates, computed by summarizeCells over the runs), so `heaplab report`
 * re-renders the same text from the same results.json; nothing time- or
 * machine-dependent is added at render time.
 *
 * The directory rule: a new or empty directory, or one holding only the files
 * named above (an earlier compare), is written; any other file in it makes
 * the command refuse (exit 2) before anything runs. Nothing is ever deleted.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../cli/run-command.js';
import { UsageError } from '../vm-core/errors.js';
import { formatBytes } from '../vm-core/sizes.js';
import type { CellSummary, CompareResults, Estimate, MatrixRun } from './compare-types.js';
import { renderHtmlReport } from './html-report.js';
import { formatDuration, formatMs, formatParams, formatPercent } from './summary.js';

export const RESULTS_JSON = 'results.json';
export const RESULTS_CSV = 'results.csv';
export const SUMMARY_MD = 'summary.md';
export const REPORT_HTML = 'report.html';
export const OUTPUT_FILES: readonly string[] = [RESULTS_JSON, RESULTS_CSV, SUMMARY_MD, REPORT_HTML];

/** Refuses an output directory holding anything but our own files (checked before anything runs). */
export function checkOutputDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
  const ours = new Set(OUTPUT_FILES);
  const foreign = readdirSync(dir).filter((name) => !ours.has(name) && !/^\..*\.tmp$/.test(name));
  if (foreign.length > 0) {
    throw new UsageError(`--out ${dir} holds files compare did not write (${foreign.slice(0, 3).join(', ')}); give a new or empty directory`);
  }
}

// ---------------------------------------------------------------- CSV

function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const CSV_COLUMNS = [
  'source', 'collector', 'workload', 'heap_bytes', 'repeat', 'outcome', 'pauses',
  'p50_ms', 'p90_ms', 'p95_ms', 'p99_ms', 'p99.9_ms', 'max_ms', 'total_pause_ms', 'gc_share', 'wall_ms',
  'allocated_bytes', 'iterations', 'reported_iteration', 'message',
];

/** One row per run; failed runs keep their cell and outcome with empty measurements. */
export function resultsCsv(results: CompareResults): string {
  const resultKeys: string[] = [];
  for (const run of results.runs) {
    for (const k of Object.keys(run.report?.result?.values ?? {})) if (!resultKeys.includes(k)) resultKeys.push(k);
  }
  const lines = [[...CSV_COLUMNS, ...resultKeys.map((k) => `result.${k}`)].map(csvField).join(',')];
  for (const run of results.runs) {
    const r = run.report;
    const p = r?.percentiles;
    const extra = r as (typeof r & { iterations?: number; reportedIteration?: number }) | null;
    const row: (string | number | null | undefined)[] = [
      run.cell.source, run.cell.collector, run.cell.workload, run.cell.heapBytes, run.repeat, run.outcome,
      p?.count, p?.p50, p?.p90, p?.p95, p?.p99, p?.p99_9, p?.max, p?.totalMs, r?.gcShare, r?.wallMs,
      r?.allocatedBytes, extra?.iterations, extra?.reportedIteration, run.message,
      ...resultKeys.map((k) => r?.result?.values[k]),
    ];
    lines.push(row.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- Markdown

/** A median with its 95% CI: `1.23 [1.10, 1.40]`; the bare median when the interval is a point. */
export function formatEstimate(e: Estimate, format: (x: number) => string): string {
  const median = format(e.median);
  const low = format(e.low);
  const high = format(e.high);
  return low === median && high === median ? median : `${median} [${low}, ${high}]`;
}

function table(header: string[], rows: string[][]): string {
  const esc = (c: string): string => c.replace(/\|/g, '\\|');
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => esc(r[i]).length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => esc(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** Collectors in matrix order: heaplab's as given, then HotSpot's, then V8. */
function collectorOrder(results: CompareResults): string[] {
  const order = [...results.matrix.collectors, ...results.matrix.hotspot.map((g) => `hotspot-${g}`), ...(results.matrix.v8 ? ['v8'] : [])];
  for (const c of results.cells) if (!order.includes(c.cell.collector)) order.push(c.cell.collector);
  return order;
}

function cellsOf(results: CompareResults, workload: string, heapBytes: number): CellSummary[] {
  const order = collectorOrder(results);
  return results.cells
    .filter((c) => c.cell.workload === workload && c.cell.heapBytes === heapBytes)
    .sort((a, b) => order.indexOf(a.cell.collector) - order.indexOf(b.cell.collector));
}

function collectorLabel(c: CellSummary): string {
  return c.cell.source === 'heaplab' ? c.cell.collector : `${c.cell.collector} (${c.cell.source})`;
}

const MMU_WINDOWS: [number, string][] = [[1, '1 ms'], [10, '10 ms'], [100, '100 ms'], [1000, '1 s']];

function mmuAt(c: CellSummary, windowMs: number): string {
  if (c.mmu.length === 0) return '—';
  let best = c.mmu[0];
  for (const p of c.mmu) if (Math.abs(Math.log(p.windowMs / windowMs)) < Math.abs(Math.log(best.windowMs / windowMs))) best = p;
  return Math.abs(Math.log(best.windowMs / windowMs)) < 0.01 ? formatPercent(best.mmu) : '—';
}

function sameCell(a: CellSummary['cell'], b: CellSummary['cell']): boolean {
  return a.source === b.source && a.collector === b.collector && a.workload === b.workload && a.heapBytes === b.heapBytes;
}

function pauseTable(cells: CellSummary[], runs: MatrixRun[]): string {
  const ms = (e: Estimate): string => formatEstimate(e, formatMs);
  const rows = cells.map((c) => {
    const ok = c.runs - c.failed;
    const runsText = `${ok}/${c.runs}`;
    if (ok === 0) {
      const outcomes = [...new Set(runs.filter((r) => sameCell(r.cell, c.cell) && r.outcome !== 'ok').map((r) => r.outcome))];
      return [collectorLabel(c), runsText, outcomes.join(', ') || 'failed', '', '', '', '', '', '', ''];
    }
    return [
      collectorLabel(c), runsText,
      formatEstimate(c.pauseCount, (x) => String(Math.round(x * 10) / 10)),
      ms(c.p50), ms(c.p95), ms(c.p99), ms(c.max),
      formatEstimate(c.gcShare, formatPercent),
      formatEstimate(c.wallMs, formatDuration),
      c.lowerBoundOverhead === null ? '—' : `${c.lowerBoundOverhead.toFixed(3)}×`,
    ];
  });
  return table(['collector', 'ok runs', 'pauses', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'GC share', 'wall', 'LBO'], rows);
}

function mmuTable(cells: CellSummary[]): string {
  const rows = cells.filter((c) => c.runs > c.failed).map((c) => [collectorLabel(c), ...MMU_WINDOWS.map(([w]) => mmuAt(c, w))]);
  return table(['collector', ...MMU_WINDOWS.map(([, label]) => `MMU ${label}`)], rows);
}

function latencyTable(cells: CellSummary[]): string | null {
  const withLatency = cells.filter((c) => c.latency.length > 0);
  if (withLatency.length === 0) return null;
  const rows: string[][] = [];
  for (const c of withLatency) {
    for (const l of c.latency) {
      rows.push([collectorLabel(c), l.kind, formatMs(l.p50), formatMs(l.p90), formatMs(l.p99), formatMs(l.p99_9), formatMs(l.max)]);
    }
  }
  return table(['collector', 'latency', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms'], rows);
}

/** The failed runs, one line per cell and outcome (repeats listed), with the first run's message. */
function failedList(runs: MatrixRun[]): string[] {
  const groups = new Map<string, MatrixRun[]>();
  for (const r of runs) {
    if (r.outcome === 'ok') continue;
    const id = `${r.cell.source}\u0000${r.cell.collector}\u0000${r.cell.workload}\u0000${r.cell.heapBytes}\u0000${r.outcome}`;
    groups.set(id, [...(groups.get(id) ?? []), r]);
  }
  if (groups.size === 0) return ['None: every run completed.'];
  return [...groups.values()].map((group) => {
    const r = group[0];
    const where = `${r.cell.collector}${r.cell.source === 'heaplab' ? '' : ` (${r.cell.source})`} on ${r.cell.workload}, heap ${formatBytes(r.cell.heapBytes)}`;
    const repeats = `repeat${group.length > 1 ? 's' : ''} ${group.map((x) => x.repeat).join(', ')}`;
    return `- ${where}: **${r.outcome}** (${repeats})${r.message ? ` — ${r.message.replace(/\s*\n\s*/g, ' ')}` : ''}`;
  });
}

/** The paper-ready summary. Deterministic in results.json alone. */
export function summaryMarkdown(results: CompareResults): string {
  const m = results.matrix;
  const firstReport = results.runs.find((r) => r.report !== null && r.cell.source === 'heaplab')?.report ?? null;
  const env = firstReport?.environment;
  const out: string[] = ['# heaplab compare', ''];
  out.push(`Created ${results.createdAt}.`);
  if (env) {
    out.push(`heaplab ${env.heaplabVersion}, Node ${env.nodeVersion} (V8 ${env.v8Version}), ${env.cpuModel}, ${env.cores} cores, ${env.platform}/${env.arch}.`);
  }
  out.push('');
  out.push(`Matrix: collectors ${m.collectors.join(', ') || '—'}${m.hotspot.length ? `; HotSpot ${m.hotspot.join(', ')}` : ''}${m.v8 ? '; V8' : ''}; ` +
    `workloads ${m.workloads.join(', ')}; heaps ${m.heaps.map(formatBytes).join(', ')}; ${m.repeat} repeat(s); ${results.runs.length} runs.`);
  const given = Object.entries(m.params);
  if (given.length) out.push(`Parameters given: ${given.map(([k, v]) => `${k}=${v}`).join(' ')} (others at their defaults).`);
  const options = Object.entries(m.gcOptions ?? {}).map(([c, o]) => `${c} ${Object.entries(o).map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (m.hotspotPauseGoalMs !== undefined) options.push(`HotSpot -XX:MaxGCPauseMillis=${m.hotspotPauseGoalMs}`);
  if (options.length) out.push(`Collector options given: ${options.join('; ')} (others at their defaults).`);
  out.push('');
  out.push('## Method', '');
  out.push(`- **Warm-up (DaCapo-style):** each run executes the workload ${m.iterations} time(s) in one fresh Node process, ` +
    'each iteration on a fresh heap with the same collector; only the **last iteration** is measured and reported.');
  out.push('- Each heaplab run is a fresh Node process (clean JIT, one collector per process); runs are interleaved repeat by repeat.');
  out.push(m.pretouch
    ? '- **Pre-touch:** every heap page was touched before each run (heaplab `--pretouch`, HotSpot `-XX:+AlwaysPreTouch`; V8 has no such flag), so no first-touch page fault lands in a pause.'
    : '- **No pre-touch:** heap pages are first touched while the workload runs. heaplab\'s mutator pays those page faults (pauses copy into regions used before: docs/methodology.md, "First touch of heap memory"); HotSpot pays them in pauses that copy into old regions never used before. `compare --pretouch` removes them for both.');
  out.push('- Cells: median across the successful repeats, with its 95% confidence interval in brackets; pause percentiles are per run (HdrHistogram, 3 significant digits).');
  out.push('- GC share: total pause time / wall time. Wall: the workload\'s wall-clock time, pauses included.');
  out.push('- LBO: lower-bound overhead (Cai et al., ISPASS 2022): median wall time / the smallest (wall − pause time) of any collector on the same workload and heap.');
  out.push('- MMU: minimum mutator utilisation (Cheng & Blelloch 2001) over all windows of the given length.');
  out.push('- Request latency (workloads made of requests): simple and metered latency as the DaCapo Chopin harness defines them, pauses included.');
  out.push('');
  for (const workload of m.workloads) {
    for (const heapBytes of m.heaps) {
      const cells = cellsOf(results, workload, heapBytes);
      if (cells.length === 0) continue;
      const params = results.runs.find((r) => r.cell.workload === workload && r.report)?.report?.configuration.workload.params;
      out.push(`## ${workload}, heap ${formatBytes(heapBytes)}`, '');
      if (params) out.push(`Parameters: ${formatParams(params)}.`, '');
      out.push(pauseTable(cells, results.runs), '');
      if (cells.some((c) => c.mmu.length > 0 && c.runs > c.failed)) out.push(mmuTable(cells), '');
      const latency = latencyTable(cells);
      if (latency) out.push('Request latency (ms):', '', latency, '');
    }
  }
  out.push('## Failed cells', '');
  out.push(...failedList(results.runs), '');
  return out.join('\n');
}

// ---------------------------------------------------------------- writing

/**
 * Writes results.json (unless `withJson` is false), results.csv, summary.md
 * and report.html; returns the paths. The page is rendered first (charts are
 * rendered asynchronously), so a rendering failure writes nothing.
 */
export async function writeCompareOutputs(dir: string, results: CompareResults, withJson = true): Promise<string[]> {
  const html = await renderHtmlReport(results);
  const written: string[] = [];
  const write = (name: string, text: string): void => {
    const path = join(dir, name);
    writeFileAtomic(path, text);
    written.push(path);
  };
  if (withJson) write(RESULTS_JSON, `${JSON.stringify(results, null, 2)}\n`);
  write(RESULTS_CSV, resultsCsv(results));
  write(SUMMARY_MD, summaryMarkdown(results));
  write(REPORT_HTML, html);
  return written;
}
