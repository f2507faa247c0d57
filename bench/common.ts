/**
 * Shared helpers for the bench suites: argument parsing, turning a tinybench
 * task into per-operation numbers, floors (pass/fail thresholds), and the one
 * JSON line every suite child prints on stdout for run-all.ts to collect.
 *
 * Every suite is a separate entry point run in its own process (see
 * run-all.ts): V8 inlines a barrier only while a call site has seen one or two
 * receiver classes, so two barrier variants timed in one process would measure
 * the megamorphic, non-inlined call instead of the barrier (DESIGN.md,
 * "Barriers"). Nothing here is on a hot path.
 */
import type { Task } from 'tinybench';

/** `--name value` or `--name=value` from argv; `--flag` alone gives 'true'. */
export function argValue(name: string, fallback: string): string {
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === `--${name}`) {
      const next = argv[i + 1];
      return next === undefined || next.startsWith('--') ? 'true' : next;
    }
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  return fallback;
}

export function argNumber(name: string, fallback: number): number {
  const v = Number(argValue(name, String(fallback)));
  if (!Number.isFinite(v)) throw new Error(`--${name}: not a number`);
  return v;
}

export function argFlag(name: string): boolean {
  const v = argValue(name, 'false');
  return v === 'true' || v === '1' || v === 'on';
}

/** One timed operation: per-op figures derived from tinybench's per-batch samples. */
export interface OpResult {
  /** Operations per timed batch (per tinybench iteration). */
  opsPerBatch: number;
  /** Median batch time / opsPerBatch, in ns (the figure tables use). */
  nsPerOp: number;
  /** Mean batch time / opsPerBatch, in ns. */
  nsPerOpMean: number;
  /** Fastest batch / opsPerBatch, in ns. */
  nsPerOpMin: number;
  /** Millions of operations per second, from the median. */
  mOpsPerSec: number;
  /** Relative margin of error of the mean batch time, in percent. */
  rmePercent: number;
  batches: number;
}

export function opResult(task: Task | undefined, opsPerBatch: number): OpResult {
  const r = task?.result;
  if (!r) throw new Error(`task ${task?.name ?? '?'} has no result`);
  if (r.error) throw r.error;
  const lat = r.latency; // milliseconds per batch
  const nsPerOp = (lat.p50! * 1e6) / opsPerBatch;
  return {
    opsPerBatch,
    nsPerOp: round(nsPerOp, 3),
    nsPerOpMean: round((lat.mean * 1e6) / opsPerBatch, 3),
    nsPerOpMin: round((lat.min * 1e6) / opsPerBatch, 3),
    mOpsPerSec: round(1e3 / nsPerOp, 1),
    rmePercent: round(lat.rme, 2),
    batches: lat.samples.length,
  };
}

export interface Floor {
  name: string;
  value: number;
  limit: number;
  /** 'min': value must be >= limit; 'max': value must be <= limit. */
  kind: 'min' | 'max';
  unit: string;
  pass: boolean;
}

export function floor(name: string, value: number, kind: 'min' | 'max', limit: number, unit: string): Floor {
  return { name, value: round(value, 3), limit, kind, unit, pass: kind === 'min' ? value >= limit : value <= limit };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Prints the suite's result as the single JSON line run-all.ts reads (progress goes to stderr). */
export function emit(result: object): void {
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

export function progress(msg: string): void {
  process.stderr.write(`  ${msg}\n`);
}

export const MIB = 1024 * 1024;
