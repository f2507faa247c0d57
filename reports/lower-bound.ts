/**
 * Lower-bound overhead (Cai, Blackburn, Bond, Maas, "Distilling the Real Cost
 * of Production Garbage Collectors", ISPASS 2022).
 *
 * Pause times miss most of what a collector costs (barriers, allocation
 * paths, concurrent work, cache effects). The paper bounds that cost from
 * below without instrumenting anything: for one workload, the cheapest
 * "application time" seen under any collector, total time minus GC time, is a
 * lower bound on what the workload would take with a free collector. Each
 * collector's overhead over that baseline is then a lower bound on its real
 * overhead:
 *
 *     baseline(workload, heap) = min over collectors c of (wall_c - pause_c)
 *     LBO(c)                   = wall_c / baseline
 *
 * Here wall_c and pause_c are the medians across repeats of the cell's wall
 * time and total pause time (CellSummary.wallMs.median and
 * totalPauseMs.median).
 *
 * Grouping: the baseline is taken per (source, workload, heap size). Cells of
 * different sources (heaplab, the HotSpot Java ports, the V8 JS ports) run
 * different programs on different runtimes, so one's application time is no
 * bound on the other's; mixing them would report the runtime's speed, not the
 * collector's cost. Within a source every collector in the matrix competes.
 *
 * The result is a Map from `cellKeyId(cell.cell)` to the overhead (cells
 * without a successful repeat, or with a non-positive baseline, are absent);
 * `withLowerBoundOverheads` writes it into each CellSummary (null when absent).
 */
import type { CellKey, CellSummary } from './compare-types.js';

/** A stable string naming a cell: source, collector, workload, heap bytes. */
export function cellKeyId(key: CellKey): string {
  return JSON.stringify([key.source, key.collector, key.workload, key.heapBytes]);
}

function baselineGroup(key: CellKey): string {
  return JSON.stringify([key.source, key.workload, key.heapBytes]);
}

/** Each cell's lower-bound overhead, keyed by `cellKeyId`. */
export function lowerBoundOverheads(cells: CellSummary[]): Map<string, number> {
  const baselines = new Map<string, number>();
  for (const c of cells) {
    const wall = c.wallMs.median;
    const pause = c.totalPauseMs.median;
    if (!Number.isFinite(wall) || !Number.isFinite(pause)) continue;
    const app = wall - pause;
    const g = baselineGroup(c.cell);
    const prev = baselines.get(g);
    if (prev === undefined || app < prev) baselines.set(g, app);
  }
  const out = new Map<string, number>();
  for (const c of cells) {
    const wall = c.wallMs.median;
    const base = baselines.get(baselineGroup(c.cell));
    if (base === undefined || !(base > 0) || !Number.isFinite(wall) || !Number.isFinite(c.totalPauseMs.median)) continue;
    out.set(cellKeyId(c.cell), wall / base);
  }
  return out;
}

/** The same cells with `lowerBoundOverhead` filled in (null where it cannot be computed). */
export function withLowerBoundOverheads(cells: CellSummary[]): CellSummary[] {
  const lbo = lowerBoundOverheads(cells);
  return cells.map((c) => ({ ...c, lowerBoundOverhead: lbo.get(cellKeyId(c.cell)) ?? null }));
}
