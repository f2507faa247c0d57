/**
 * Request latency as the DaCapo Chopin harness defines it (Blackburn et al.,
 * "Rethinking Java Performance Analysis", ASPLOS 2025): what a user of the
 * application would feel, pauses included.
 *
 * Recording: `begin()` / `end()` around each request store performance.now()
 * into two Float64Arrays (doubled when full): no allocation per request.
 *
 * simple latency   end_i - start_i: the request's own service time. A pause
 *                  inside a request shows in that one request; a pause between
 *                  requests does not show at all, and the requests that would
 *                  have queued behind it in a real server are never counted
 *                  (coordinated omission).
 *
 * metered latency  requests are taken to arrive at a uniform rate equal to the
 *                  measured throughput, so a stall delays the synthetic
 *                  arrivals behind it and shows as queueing delay:
 *                    sort requests by start; request of rank r (0-based) of N
 *                    arrives at a_r = first + (last - first) * r / N
 *                    metered_i = max(end_i - start_i, end_i - a_i)
 *                  This is the "synthetically metered" computation of DaCapo's
 *                  harness, org.dacapo.harness.LatencyReporter.reportLatency
 *                  (dacapobench/dacapobench, benchmarks/harness/src/org/dacapo/
 *                  harness/LatencyReporter.java: "each query start is evenly
 *                  spaced, so delays will compound"), which we found and
 *                  follow exactly (ranks by start time; the max with the simple
 *                  latency, so a request that started later than its synthetic
 *                  arrival is never credited with negative queueing).
 *
 * Smoothing. Chopin reports metered latency under two smoothings of the
 * arrival rate (its latency dumps are named "metered-100ms-smoothing" and
 * "metered-full-smoothing"): the rate averaged over the whole run (the
 * computation above), or over 100 ms windows. We could not find the
 * windowed code, so `summaries({ smoothingMs })` implements our reading of it
 * and says so: time from the first start is cut into windows of smoothingMs;
 * the requests that started in a window arrive evenly spaced over that window
 * (the last window ends at the last start), which is exactly the full
 * computation when one window covers the run. The default, used by `compare`,
 * is full smoothing: it is the code we could read, and the one that makes
 * every pause visible as queueing (a 100 ms window forgets a stall longer than
 * itself).
 *
 * Percentiles (p50/p90/p99/p99.9/max, in ms) come from an HdrHistogram
 * (hdr-histogram-js, JS build) in whole microseconds, 3 significant digits, as
 * for pauses (percentiles.ts); no percentile exceeds the exact max.
 */
import { performance } from 'node:perf_hooks';
import { build } from 'hdr-histogram-js';
import type { LatencySummary } from './compare-types.js';
import { toMicros } from './percentiles.js';

export interface MeteredOptions {
  /** Arrival-rate smoothing window in ms; Infinity (default) = the whole run (DaCapo "full smoothing"). */
  smoothingMs?: number;
}

/** Simple latencies end - start, in ms. */
export function simpleLatencies(starts: Float64Array, ends: Float64Array, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = ends[i]! - starts[i]!;
  return out;
}

/** Metered latencies in ms (see the file header), in request order. */
export function meteredLatencies(starts: Float64Array, ends: Float64Array, count: number, options: MeteredOptions = {}): Float64Array {
  const out = new Float64Array(count);
  if (count === 0) return out;
  const smoothing = options.smoothingMs ?? Number.POSITIVE_INFINITY;
  if (!(smoothing > 0)) throw new RangeError(`metered latency: smoothing window must be > 0 ms, got ${smoothing}`);
  // Rank requests by start (stable: equal starts keep request order). Recorded starts are
  // normally already in order; sort only when they are not.
  const order = new Uint32Array(count);
  let inOrder = true;
  for (let i = 0; i < count; i++) {
    order[i] = i;
    if (i > 0 && starts[i]! < starts[i - 1]!) inOrder = false;
  }
  if (!inOrder) {
    const sorted = Array.from(order).sort((a, b) => starts[a]! - starts[b]! || a - b);
    order.set(sorted);
  }
  const first = starts[order[0]!]!;
  const last = starts[order[count - 1]!]!;
  let r = 0;
  while (r < count) {
    // One smoothing window: ranks [r, end) whose start falls in it.
    const k = Number.isFinite(smoothing) ? Math.floor((starts[order[r]!]! - first) / smoothing) : 0;
    const windowStart = first + k * (Number.isFinite(smoothing) ? smoothing : 0);
    const windowEnd = Number.isFinite(smoothing) ? windowStart + smoothing : Number.POSITIVE_INFINITY;
    let end = r;
    while (end < count && starts[order[end]!]! < windowEnd) end++;
    const n = end - r;
    const length = Math.min(windowEnd, last) - windowStart;
    for (let j = 0; j < n; j++) {
      const i = order[r + j]!;
      const arrival = windowStart + (length * j) / n;
      const actual = ends[i]! - starts[i]!;
      const synthetic = ends[i]! - arrival;
      out[i] = synthetic > actual ? synthetic : actual;
    }
    r = end;
  }
  return out;
}

/** p50/p90/p99/p99.9/max of latencies in ms, through an HdrHistogram in microseconds. */
export function latencySummary(kind: LatencySummary['kind'], latenciesMs: Float64Array): LatencySummary {
  const histogram = build({ useWebAssembly: false, numberOfSignificantValueDigits: 3, lowestDiscernibleValue: 1 });
  let maxMicros = 0;
  for (let i = 0; i < latenciesMs.length; i++) {
    const us = toMicros(latenciesMs[i]!);
    histogram.recordValue(us);
    if (us > maxMicros) maxMicros = us;
  }
  const empty = latenciesMs.length === 0;
  const at = (p: number): number => (empty ? 0 : Math.min(histogram.getValueAtPercentile(p), maxMicros) / 1000);
  const out: LatencySummary = { kind, p50: at(50), p90: at(90), p99: at(99), p99_9: at(99.9), max: maxMicros / 1000 };
  histogram.destroy();
  return out;
}

export class RequestLatencyRecorder {
  private starts: Float64Array;
  private ends: Float64Array;
  private completed = 0;
  private open = false;

  /**
   * @param capacity expected number of requests (the arrays double when it is exceeded)
   * @param now the clock, in ms (performance.now by default; tests pass a fake one)
   */
  constructor(capacity: number, private readonly now: () => number = () => performance.now()) {
    const size = Math.max(16, Math.ceil(capacity) || 0);
    this.starts = new Float64Array(size);
    this.ends = new Float64Array(size);
  }

  /** Completed requests so far. */
  get count(): number {
    return this.completed;
  }

  /** A request starts now. A begin without an end before it restarts the open request. */
  begin(): void {
    if (this.completed === this.starts.length) this.grow();
    this.starts[this.completed] = this.now();
    this.open = true;
  }

  /** The open request ends now. An end without a begin is ignored. */
  end(): void {
    if (!this.open) return;
    this.ends[this.completed] = this.now();
    this.completed++;
    this.open = false;
  }

  /** Adds a completed request with known times (imported data, synthetic schedules). */
  record(startMs: number, endMs: number): void {
    if (this.completed === this.starts.length) this.grow();
    this.starts[this.completed] = startMs;
    this.ends[this.completed] = endMs;
    this.completed++;
    this.open = false;
  }

  reset(): void {
    this.completed = 0;
    this.open = false;
  }

  private grow(): void {
    const starts = new Float64Array(this.starts.length * 2);
    const ends = new Float64Array(this.ends.length * 2);
    starts.set(this.starts);
    ends.set(this.ends);
    this.starts = starts;
    this.ends = ends;
  }

  /** Per-request simple latencies (ms), in request order. */
  simple(): Float64Array {
    return simpleLatencies(this.starts, this.ends, this.completed);
  }

  /** Per-request metered latencies (ms), in request order. */
  metered(options: MeteredOptions = {}): Float64Array {
    return meteredLatencies(this.starts, this.ends, this.completed, options);
  }

  /** [simple, metered] percentiles of the completed requests; [] when there are none. */
  summaries(options: MeteredOptions = {}): LatencySummary[] {
    if (this.completed === 0) return [];
    return [latencySummary('simple', this.simple()), latencySummary('metered', this.metered(options))];
  }
}
