/**
 * A parser for V8's `--trace-gc` output (as printed by `node --trace-gc`,
 * written against V8 11.3 / Node 20), turning it into pauses and incremental
 * marking phases on the isolate's clock, for heaplab's run reports.
 *
 * One line per collection:
 *
 *   [pid:isolate]   123 ms: Scavenge 4.4 (5.5) -> 4.2 (6.0) MB, 0.91 / 0.00 ms  (average mu = 1.000,
 *       current mu = 1.000) allocation failure;
 *   [pid:isolate]   434 ms: Mark-Compact (reduce) 105.1 (112.2) -> 103.9 (115.0) MB, 3.52 / 0.00 ms
 *       (+ 47.3 ms in 201 steps since start of marking, biggest step 8.2 ms, walltime since start
 *       of marking 151 ms) (average mu = ..., current mu = ...) finalize incremental marking via
 *       stack guard; GC in old space requested
 *
 * What we count:
 *   - The timestamp is milliseconds since the isolate started, printed (rounded to whole ms) when
 *     the collection ends, so a pause starts at timestamp - duration.
 *   - The pause is the first duration: the atomic main-thread part of the collection. The second
 *     figure (time in embedder/external callbacks, already inside the first) goes to counters.
 *   - Incremental marking steps ("+ X ms in N steps") also run on the main thread, but as many
 *     small slices between allocations that the trace does not time individually; they are NOT
 *     counted as pauses. Their total, step count and biggest step go to the Mark-Compact pause's
 *     counters (incrementalMarkingMs, incrementalSteps, biggestStepMs) and the marking walltime
 *     becomes a concurrent phase 'incremental-marking' ending where the pause starts.
 *   - Concurrent (background-thread) marking and sweeping are not in the trace.
 *   - Heap sizes are object sizes (MB = 2^20 bytes) before -> after; committed sizes in counters.
 *   - Kind: the collector name in kebab case: 'scavenge', 'mark-compact', 'mark-compact-reduce'
 *     (a memory-reducing full GC), 'minor-mark-compact'. Cause: the reasons after the mu figures.
 *   - Only the first isolate's lines are read (a worker thread's isolate prints its own), and
 *     parsing stops at V8's out-of-memory report ("<--- Last few GCs --->" repeats earlier
 *     lines); "JavaScript heap out of memory" marks the log as out-of-memory.
 */
import type { ConcurrentPhaseRecord, PauseRecord } from './recorder.js';
import type { OccupancySample } from './run-report.js';
import type { ParsedGcLog } from './production-runs.js';

const MB = 1024 * 1024;
const NUM = String.raw`(\d+(?:\.\d+)?)`;
const GC_LINE = new RegExp(
  String.raw`^\[(\d+):(0x[0-9a-fA-F]+)\]\s+${NUM} ms: (.+?) ${NUM} \(${NUM}\) -> ${NUM} \(${NUM}\) MB, ${NUM} \/ ${NUM} ms\s*(.*)$`,
);
const INCREMENTAL = new RegExp(
  String.raw`\(\+ ${NUM} ms in (\d+) steps since start of marking, biggest step ${NUM} ms, walltime since start of marking ${NUM} ms\)`,
);
const MU = /\(average mu = [\d.]+, current mu = [\d.]+\)\s*(.*)$/;

function kindOf(name: string): string {
  return name.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** 'allocation failure; ' -> 'allocation failure'; 'finalize ...; GC in old space requested' keeps both. */
function causeOf(rest: string): string {
  const m = MU.exec(rest);
  const text = m ? m[1] : '';
  const parts = text.split(';').map((s) => s.trim()).filter((s) => s.length > 0);
  return parts.length > 0 ? parts.join('; ') : 'unknown';
}

/** Parses `--trace-gc` output. Times are milliseconds on the isolate's clock. */
export function parseV8Trace(text: string): ParsedGcLog {
  const pauses: PauseRecord[] = [];
  const concurrentPhases: ConcurrentPhaseRecord[] = [];
  const occupancy: OccupancySample[] = [];
  let isolate: string | null = null;
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = 0;
  let eventLines = 0;
  let outOfMemory = false;

  for (const raw of text.split(/\r?\n/)) {
    if (raw.includes('JavaScript heap out of memory')) outOfMemory = true;
    if (raw.includes('<--- Last few GCs --->')) {
      outOfMemory = true;
      break;
    }
    const m = GC_LINE.exec(raw.trim());
    if (!m) continue;
    if (isolate === null) isolate = m[2];
    else if (m[2] !== isolate) continue;
    eventLines++;
    const endMs = Number(m[3]);
    const durationMs = Number(m[9]);
    const startMs = Math.max(0, endMs - durationMs);
    const rest = m[11];
    const counters: Record<string, number> = {
      externalMs: Number(m[10]),
      committedBytesBefore: Math.round(Number(m[6]) * MB),
      committedBytesAfter: Math.round(Number(m[8]) * MB),
    };
    const inc = INCREMENTAL.exec(rest);
    if (inc) {
      counters.incrementalMarkingMs = Number(inc[1]);
      counters.incrementalSteps = Number(inc[2]);
      counters.biggestStepMs = Number(inc[3]);
      const walltime = Number(inc[4]);
      concurrentPhases.push({ phase: 'incremental-marking', startMs: Math.max(0, startMs - walltime), durationMs: walltime });
    }
    const usedBytesAfter = Math.round(Number(m[7]) * MB);
    pauses.push({
      index: pauses.length,
      kind: kindOf(m[4]),
      cause: causeOf(rest),
      startMs,
      durationMs,
      verifyMs: 0,
      phases: {},
      counters,
      usedBytesBefore: Math.round(Number(m[5]) * MB),
      usedBytesAfter,
    });
    occupancy.push({ timeMs: endMs, usedBytes: usedBytesAfter });
    firstMs = Math.min(firstMs, startMs);
    lastMs = Math.max(lastMs, endMs);
  }

  pauses.sort((a, b) => a.startMs - b.startMs);
  pauses.forEach((p, i) => { p.index = i; });
  concurrentPhases.sort((a, b) => a.startMs - b.startMs);
  return {
    source: 'v8',
    collector: 'V8',
    vmVersion: null,
    heapMaxBytes: null,
    regionBytes: null,
    preTouch: false,
    pauses,
    concurrentPhases,
    occupancy,
    firstMs: eventLines > 0 ? firstMs : 0,
    lastMs,
    decoratedLines: eventLines,
    eventLines,
    outOfMemory,
  };
}
