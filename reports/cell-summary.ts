/**
 * Per-cell statistics of a comparison: the runs of one cell (collector x
 * workload x heap x source) across its repeats, reduced to what the tables and
 * charts of `heaplab compare` show.
 *
 *   runs, failed        all runs of the cell; those that did not produce a
 *                       usable report (outcome not 'ok' - out of memory,
 *                       crashed, skipped - or a report whose own outcome is
 *                       not 'ok')
 *   pauseCount ... max  over the successful repeats, each run's own numbers
 *   gcShare, wallMs     (its report's percentiles, gcMs, gcShare, wallMs):
 *                       median and 95% CI of the median (statistics.ts)
 *   merged              the pause durations of all successful repeats in one
 *                       HdrHistogram (recording every value into one histogram
 *                       is what merging the per-run histograms gives), through
 *                       the same pausePercentiles as a single run
 *   mmu                 each repeat's exact MMU curve (mmu.ts, Cheng & Blelloch
 *                       2001), then the median per window
 *   lowerBoundOverhead  Cai et al. ISPASS 2022 (lower-bound.ts), over all cells
 *   latency             when runs carry request latency (a `latency` field of
 *                       LatencySummary[] on the MatrixRun or on its report),
 *                       per kind the median of each field across repeats
 *
 * HotSpot and V8 runs are imported into the same RunReport shape and are
 * treated exactly like heaplab's.
 *
 * MMU time base: pause start times count from the VM's start, wallMs from the
 * workload's start a little later, so a run's last pause may end past wallMs;
 * the MMU timeline is [0, max(wallMs, last pause end)] so that no pause is
 * cut off.
 *
 * Cells appear in the order their first run appears in `runs`.
 */
import type { CellSummary, Estimate, LatencySummary, MatrixRun, MmuPoint } from './compare-types.js';
import { cellKeyId, lowerBoundOverheads } from './lower-bound.js';
import { medianMmuCurve, mmuCurve } from './mmu.js';
import { pausePercentiles } from './percentiles.js';
import type { RunReport } from './run-report.js';
import { estimate, median } from './statistics.js';

export { cellKeyId } from './lower-bound.js';

/** A run that produced a usable report. */
export function isSuccessfulRun(run: MatrixRun): run is MatrixRun & { report: RunReport } {
  return run.outcome === 'ok' && run.report !== null && run.report.outcome === 'ok';
}

/** The request latency a run carries, if any: on the MatrixRun, or on its report. */
export function runLatency(run: MatrixRun): LatencySummary[] | undefined {
  const own = (run as MatrixRun & { latency?: unknown }).latency;
  if (Array.isArray(own)) return own as LatencySummary[];
  const onReport = (run.report as (RunReport & { latency?: unknown }) | null)?.latency;
  if (Array.isArray(onReport)) return onReport as LatencySummary[];
  return undefined;
}

/** The length of a run's MMU timeline (see the file header). */
export function mmuTimelineMs(report: RunReport): number {
  let end = report.wallMs;
  for (const p of report.pauses) end = Math.max(end, p.startMs + p.durationMs);
  return end;
}

const LATENCY_FIELDS = ['p50', 'p90', 'p99', 'p99_9', 'max'] as const;

/** Per latency kind, the median of each field across repeats (kinds in first-seen order). */
export function medianLatency(perRun: readonly LatencySummary[][]): LatencySummary[] {
  const byKind = new Map<LatencySummary['kind'], LatencySummary[]>();
  for (const summaries of perRun) {
    for (const s of summaries) {
      const list = byKind.get(s.kind);
      if (list) list.push(s);
      else byKind.set(s.kind, [s]);
    }
  }
  const out: LatencySummary[] = [];
  for (const [kind, list] of byKind) {
    const s: LatencySummary = { kind, p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0 };
    for (const f of LATENCY_FIELDS) s[f] = median(list.map((x) => x[f]));
    out.push(s);
  }
  return out;
}

function summarizeCell(runs: readonly MatrixRun[]): CellSummary {
  const ok = runs.filter(isSuccessfulRun);
  const reports = ok.map((r) => r.report);
  const of = (pick: (r: RunReport) => number): Estimate => estimate(reports.map(pick));
  const merged = pausePercentiles(reports.flatMap((r) => r.pauses.map((p) => p.durationMs)));
  const curves: MmuPoint[][] = reports.map((r) => mmuCurve(r.pauses, mmuTimelineMs(r)));
  const latencies = ok.map(runLatency).filter((l): l is LatencySummary[] => l !== undefined);
  return {
    cell: runs[0]!.cell,
    runs: runs.length,
    failed: runs.length - ok.length,
    pauseCount: of((r) => r.percentiles.count),
    totalPauseMs: of((r) => r.gcMs),
    p50: of((r) => r.percentiles.p50),
    p90: of((r) => r.percentiles.p90),
    p95: of((r) => r.percentiles.p95),
    p99: of((r) => r.percentiles.p99),
    p99_9: of((r) => r.percentiles.p99_9),
    max: of((r) => r.percentiles.max),
    gcShare: of((r) => r.gcShare),
    wallMs: of((r) => r.wallMs),
    merged: {
      p50: merged.p50, p90: merged.p90, p95: merged.p95, p99: merged.p99, p99_9: merged.p99_9,
      max: merged.max, count: merged.count,
    },
    mmu: medianMmuCurve(curves),
    lowerBoundOverhead: null,
    latency: medianLatency(latencies),
  };
}

/** One CellSummary per cell of the matrix, lower-bound overheads included. */
export function summarizeCells(runs: MatrixRun[]): CellSummary[] {
  const groups = new Map<string, MatrixRun[]>();
  for (const run of runs) {
    const id = cellKeyId(run.cell);
    const list = groups.get(id);
    if (list) list.push(run);
    else groups.set(id, [run]);
  }
  const cells = [...groups.values()].map(summarizeCell);
  const lbo = lowerBoundOverheads(cells);
  for (const c of cells) c.lowerBoundOverhead = lbo.get(cellKeyId(c.cell)) ?? null;
  return cells;
}
