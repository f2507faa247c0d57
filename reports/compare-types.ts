/**
 * The shape of a comparison (`heaplab compare`): a matrix of cells
 * (collector x workload x heap), each run `repeat` times in a fresh process,
 * plus production collectors (HotSpot, V8) run on ports of the same workloads.
 *
 *   CompareResults
 *     matrix      what was asked (collectors, workloads, heaps, repeats, iterations)
 *     runs[]      every run, full: a RunReport (heaplab) or an imported one (hotspot/v8),
 *                 tagged with its cell and repeat index; failed runs included
 *     cells[]     per cell: statistics across repeats (median and 95% CI of each
 *                 percentile, merged histogram percentiles, MMU curve, latency)
 *
 * Imported runs (HotSpot unified GC logs, V8 --trace-gc) are converted into the
 * RunReport shape with `configuration.collector.source` = 'hotspot' | 'v8' and
 * the fields they cannot know left empty (no barrier counters, no phases).
 */
import type { RunReport } from './run-report.js';

export type RunSource = 'heaplab' | 'hotspot' | 'v8';

export interface CellKey {
  /** heaplab collector name, or e.g. 'hotspot-G1', 'v8'. */
  collector: string;
  workload: string;
  heapBytes: number;
  source: RunSource;
}

export interface MatrixRun {
  cell: CellKey;
  repeat: number;
  /** 'ok', or why the cell failed (out of memory, crash, tool missing). */
  outcome: 'ok' | 'out-of-memory' | 'crashed' | 'skipped';
  message?: string;
  report: RunReport | null;
}

export interface Estimate {
  median: number;
  /** 95% confidence interval of the median across repeats (equal to median when one repeat). */
  low: number;
  high: number;
}

export interface MmuPoint {
  windowMs: number;
  /** Minimum mutator utilisation over all windows of this length (Cheng & Blelloch 2001). */
  mmu: number;
}

export interface LatencySummary {
  kind: 'simple' | 'metered';
  p50: number; p90: number; p99: number; p99_9: number; max: number;
}

export interface CellSummary {
  cell: CellKey;
  runs: number;
  failed: number;
  pauseCount: Estimate;
  totalPauseMs: Estimate;
  p50: Estimate; p90: Estimate; p95: Estimate; p99: Estimate; p99_9: Estimate; max: Estimate;
  gcShare: Estimate;
  wallMs: Estimate;
  /** Percentiles of the histogram merged over all repeats. */
  merged: { p50: number; p90: number; p95: number; p99: number; p99_9: number; max: number; count: number };
  mmu: MmuPoint[];
  /** wall / min over collectors of (wall - pause) for this workload and heap (Cai et al. ISPASS 2022). */
  lowerBoundOverhead: number | null;
  latency: LatencySummary[];
}

export interface CompareResults {
  schema: 'heaplab-compare/1';
  createdAt: string;
  matrix: {
    collectors: string[];
    workloads: string[];
    heaps: number[];
    repeat: number;
    /** Iterations per run; the last is reported (DaCapo-style warm-up). */
    iterations: number;
    hotspot: string[];
    v8: boolean;
    /** Runs touched every heap page first (heaplab --pretouch, HotSpot -XX:+AlwaysPreTouch); absent in older results. */
    pretouch?: boolean;
    /** Collector options given, by heaplab collector; absent in older results. */
    gcOptions?: Record<string, Record<string, string>>;
    /** -XX:MaxGCPauseMillis given to the HotSpot cells. */
    hotspotPauseGoalMs?: number;
    params: Record<string, string>;
  };
  runs: MatrixRun[];
  cells: CellSummary[];
}
