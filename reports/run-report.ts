/**
 * The run report: the one JSON document every run writes (DESIGN.md,
 * "Reports"), and its builder. Everything in it comes from the configuration,
 * the environment, the pause recorder's events and a few end-of-run readings
 * of the VM (barrier counters, allocation volume, verification totals).
 *
 * A run that ran out of memory still gets a report (outcome 'out-of-memory',
 * the message, the pauses up to the failure), so a comparison can record the
 * failed cell instead of losing it.
 */
import { type BarrierCounts, readBarrierCounters } from '../barriers/counters.js';
import type { CollectorConstraints, OptionValue } from '../vm-core/collector.js';
import { WORD_BYTES } from '../vm-core/layout.js';
import type { VerifyLevel } from '../vm-core/verifier.js';
import type { Vm } from '../vm-core/vm.js';
import type { Environment } from './environment.js';
import { type PausePercentiles, pausePercentiles } from './percentiles.js';
import { type RegionMetrics, regionMetrics } from './region-metrics.js';
import type { ConcurrentPhaseRecord, PauseRecord, PauseRecorder } from './recorder.js';

/** Bumped whenever a field changes meaning or goes away (adding fields keeps the version). */
export const RUN_REPORT_SCHEMA = 'heaplab-run/1';

export type RunOutcome = 'ok' | 'out-of-memory';

export interface RunConfiguration {
  collector: {
    name: string;
    /** 'built-in', or the module path the user gave. */
    source: string;
    options: Record<string, OptionValue>;
    constraints: CollectorConstraints;
  };
  workload: {
    name: string;
    params: Record<string, number>;
  };
  heapBytes: number;
  regionBytes: number;
  regionCount: number;
  verify: VerifyLevel;
  stressGc: number;
  countBarriers: boolean;
  /**
   * Every heap page was touched before the workload ran (heaplab --pretouch; HotSpot
   * -XX:+AlwaysPreTouch, read from its log), so no first-touch page fault lands in a pause.
   * Absent: not known (a log that does not say, a report written before this field).
   */
  pretouch?: boolean;
}

export interface OccupancySample {
  /** Milliseconds since the VM started, when the mutators resumed. */
  timeMs: number;
  usedBytes: number;
}

export interface RunReport {
  schema: typeof RUN_REPORT_SCHEMA;
  outcome: RunOutcome;
  /** The out-of-memory message when outcome is 'out-of-memory'. */
  error?: string;
  configuration: RunConfiguration;
  environment: Environment;
  gcCount: number;
  /** Wall-clock time of the workload, pauses included. */
  wallMs: number;
  /** Sum of pause durations (heap verification excluded). */
  gcMs: number;
  /** wallMs - gcMs - verification.ms: time the workload itself ran. */
  mutatorMs: number;
  /** gcMs / wallMs (0 for an empty run). */
  gcShare: number;
  /** Bytes handed to the mutators: TLABs (less returned tails) and humongous objects. */
  allocatedBytes: number;
  /** How allocatedBytes was measured: the collector's own count, or the heap's used words as a floor. */
  allocationSource: 'collector' | 'heap';
  percentiles: PausePercentiles;
  verification: { level: VerifyLevel; count: number; ms: number };
  barrierCounters: Record<string, BarrierCounts>;
  occupancy: OccupancySample[];
  pauses: PauseRecord[];
  concurrentPhases: ConcurrentPhaseRecord[];
  concurrentCounters: Record<string, number>;
  /** The workload's result values and its RESULT line; null when the run failed. */
  result: { values: Record<string, number>; line: string } | null;
  /** Region collectors: remembered-set footprint over time, cards scanned, pause-goal attainment (null for others). */
  region?: RegionMetrics | null;
}

export interface RunReportInput {
  vm: Vm;
  recorder: PauseRecorder;
  configuration: RunConfiguration;
  environment: Environment;
  wallMs: number;
  outcome: RunOutcome;
  error?: string;
  result: RunReport['result'];
}

/** The collector's allocation count (a getter `allocatedWords` on collectors that keep one), read defensively. */
export function allocatedWordsOf(vm: Vm): { words: number; source: 'collector' | 'heap' } {
  let words: unknown;
  try {
    words = (vm.collector as unknown as { allocatedWords?: unknown }).allocatedWords;
  } catch {
    words = undefined;
  }
  if (typeof words === 'number' && Number.isFinite(words) && words >= 0) return { words, source: 'collector' };
  return { words: vm.heap.accountedWords, source: 'heap' };
}

export function buildRunReport(input: RunReportInput): RunReport {
  const { vm, recorder, wallMs } = input;
  const pauses = recorder.pauses;
  const gcMs = pauses.reduce((sum, p) => sum + p.durationMs, 0);
  const verification = { level: vm.verifier.level, count: vm.verifier.verifications, ms: vm.verifier.totalMs };
  const allocation = allocatedWordsOf(vm);
  const report: RunReport = {
    schema: RUN_REPORT_SCHEMA,
    outcome: input.outcome,
    ...(input.error !== undefined ? { error: input.error } : {}),
    configuration: input.configuration,
    environment: input.environment,
    gcCount: vm.gcCount,
    wallMs,
    gcMs,
    mutatorMs: Math.max(0, wallMs - gcMs - verification.ms),
    gcShare: wallMs > 0 ? gcMs / wallMs : 0,
    allocatedBytes: allocation.words * WORD_BYTES,
    allocationSource: allocation.source,
    percentiles: pausePercentiles(pauses.map((p) => p.durationMs)),
    verification,
    barrierCounters: readBarrierCounters(vm.barrierCounters),
    occupancy: pauses.map((p) => ({ timeMs: p.startMs + p.durationMs + p.verifyMs, usedBytes: p.usedBytesAfter })),
    pauses,
    concurrentPhases: recorder.concurrentPhases,
    concurrentCounters: recorder.concurrentCounters,
    result: input.result,
    region: regionMetrics(pauses, input.configuration.heapBytes),
  };
  return report;
}
