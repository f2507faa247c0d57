/**
 * report.html (reports/html-report.ts, reports/charts.ts) from a synthetic
 * comparison: one inline SVG per chart, rendered headless by vega; one table
 * row per cell; failed runs listed; every name escaped (a collector may be a
 * user's module path, a message whatever a crashed process printed); nothing
 * loaded from outside the page.
 */
import { describe, expect, it } from 'vitest';
import { renderCharts, representativeRun, spectrumPoints } from '../reports/charts.js';
import type { CellKey, CellSummary, CompareResults, Estimate, MatrixRun } from '../reports/compare-types.js';
import { escapeHtml, htmlPage, renderHtmlReport } from '../reports/html-report.js';
import type { PauseRecord } from '../reports/recorder.js';
import type { RunReport } from '../reports/run-report.js';

const HEAP = 64 * 1024 * 1024;
const HOSTILE = '<script>alert("x")</script> & co';

/** A run report with `n` pauses of a few milliseconds, deterministic in `seed`. */
function report(n: number, seed: number, withPhases: boolean): RunReport {
  const pauses: PauseRecord[] = [];
  let t = 5;
  for (let i = 0; i < n; i++) {
    const durationMs = 1 + ((i * 7 + seed * 3) % 11) / 2 + (i === n - 1 ? 10 : 0);
    pauses.push({
      index: i, kind: 'evacuation', cause: 'allocation', startMs: t, durationMs, verifyMs: 0,
      phases: withPhases ? { mark: durationMs * 0.6, copy: durationMs * 0.3, 'fix-references': durationMs * 0.1 } : {},
      counters: {}, usedBytesBefore: 40 * 2 ** 20, usedBytesAfter: (10 + (i % 5)) * 2 ** 20,
    });
    t += durationMs + 20;
  }
  const gcMs = pauses.reduce((s, p) => s + p.durationMs, 0);
  const wallMs = t + 5;
  return {
    schema: 'heaplab-run/1', outcome: 'ok',
    configuration: {
      collector: { name: 'x', source: 'built-in', options: {}, constraints: {} as never },
      workload: { name: 'lru-cache', params: { capacity: 1000 } },
      heapBytes: HEAP, regionBytes: 32768, regionCount: 2048, verify: 'off', stressGc: 0, countBarriers: true,
    },
    environment: {
      nodeVersion: 'v20.0.0', v8Version: '11', cpuModel: 'test cpu', cores: 2, totalMemoryBytes: 1, platform: 'linux', arch: 'x64',
      heaplabVersion: '0.1.0', timestamp: '2026-01-01T00:00:00.000Z',
    },
    gcCount: n, wallMs, gcMs, mutatorMs: wallMs - gcMs, gcShare: gcMs / wallMs, allocatedBytes: 1, allocationSource: 'collector',
    percentiles: { p50: 1, p90: 2, p95: 3, p99: 4, p99_9: 5, max: 6, count: n, totalMs: gcMs },
    verification: { level: 'off', count: 0, ms: 0 }, barrierCounters: {},
    occupancy: pauses.map((p) => ({ timeMs: p.startMs + p.durationMs, usedBytes: p.usedBytesAfter })),
    pauses, concurrentPhases: [], concurrentCounters: {}, result: { values: {}, line: 'RESULT' },
  };
}

const est = (median: number, low = median * 0.9, high = median * 1.1): Estimate => ({ median, low, high });

function cell(key: CellKey, runs: number, failed: number): CellSummary {
  return {
    cell: key, runs, failed,
    pauseCount: est(40, 40, 40), totalPauseMs: est(150), p50: est(2.5), p90: est(4), p95: est(4.5), p99: est(12.25), p99_9: est(13), max: est(14),
    gcShare: est(0.12), wallMs: est(1200),
    merged: { p50: 2.5, p90: 4, p95: 4.5, p99: 12, p99_9: 13, max: 14, count: 80 },
    mmu: [{ windowMs: 1, mmu: 0 }, { windowMs: 10, mmu: 0.2 }, { windowMs: 100, mmu: 0.7 }, { windowMs: 1000, mmu: 0.88 }],
    lowerBoundOverhead: 1.125, latency: [{ kind: 'metered', p50: 0.01, p90: 0.02, p99: 3, p99_9: 9, max: 14 }],
  };
}

function results(): CompareResults {
  const keys: CellKey[] = [
    { collector: 'evac', workload: 'lru-cache', heapBytes: HEAP, source: 'heaplab' },
    { collector: HOSTILE, workload: 'lru-cache', heapBytes: HEAP, source: 'heaplab' },
    { collector: 'hotspot-G1', workload: 'lru-cache', heapBytes: HEAP, source: 'hotspot' },
    { collector: 'epsilon', workload: 'lru-cache', heapBytes: HEAP, source: 'heaplab' },
  ];
  const runs: MatrixRun[] = [];
  for (let repeat = 0; repeat < 2; repeat++) {
    runs.push({ cell: keys[0], repeat, outcome: 'ok', report: report(40, repeat, true) });
    runs.push({ cell: keys[1], repeat, outcome: 'ok', report: report(30, repeat + 5, true) });
    runs.push({ cell: keys[2], repeat, outcome: 'ok', report: report(20, repeat + 9, false) });
    runs.push({ cell: keys[3], repeat, outcome: 'out-of-memory', message: 'out of memory: heap 64 MiB <never collects>', report: null });
  }
  return {
    schema: 'heaplab-compare/1', createdAt: '2026-01-01T00:00:00.000Z',
    matrix: { collectors: ['evac', HOSTILE, 'epsilon'], workloads: ['lru-cache'], heaps: [HEAP], repeat: 2, iterations: 3, hotspot: ['G1'], v8: false, params: { capacity: '1000' } },
    runs,
    cells: [cell(keys[0], 2, 0), cell(keys[1], 2, 0), cell(keys[2], 2, 0), cell(keys[3], 2, 2)],
  };
}

describe('html report', () => {
  it('renders one inline SVG per chart, the table rows, the failed runs, and escapes every name', async () => {
    const r = results();
    const charts = await renderCharts(r);
    expect(charts.map((c) => c.title.split(':')[0])).toEqual([
      'Pause-time percentile spectrum', 'Minimum mutator utilisation', 'Heap after GC and pauses over time', 'Pause phases',
    ]);
    for (const c of charts) {
      expect(c.svg.startsWith('<svg')).toBe(true);
      expect(c.svg).toContain('</svg>');
    }

    const html = await renderHtmlReport(r);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.match(/<svg[\s>]/g)?.length).toBe(charts.length);

    // the summary table: one row per cell; the failed cell says so; a median with its CI
    const tbody = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
    expect(tbody.match(/<tr[\s>]/g)?.length).toBe(r.cells.length);
    expect(tbody).toContain('<th scope="row">evac</th>');
    expect(tbody).toContain('<th scope="row">hotspot-G1 (hotspot)</th>');
    expect(tbody).toMatch(/<th scope="row">epsilon<\/th><td class="num">0\/2<\/td><td colspan="8" class="failed-note">all runs failed<\/td>/);
    expect(tbody).toContain('12.25<br><span class="ci">[11.03, 13.48]</span>');
    expect(tbody).toContain('1.125×');
    expect(html).toContain('only the last iteration is measured');
    expect(html).toContain('out of memory: heap 64 MiB &lt;never collects&gt;');

    // hostile text is escaped everywhere: table, matrix description, SVG legends
    expect(html).not.toMatch(/<script/i);
    expect(tbody).toContain(`<th scope="row">${escapeHtml(HOSTILE)}</th>`);
    expect(charts.some((c) => c.svg.includes('&lt;script&gt;'))).toBe(true);

    // self-contained: nothing fetched from elsewhere, and ids unique across the inlined SVGs
    expect(html).not.toMatch(/<link|<img|<iframe|@import|url\(\s*['"]?https?:|(?:src|href)\s*=\s*["'](?!#)/i);
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('renders a page without charts when every run failed', () => {
    const r = results();
    r.runs = r.runs.map((run) => ({ ...run, outcome: 'crashed', report: null }));
    r.cells = r.cells.map((c) => ({ ...c, failed: c.runs, mmu: [] }));
    const html = htmlPage(r, []);
    expect(html).toContain('No data to chart.');
    expect(html.match(/all runs failed/g)?.length).toBe(4);
  });

  it('computes the percentile spectrum and the representative run', () => {
    const durations = Array.from({ length: 100 }, (_, i) => 100 - i); // 1..100 ms, unsorted
    const points = spectrumPoints(durations);
    expect(points[0]).toEqual({ x: 1, percentile: 0, ms: 1 });
    const p90 = points.find((p) => Math.abs(p.x - 10) < 1e-9);
    expect(p90?.ms).toBe(90);
    expect(points[points.length - 1]).toEqual({ x: 100, percentile: 100, ms: 100 });
    expect(points.every((p, i) => i === 0 || (p.x > points[i - 1].x && p.ms >= points[i - 1].ms))).toBe(true);
    expect(spectrumPoints([])).toEqual([]);

    const runs = [report(3, 1, true), report(9, 1, true), report(5, 1, true)];
    expect(representativeRun(runs)?.pauses.length).toBe(5);
    expect(representativeRun([])).toBeNull();
  });
});
