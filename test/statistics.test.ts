/**
 * The statistics behind `heaplab compare`: median and its distribution-free
 * 95% confidence interval (reports/statistics.ts), exact MMU curves on
 * hand-computed examples and against brute force (reports/mmu.ts), the
 * lower-bound overhead (reports/lower-bound.ts), simple and metered request
 * latency on synthetic schedules with a stall (reports/latency.ts), and the
 * per-cell summary that merges repeats and counts failed runs
 * (reports/cell-summary.ts). Pure computations on made-up data: no timing.
 */
import { describe, expect, it } from 'vitest';
import { isSuccessfulRun, summarizeCells } from '../reports/cell-summary.js';
import type { CellKey, CellSummary, Estimate, LatencySummary, MatrixRun } from '../reports/compare-types.js';
import { RequestLatencyRecorder, latencySummary, meteredLatencies } from '../reports/latency.js';
import { cellKeyId, lowerBoundOverheads, withLowerBoundOverheads } from '../reports/lower-bound.js';
import { DEFAULT_MMU_WINDOWS_MS, medianMmuCurve, mmuCurve } from '../reports/mmu.js';
import { pausePercentiles } from '../reports/percentiles.js';
import type { PauseRecord } from '../reports/recorder.js';
import type { RunReport } from '../reports/run-report.js';
import { binomialHalfCdf, estimate, median, medianConfidenceInterval } from '../reports/statistics.js';

const mmuAt = (curve: { windowMs: number; mmu: number }[], w: number): number | undefined => curve.find((p) => p.windowMs === w)?.mmu;

describe('median and its confidence interval', () => {
  it('takes the middle value, or the mean of the two middle values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('gives a point for one repeat and NaN for none', () => {
    expect(estimate([5])).toEqual({ median: 5, low: 5, high: 5 });
    const none = estimate([]);
    expect(none.median).toBeNaN();
    expect(none.low).toBeNaN();
    expect(none.high).toBeNaN();
  });

  it('falls back to min..max below 6 repeats and says how much that covers', () => {
    expect(estimate([5, 1, 4, 2, 3])).toEqual({ median: 3, low: 1, high: 5 });
    const ci = medianConfidenceInterval([1, 2, 3, 4, 5]);
    expect(ci.method).toBe('range');
    expect(ci.coverage).toBeCloseTo(1 - 2 / 32, 12);
    expect(medianConfidenceInterval([1, 2]).coverage).toBeCloseTo(0.5, 12);
  });

  it('uses the binomial order-statistic interval from 6 repeats on', () => {
    const six = medianConfidenceInterval([6, 5, 4, 3, 2, 1]);
    expect(six).toMatchObject({ low: 1, high: 6, method: 'order-statistic' });
    expect(six.coverage).toBeCloseTo(1 - 2 / 64, 12);
    // n = 9: [x(2), x(8)], coverage 1 - 2 * 10/512
    const nine = medianConfidenceInterval([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(nine).toMatchObject({ low: 2, high: 8 });
    expect(nine.coverage).toBeCloseTo(1 - 20 / 512, 12);
    // n = 20: the textbook ranks 6 and 15
    const twenty = Array.from({ length: 20 }, (_, i) => (i + 1) * 10);
    expect(estimate(twenty)).toEqual({ median: 105, low: 60, high: 150 });
    expect(medianConfidenceInterval(twenty).coverage).toBeGreaterThanOrEqual(0.95);
  });

  it('computes binomial tails for any n', () => {
    expect(binomialHalfCdf(6, 0)).toBeCloseTo(1 / 64, 15);
    expect(binomialHalfCdf(20, 5)).toBeCloseTo(21700 / 1048576, 15);
    expect(binomialHalfCdf(4000, 2000)).toBeGreaterThan(0.5);
    expect(binomialHalfCdf(4000, 2000)).toBeLessThan(0.51);
    expect(binomialHalfCdf(5, -1)).toBe(0);
    expect(binomialHalfCdf(5, 5)).toBe(1);
  });

  it('ignores NaN values', () => {
    expect(estimate([1, Number.NaN, 3])).toEqual({ median: 2, low: 1, high: 3 });
  });
});

describe('MMU (Cheng & Blelloch)', () => {
  it('one 10 ms pause in a 100 ms run', () => {
    const curve = mmuCurve([{ startMs: 40, durationMs: 10 }], 100);
    expect(curve.map((p) => p.windowMs)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(mmuAt(curve, 1)).toBe(0);
    expect(mmuAt(curve, 10)).toBe(0);
    expect(mmuAt(curve, 20)).toBeCloseTo(0.5, 12);
    expect(mmuAt(curve, 50)).toBeCloseTo(0.8, 12);
    expect(mmuAt(curve, 100)).toBeCloseTo(0.9, 12);
  });

  it('windows that take in two pauses', () => {
    // pauses [20,30] and [35,45]
    const pauses = [{ startMs: 20, durationMs: 10 }, { startMs: 35, durationMs: 10 }];
    const curve = mmuCurve(pauses, 100, [10, 20, 25, 30, 50, 100]);
    expect(mmuAt(curve, 10)).toBe(0);
    expect(mmuAt(curve, 20)).toBeCloseTo(5 / 20, 12); // [20,40] or [25,45]: 15 ms of pause
    expect(mmuAt(curve, 25)).toBeCloseTo(5 / 25, 12); // [20,45]: both pauses
    expect(mmuAt(curve, 30)).toBeCloseTo(10 / 30, 12);
    expect(mmuAt(curve, 50)).toBeCloseTo(30 / 50, 12);
    expect(mmuAt(curve, 100)).toBeCloseTo(0.8, 12);
  });

  it('pauses at the run edges, and a pause running past the end is clipped', () => {
    const pauses = [{ startMs: 0, durationMs: 10 }, { startMs: 95, durationMs: 15 }];
    const curve = mmuCurve(pauses, 100, [5, 10, 20, 50, 100]);
    expect(mmuAt(curve, 5)).toBe(0);
    expect(mmuAt(curve, 10)).toBe(0);
    expect(mmuAt(curve, 20)).toBeCloseTo(0.5, 12);
    expect(mmuAt(curve, 50)).toBeCloseTo(0.8, 12);
    expect(mmuAt(curve, 100)).toBeCloseTo(0.85, 12);
  });

  it('merges overlapping pauses instead of counting time twice', () => {
    const curve = mmuCurve([{ startMs: 10, durationMs: 10 }, { startMs: 15, durationMs: 10 }], 100, [15, 30, 100]);
    expect(mmuAt(curve, 15)).toBe(0);
    expect(mmuAt(curve, 30)).toBeCloseTo(0.5, 12);
    expect(mmuAt(curve, 100)).toBeCloseTo(0.85, 12);
  });

  it('leaves out windows longer than the run; no pauses means utilisation 1', () => {
    expect(mmuCurve([], 150).map((p) => p.windowMs)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(mmuCurve([], 150).every((p) => p.mmu === 1)).toBe(true);
    expect(mmuCurve([], 5000).map((p) => p.windowMs)).toEqual([...DEFAULT_MMU_WINDOWS_MS]);
    expect(mmuCurve([{ startMs: 1, durationMs: 1 }], 0)).toEqual([]);
  });

  it('equals brute force over every integer window position', () => {
    let seed = 12345;
    const rand = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    for (let trial = 0; trial < 30; trial++) {
      const wall = 200 + Math.floor(rand() * 300);
      const pauses: { startMs: number; durationMs: number }[] = [];
      let t = Math.floor(rand() * 20);
      while (t < wall) {
        const d = 1 + Math.floor(rand() * 15);
        pauses.push({ startMs: t, durationMs: d });
        t += d + Math.floor(rand() * 40);
      }
      const windows = [1, 3, 7, 10, 25, 60, 150];
      const curve = mmuCurve(pauses, wall, windows);
      for (const w of windows) {
        let worst = 0;
        for (let s = 0; s + w <= wall; s++) {
          let inside = 0;
          for (const p of pauses) inside += Math.max(0, Math.min(s + w, p.startMs + p.durationMs, wall) - Math.max(s, p.startMs));
          worst = Math.max(worst, inside);
        }
        expect(mmuAt(curve, w)).toBeCloseTo((w - worst) / w, 9);
      }
    }
  });

  it('takes the median per window across repeats', () => {
    const a = [{ windowMs: 10, mmu: 0.1 }, { windowMs: 100, mmu: 0.9 }];
    const b = [{ windowMs: 10, mmu: 0.3 }, { windowMs: 100, mmu: 0.7 }];
    const c = [{ windowMs: 10, mmu: 0.2 }];
    expect(medianMmuCurve([a, b, c])).toEqual([{ windowMs: 10, mmu: 0.2 }, { windowMs: 100, mmu: 0.8 }]);
  });
});

function est(median: number): Estimate {
  return { median, low: median, high: median };
}

function cellSummary(cell: CellKey, wallMs: number, pauseMs: number): CellSummary {
  const zero = est(0);
  return {
    cell, runs: 1, failed: 0, pauseCount: zero, totalPauseMs: est(pauseMs),
    p50: zero, p90: zero, p95: zero, p99: zero, p99_9: zero, max: zero, gcShare: zero, wallMs: est(wallMs),
    merged: { p50: 0, p90: 0, p95: 0, p99: 0, p99_9: 0, max: 0, count: 0 },
    mmu: [], lowerBoundOverhead: null, latency: [],
  };
}

describe('lower-bound overhead (Cai et al. ISPASS 2022)', () => {
  const key = (collector: string, heapBytes = 256, source: CellKey['source'] = 'heaplab'): CellKey => ({ collector, workload: 'lru-cache', heapBytes, source });

  it('divides wall time by the smallest wall - pause of the workload and heap', () => {
    const cells = [
      cellSummary(key('evac'), 100, 10), // application 90
      cellSummary(key('g1'), 120, 40), // application 80: the baseline
      cellSummary(key('evac', 512), 95, 5), // another heap: its own baseline (90)
      cellSummary(key('hotspot-G1', 256, 'hotspot'), 20, 2), // another runtime: its own baseline (18)
    ];
    const lbo = lowerBoundOverheads(cells);
    expect(lbo.get(cellKeyId(key('evac')))).toBeCloseTo(100 / 80, 12);
    expect(lbo.get(cellKeyId(key('g1')))).toBeCloseTo(120 / 80, 12);
    expect(lbo.get(cellKeyId(key('evac', 512)))).toBeCloseTo(95 / 90, 12);
    expect(lbo.get(cellKeyId(key('hotspot-G1', 256, 'hotspot')))).toBeCloseTo(20 / 18, 12);
  });

  it('leaves cells without a successful repeat out (null on the cell)', () => {
    const cells = [cellSummary(key('evac'), 100, 10), cellSummary(key('epsilon'), Number.NaN, Number.NaN)];
    const filled = withLowerBoundOverheads(cells);
    expect(filled[0]!.lowerBoundOverhead).toBeCloseTo(100 / 90, 12);
    expect(filled[1]!.lowerBoundOverhead).toBeNull();
  });
});

describe('request latency (DaCapo Chopin simple and metered)', () => {
  /** 100 requests of 1 ms back to back from t = 0, with a 50 ms stall before request 50. */
  function stalledSchedule(stallInside: boolean): RequestLatencyRecorder {
    const recorder = new RequestLatencyRecorder(4);
    let t = 0;
    for (let i = 0; i < 100; i++) {
      if (i === 50 && !stallInside) t += 50;
      const start = t;
      t += 1 + (i === 50 && stallInside ? 50 : 0);
      recorder.record(start, t);
    }
    return recorder;
  }

  it('simple latency does not see a stall between requests; metered shows the queue behind it', () => {
    const recorder = stalledSchedule(false);
    expect(recorder.count).toBe(100);
    const simple = recorder.simple();
    const metered = recorder.metered();
    expect(Math.max(...simple)).toBe(1);
    // arrivals evenly spaced over [0, 149]: request i arrives at 1.49 i
    for (let i = 0; i < 50; i++) expect(metered[i]).toBe(1);
    expect(metered[50]).toBeCloseTo(101 - 50 * 1.49, 9); // 26.5 ms: it waited for the stall
    for (let i = 51; i < 100; i++) {
      expect(metered[i]!).toBeGreaterThan(simple[i]!);
      expect(metered[i]!).toBeLessThan(metered[i - 1]!); // the queue drains
    }
    const [s, m] = recorder.summaries();
    expect(s).toEqual({ kind: 'simple', p50: 1, p90: 1, p99: 1, p99_9: 1, max: 1 });
    expect(m!.kind).toBe('metered');
    expect(m!.max).toBeCloseTo(26.5, 3);
    expect(m!.p90).toBeGreaterThan(1);
  });

  it('a stall inside one request: simple shows that one request, metered also the ones after it', () => {
    const recorder = stalledSchedule(true);
    const simple = recorder.simple();
    const metered = recorder.metered();
    expect(simple[50]).toBe(51);
    expect(simple.filter((x) => x > 1).length).toBe(1);
    expect(metered[50]).toBe(51);
    expect(metered.filter((x, i) => i > 50 && x > 1).length).toBeGreaterThan(10);
    const [s, m] = recorder.summaries();
    expect(s!.max).toBe(51);
    expect(s!.p90).toBe(1);
    expect(m!.p90).toBeGreaterThan(1);
  });

  it('finite smoothing: one window over the whole run equals full smoothing; a 100 ms window forgets a longer gap', () => {
    const recorder = stalledSchedule(false);
    expect(Array.from(recorder.metered({ smoothingMs: 1000 }))).toEqual(Array.from(recorder.metered()));
    const windowed = recorder.metered({ smoothingMs: 100 });
    expect(windowed[49]).toBe(1);
    expect(windowed[50]).toBeCloseTo(1, 9);
    expect(() => recorder.metered({ smoothingMs: 0 })).toThrow(RangeError);
  });

  it('ranks by start time when requests were recorded out of order', () => {
    const starts = new Float64Array([2, 0, 1]);
    const ends = new Float64Array([3, 5, 2]);
    // sorted starts 0,1,2; arrivals 0, 2/3, 4/3 by rank
    const m = meteredLatencies(starts, ends, 3);
    expect(m[0]).toBeCloseTo(3 - 4 / 3, 12);
    expect(m[1]).toBe(5);
    expect(m[2]).toBeCloseTo(2 - 2 / 3, 12);
  });

  it('records with begin/end on a clock, grows past its capacity, ignores an unmatched end', () => {
    let now = 0;
    const recorder = new RequestLatencyRecorder(2, () => now);
    recorder.end();
    for (let i = 0; i < 1000; i++) {
      recorder.begin();
      now += 0.5;
      recorder.end();
      now += 0.5;
    }
    expect(recorder.count).toBe(1000);
    const [s, m] = recorder.summaries();
    expect(s).toEqual({ kind: 'simple', p50: 0.5, p90: 0.5, p99: 0.5, p99_9: 0.5, max: 0.5 });
    // arrivals 999 * i / 1000 (DaCapo spaces N arrivals by span / N), so they drift ahead of the starts by i / 1000
    expect(m!.max).toBeCloseTo(0.5 + 0.999, 3);
    expect(new RequestLatencyRecorder(10).summaries()).toEqual([]);
  });

  it('percentiles are to the microsecond and never above the max', () => {
    const values = Float64Array.from({ length: 1000 }, (_, i) => (i + 1) / 100); // 0.01 .. 10 ms
    const s = latencySummary('simple', values);
    expect(s.max).toBe(10);
    expect(s.p50).toBeCloseTo(5, 2);
    expect(s.p99).toBeCloseTo(9.9, 1);
    expect(s.p99_9).toBeLessThanOrEqual(s.max);
  });
});

describe('summarizeCells', () => {
  function report(durations: number[], wallMs: number, latency?: LatencySummary[], outcome: RunReport['outcome'] = 'ok'): RunReport {
    const pauses: PauseRecord[] = durations.map((d, i) => ({
      index: i, kind: 'evacuation', cause: 'allocation', startMs: 10 + i * 20, durationMs: d, verifyMs: 0,
      phases: {}, counters: {}, usedBytesBefore: 0, usedBytesAfter: 0,
    }));
    const gcMs = durations.reduce((a, b) => a + b, 0);
    return {
      outcome, gcCount: durations.length, wallMs, gcMs, gcShare: gcMs / wallMs, mutatorMs: wallMs - gcMs,
      percentiles: pausePercentiles(durations), pauses, ...(latency ? { latency } : {}),
    } as unknown as RunReport;
  }
  const evac: CellKey = { collector: 'evac', workload: 'lru-cache', heapBytes: 256 << 20, source: 'heaplab' };
  const epsilon: CellKey = { ...evac, collector: 'epsilon' };
  const g1: CellKey = { collector: 'hotspot-G1', workload: 'lru-cache', heapBytes: 256 << 20, source: 'hotspot' };
  const lat = (kind: LatencySummary['kind'], x: number): LatencySummary => ({ kind, p50: x, p90: 2 * x, p99: 3 * x, p99_9: 4 * x, max: 5 * x });

  const runs: MatrixRun[] = [
    { cell: evac, repeat: 0, outcome: 'ok', report: report([1, 2, 3], 200, [lat('simple', 1), lat('metered', 2)]) },
    { cell: epsilon, repeat: 0, outcome: 'out-of-memory', message: 'heap full', report: report([], 5, undefined, 'out-of-memory') },
    { cell: g1, repeat: 0, outcome: 'ok', report: report([4], 50) },
    { cell: evac, repeat: 1, outcome: 'ok', report: report([2, 4], 220, [lat('simple', 3), lat('metered', 6)]) },
    { cell: epsilon, repeat: 1, outcome: 'crashed', message: 'signal', report: null },
    { cell: evac, repeat: 2, outcome: 'ok', report: report([5, 1, 1, 1], 180, [lat('simple', 2), lat('metered', 4)]) },
    { cell: evac, repeat: 3, outcome: 'out-of-memory', report: report([9, 9], 30, undefined, 'out-of-memory') },
    { cell: g1, repeat: 1, outcome: 'ok', report: report([6], 60) },
    { cell: g1, repeat: 2, outcome: 'skipped', message: 'java not found', report: null },
  ];
  const cells = summarizeCells(runs);
  const byCollector = (name: string): CellSummary => cells.find((c) => c.cell.collector === name)!;

  it('groups runs by cell in first-seen order and counts the failed ones', () => {
    expect(cells.map((c) => c.cell.collector)).toEqual(['evac', 'epsilon', 'hotspot-G1']);
    expect(byCollector('evac')).toMatchObject({ runs: 4, failed: 1 });
    expect(byCollector('epsilon')).toMatchObject({ runs: 2, failed: 2 });
    expect(byCollector('hotspot-G1')).toMatchObject({ runs: 3, failed: 1 });
    expect(runs.filter(isSuccessfulRun).length).toBe(5);
  });

  it('estimates each measure over the successful repeats only', () => {
    const c = byCollector('evac');
    expect(c.pauseCount).toEqual({ median: 3, low: 2, high: 4 });
    expect(c.totalPauseMs).toEqual({ median: 6, low: 6, high: 8 });
    expect(c.wallMs).toEqual({ median: 200, low: 180, high: 220 });
    expect(c.max).toEqual({ median: 4, low: 3, high: 5 });
    expect(c.gcShare.median).toBeCloseTo(6 / 200, 12);
  });

  it('merges every successful repeat\'s pauses into one histogram', () => {
    const c = byCollector('evac');
    const all = [1, 2, 3, 2, 4, 5, 1, 1, 1];
    const direct = pausePercentiles(all);
    expect(c.merged).toEqual({ p50: direct.p50, p90: direct.p90, p95: direct.p95, p99: direct.p99, p99_9: direct.p99_9, max: 5, count: 9 });
  });

  it('takes the median MMU curve and the median latency per field', () => {
    const c = byCollector('evac');
    // two repeats are longer than 200 ms, one is not: the 200 ms window is the median of those two
    expect(c.mmu.map((p) => p.windowMs)).toEqual([1, 2, 5, 10, 20, 50, 100, 200]);
    expect(mmuAt(c.mmu, 1)).toBe(0);
    expect(c.latency).toEqual([lat('simple', 2), lat('metered', 4)]);
    expect(byCollector('hotspot-G1').latency).toEqual([]);
  });

  it('a cell whose repeats all failed has no numbers, no curve, no LBO', () => {
    const c = byCollector('epsilon');
    expect(c.wallMs.median).toBeNaN();
    expect(c.merged.count).toBe(0);
    expect(c.mmu).toEqual([]);
    expect(c.lowerBoundOverhead).toBeNull();
  });

  it('fills in lower-bound overheads per source, workload and heap', () => {
    // evac is the only heaplab cell with data: 200 / (200 - 6); hotspot-G1 alone in its source: 55 / (55 - 5)
    expect(byCollector('evac').lowerBoundOverhead).toBeCloseTo(200 / 194, 12);
    expect(byCollector('hotspot-G1').lowerBoundOverhead).toBeCloseTo(55 / 50, 12);
  });
});
