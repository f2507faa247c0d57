/**
 * Region-collector figures a run report derives from its pauses' counters
 * (collectors/region/): remembered-set footprint over time (as a fraction of
 * the heap and of the used heap, as Zhao & Blackburn report it), cards
 * scanned, and for a pause-time goal the predicted against the actual pause
 * and the share of young and mixed pauses that met the goal.
 */
import type { PauseRecord } from './recorder.js';

export interface RemsetFootprint {
  /** Per pause that reported it: time, committed remembered-set bytes, and shares. */
  samples: { timeMs: number; bytes: number; ofHeap: number; ofUsed: number }[];
  peakBytes: number;
  peakOfHeap: number;
  peakOfUsed: number;
}

export interface PauseGoalReport {
  goalMs: number;
  youngAndMixed: number;
  withinGoal: number;
  share: number;
  /** Mean of |predicted - actual| over pauses with a prediction. */
  meanAbsErrorMs: number;
  samples: { index: number; kind: string; predictedMs: number; actualMs: number }[];
}

export interface RegionMetrics {
  remsets: RemsetFootprint | null;
  cardsScanned: number;
  pauseGoal: PauseGoalReport | null;
}

export function regionMetrics(pauses: PauseRecord[], heapBytes: number): RegionMetrics | null {
  const withRemsets = pauses.filter((p) => p.counters.remsetBytes !== undefined);
  const withGoal = pauses.filter((p) => p.counters.pauseGoalMs !== undefined);
  if (withRemsets.length === 0 && withGoal.length === 0) return null;
  let remsets: RemsetFootprint | null = null;
  if (withRemsets.length > 0) {
    const samples = withRemsets.map((p) => {
      const bytes = p.counters.remsetBytes;
      return { timeMs: p.startMs + p.durationMs, bytes, ofHeap: bytes / heapBytes, ofUsed: p.usedBytesAfter > 0 ? bytes / p.usedBytesAfter : 0 };
    });
    const peak = samples.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    remsets = { samples, peakBytes: peak.bytes, peakOfHeap: peak.ofHeap, peakOfUsed: Math.max(...samples.map((s) => s.ofUsed)) };
  }
  let pauseGoal: PauseGoalReport | null = null;
  if (withGoal.length > 0) {
    const goalMs = withGoal[0].counters.pauseGoalMs;
    const youngAndMixed = pauses.filter((p) => p.counters.pauseGoalMs !== undefined && (p.kind === 'young' || p.kind === 'mixed' || p.kind === 'evacuation-failure'));
    const within = youngAndMixed.filter((p) => p.durationMs <= goalMs).length;
    const samples = youngAndMixed.map((p) => ({ index: p.index, kind: p.kind, predictedMs: p.counters.predictedPauseMs ?? 0, actualMs: p.durationMs }));
    const errors = samples.map((s) => Math.abs(s.predictedMs - s.actualMs));
    pauseGoal = {
      goalMs,
      youngAndMixed: youngAndMixed.length,
      withinGoal: within,
      share: youngAndMixed.length > 0 ? within / youngAndMixed.length : 0,
      meanAbsErrorMs: errors.length > 0 ? errors.reduce((a, b) => a + b, 0) / errors.length : 0,
      samples,
    };
  }
  const cardsScanned = pauses.reduce((sum, p) => sum + (p.counters.cardsScanned ?? 0), 0);
  return { remsets, cardsScanned, pauseGoal };
}
