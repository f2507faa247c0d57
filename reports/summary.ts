/**
 * The terminal summary of one run: what ran, its pause-time distribution, how
 * much of the wall clock went to GC, how much it allocated, and, last, the
 * workload's RESULT line exactly as the reference ports print it.
 */
import { formatBytes } from '../vm-core/sizes.js';
import { PERCENTILE_POINTS } from './percentiles.js';
import { regionMetrics } from './region-metrics.js';
import type { RunReport } from './run-report.js';

/** Milliseconds with as many decimals as their size deserves: 0.042, 3.14, 127.3. */
export function formatMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 100) return ms.toFixed(2);
  return ms.toFixed(1);
}

/** A duration for humans: 840 ms, 2.34 s. */
export function formatDuration(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${formatMs(ms)} ms`;
}

export function formatPercent(share: number): string {
  return `${(share * 100).toFixed(share >= 0.1 ? 1 : 2)}%`;
}

export function formatParams(params: Record<string, number>): string {
  return Object.entries(params).map(([k, v]) => `${k}=${v}`).join(' ');
}

export function percentileLabel(key: string): string {
  return key === 'p99_9' ? 'p99.9' : key;
}

export function runSummary(report: RunReport): string {
  const c = report.configuration;
  const p = report.percentiles;
  const lines: string[] = [];
  const label = (name: string): string => `  ${name.padEnd(12)}`;
  lines.push(`heaplab run: ${c.collector.name} on ${c.workload.name} (${formatParams(c.workload.params) || 'no parameters'})`);
  lines.push(`${label('heap')}${formatBytes(c.heapBytes)} in ${c.regionCount} regions of ${formatBytes(c.regionBytes)}${c.pretouch ? ', pre-touched' : ''}`);
  const options = Object.entries(c.collector.options).map(([k, v]) => `${k}=${v}`).join(' ');
  if (options) lines.push(`${label('gc options')}${options}`);
  if (c.stressGc > 0) lines.push(`${label('stress gc')}every ${c.stressGc} allocations`);
  lines.push(`${label('pauses')}${p.count}, total ${formatDuration(p.totalMs)}`);
  if (p.count > 0) {
    const points = PERCENTILE_POINTS.map(([key]) => `${percentileLabel(key)} ${formatMs(p[key])}`);
    lines.push(`${label('pause ms')}${[...points, `max ${formatMs(p.max)}`].join('  ')}`);
    const kinds = countBy(report.pauses.map((x) => x.kind));
    lines.push(`${label('pause kinds')}${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  lines.push(`${label('wall')}${formatDuration(report.wallMs)}, GC ${formatPercent(report.gcShare)} of wall, mutator ${formatDuration(report.mutatorMs)}`);
  const rate = report.wallMs > 0 ? ` (${formatBytes(Math.round((report.allocatedBytes / report.wallMs) * 1000))}/s)` : '';
  lines.push(`${label('allocated')}${formatBytes(report.allocatedBytes)}${rate}`);
  const v = report.verification;
  lines.push(`${label('verify')}${v.level}${v.level === 'off' ? '' : `: ${v.count} heap verifications, ${formatDuration(v.ms)}`}`);
  const barriers = Object.entries(report.barrierCounters)
    .map(([name, b]) => `${name} fast ${b.fast} slow ${b.slow} filtered ${b.filtered}`);
  if (barriers.length) lines.push(`${label('barriers')}${barriers.join('; ')}`);
  const region = regionMetrics(report.pauses, c.heapBytes);
  if (region?.remsets) {
    const r = region.remsets;
    lines.push(`${label('remsets')}peak ${formatBytes(r.peakBytes)} (${formatPercent(r.peakOfHeap)} of heap, at most ${formatPercent(r.peakOfUsed)} of used); ${region.cardsScanned} cards scanned`);
  }
  if (region?.pauseGoal) {
    const g = region.pauseGoal;
    lines.push(`${label('pause goal')}${g.goalMs} ms: ${g.withinGoal}/${g.youngAndMixed} young+mixed pauses within (${formatPercent(g.share)}); predicted vs actual: mean error ${formatMs(g.meanAbsErrorMs)} ms`);
  }
  if (report.outcome !== 'ok') lines.push(`${label('outcome')}${report.outcome}: ${report.error ?? ''}`);
  if (report.result) lines.push(report.result.line);
  return lines.join('\n');
}

function countBy(items: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[item] = (out[item] ?? 0) + 1;
  return out;
}
