/**
 * Minimum mutator utilisation (Cheng & Blelloch, "A Parallel, Real-Time
 * Garbage Collector", PLDI 2001): for a window length w, MMU(w) is the
 * smallest fraction of any window of length w during which the mutator ran,
 *
 *     MMU(w) = min over t in [0, T - w] of (w - pause(t, t + w)) / w
 *
 * where pause(a, b) is the pause time inside [a, b] and T is the run length.
 *
 * Computed exactly, not sampled. Let G(x) be the pause time in [0, x]: it is
 * piecewise linear with slope 1 inside a pause and 0 outside, so
 * f(t) = G(t + w) - G(t) is piecewise linear in t and its maximum is attained
 * at a breakpoint: where the window's start or end meets a pause start or end
 * (t = s_i, e_i, s_i - w, e_i - w), or at the ends of the domain (t = 0,
 * T - w). We evaluate f at each of those candidates, G by binary search over
 * prefix sums: O(n log n) per window for n pauses.
 *
 * Pauses are clipped to [0, T] and overlapping ones merged (imported logs can
 * overlap; the pause recorder never does), so no time is counted twice.
 * Windows longer than the run are left out (not clamped: a point must mean the
 * window it names, so that repeats' curves line up window by window).
 * Across repeats, a cell's curve is the median per window (`medianMmuCurve`).
 */
import type { MmuPoint } from './compare-types.js';
import { median } from './statistics.js';

/** 1 ms to 1 s, log-spaced (1-2-5). */
export const DEFAULT_MMU_WINDOWS_MS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

export interface PauseInterval {
  startMs: number;
  durationMs: number;
}

/** Sorted, clipped, merged pause intervals with prefix sums of their lengths. */
class PauseTimeline {
  readonly starts: Float64Array;
  readonly ends: Float64Array;
  /** before[i] = total pause time of intervals 0..i-1. */
  readonly before: Float64Array;

  constructor(pauses: readonly PauseInterval[], wallMs: number) {
    const clipped: Array<[number, number]> = [];
    for (const p of pauses) {
      const s = Math.max(0, p.startMs);
      const e = Math.min(wallMs, p.startMs + Math.max(0, p.durationMs));
      if (e > s) clipped.push([s, e]);
    }
    clipped.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const iv of clipped) {
      const last = merged[merged.length - 1];
      if (last && iv[0] <= last[1]) last[1] = Math.max(last[1], iv[1]);
      else merged.push([iv[0], iv[1]]);
    }
    const n = merged.length;
    this.starts = new Float64Array(n);
    this.ends = new Float64Array(n);
    this.before = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.starts[i] = merged[i]![0];
      this.ends[i] = merged[i]![1];
      this.before[i + 1] = this.before[i]! + (merged[i]![1] - merged[i]![0]);
    }
  }

  get count(): number {
    return this.starts.length;
  }

  /** G(x): pause time in [0, x]. */
  pauseUpTo(x: number): number {
    // last interval with start <= x
    let lo = 0;
    let hi = this.starts.length - 1;
    let j = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]! <= x) {
        j = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (j < 0) return 0;
    return this.before[j]! + Math.min(x, this.ends[j]!) - this.starts[j]!;
  }
}

/** The largest pause time inside any window [t, t + w] with 0 <= t <= wallMs - w. */
function maxPauseInWindow(timeline: PauseTimeline, wallMs: number, w: number): number {
  const lastT = wallMs - w;
  let worst = 0;
  const consider = (t: number): void => {
    const tt = t < 0 ? 0 : t > lastT ? lastT : t;
    const inside = timeline.pauseUpTo(tt + w) - timeline.pauseUpTo(tt);
    if (inside > worst) worst = inside;
  };
  consider(0);
  consider(lastT);
  for (let i = 0; i < timeline.count; i++) {
    const s = timeline.starts[i]!;
    const e = timeline.ends[i]!;
    consider(s);
    consider(e);
    consider(s - w);
    consider(e - w);
  }
  return Math.min(worst, w);
}

/**
 * The MMU curve of one run: pauses [startMs, startMs + durationMs] on a run of
 * wallMs milliseconds, for each window (default 1 ms .. 1 s) no longer than the run.
 */
export function mmuCurve(pauses: { startMs: number; durationMs: number }[], wallMs: number, windowsMs: number[] = [...DEFAULT_MMU_WINDOWS_MS]): MmuPoint[] {
  if (!(wallMs > 0)) return [];
  const timeline = new PauseTimeline(pauses, wallMs);
  const out: MmuPoint[] = [];
  for (const w of windowsMs) {
    if (!(w > 0) || w > wallMs) continue;
    const worst = maxPauseInWindow(timeline, wallMs, w);
    out.push({ windowMs: w, mmu: Math.max(0, Math.min(1, (w - worst) / w)) });
  }
  return out;
}

/**
 * A cell's MMU curve: per window, the median over the repeats' curves that
 * have that window (a short repeat may lack the longest windows). Windows in
 * ascending order.
 */
export function medianMmuCurve(curves: readonly MmuPoint[][]): MmuPoint[] {
  const byWindow = new Map<number, number[]>();
  for (const curve of curves) {
    for (const p of curve) {
      const list = byWindow.get(p.windowMs);
      if (list) list.push(p.mmu);
      else byWindow.set(p.windowMs, [p.mmu]);
    }
  }
  return [...byWindow.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([windowMs, values]) => ({ windowMs, mmu: median(values) }));
}
