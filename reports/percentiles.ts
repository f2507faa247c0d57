/**
 * Pause-time percentiles from an HdrHistogram (hdr-histogram-js, its plain JS
 * implementation: no WebAssembly). Durations are recorded in whole
 * microseconds with 3 significant digits, so a percentile is within 0.1% of
 * the exact order statistic. HdrHistogram answers a percentile with the
 * highest value equivalent to its bucket; we clamp that to the exact maximum
 * so that no percentile exceeds max.
 */
import { build } from 'hdr-histogram-js';

export interface PausePercentiles {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p99_9: number;
  /** The longest pause, exact (to the microsecond). */
  max: number;
  count: number;
  /** Sum of all pause durations, exact (not from the histogram). */
  totalMs: number;
}

/** Percentiles named in PausePercentiles, in print order. */
export const PERCENTILE_POINTS: ReadonlyArray<[keyof PausePercentiles, number]> = [
  ['p50', 50], ['p90', 90], ['p95', 95], ['p99', 99], ['p99_9', 99.9],
];

export function toMicros(ms: number): number {
  return Math.max(0, Math.round(ms * 1000));
}

/** Percentiles of pause durations given in milliseconds; values in milliseconds. */
export function pausePercentiles(durationsMs: readonly number[]): PausePercentiles {
  const histogram = build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1 });
  let maxMicros = 0;
  let totalMs = 0;
  for (const ms of durationsMs) {
    const us = toMicros(ms);
    histogram.recordValue(us);
    if (us > maxMicros) maxMicros = us;
    totalMs += ms;
  }
  const at = (p: number): number => (durationsMs.length === 0 ? 0 : Math.min(histogram.getValueAtPercentile(p), maxMicros) / 1000);
  const out: PausePercentiles = {
    p50: at(50), p90: at(90), p95: at(95), p99: at(99), p99_9: at(99.9),
    max: maxMicros / 1000,
    count: durationsMs.length,
    totalMs,
  };
  histogram.destroy();
  return out;
}
