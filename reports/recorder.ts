/**
 * The pause recorder: a GcEventListener that turns the VM's event stream into
 * one record per pause (kind, cause, start, duration, phases, work counters,
 * heap use before and after), plus the concurrent phases between pauses. It
 * is the only thing reports know about a collector.
 *
 * Timing of a pause:
 *   durationMs  mutators-resumed - requested, less the verify-before and
 *               verify-after phases (heap verification is not the collector's
 *               work; it is kept separately as verifyMs)
 *   phases      each phaseEnd mark closes a phase that began at the previous
 *               mark, or at 'requested' for the first mark of a pause; a name
 *               marked twice in one pause adds up
 *
 * It runs a few times per pause, never per object: allocation here is fine.
 */
import type { GcEventListener, PauseEventName } from '../vm-core/events.js';
import { WORD_BYTES } from '../vm-core/layout.js';

/** Phases the VM marks around heap verification; their time is verifyMs, not pause time. */
export const VERIFY_PHASES: ReadonlySet<string> = new Set(['verify-before', 'verify-after']);

export interface PauseRecord {
  index: number;
  /** From 'prepare' (e.g. 'evacuation'); changed by reclassify (e.g. 'evacuation-failure'); 'unknown' if never announced. */
  kind: string;
  cause: string;
  /** Milliseconds since the VM started, at 'requested'. */
  startMs: number;
  /** Pause time without heap verification. */
  durationMs: number;
  /** Heap verification time inside this pause. */
  verifyMs: number;
  /** Milliseconds per named phase (verification phases excluded). */
  phases: Record<string, number>;
  /** Work counters: objectsMarked, bytesMarked, bytesCopied, objectsCopied, regionsInCset, ... */
  counters: Record<string, number>;
  usedBytesBefore: number;
  usedBytesAfter: number;
}

export interface ConcurrentPhaseRecord {
  phase: string;
  startMs: number;
  /** -1 while still running (a run ended inside the phase). */
  durationMs: number;
}

interface OpenPause {
  record: PauseRecord;
  lastMarkMs: number;
}

export class PauseRecorder implements GcEventListener {
  readonly pauses: PauseRecord[] = [];
  readonly concurrentPhases: ConcurrentPhaseRecord[] = [];
  /** Counters added outside any pause (by concurrent work). */
  readonly concurrentCounters: Record<string, number> = {};
  private open: OpenPause | null = null;
  private readonly openConcurrent = new Map<string, ConcurrentPhaseRecord>();

  /** @param usedWordsNow the heap's used words right now (read when the mutators have stopped). */
  constructor(private readonly usedWordsNow: () => number) {}

  pauseEvent(name: PauseEventName, timeMs: number, detail: { cause?: string; kind?: string; usedWords?: number }): void {
    switch (name) {
      case 'requested':
        this.open = {
          record: {
            index: this.pauses.length,
            kind: 'unknown',
            cause: detail.cause ?? 'unknown',
            startMs: timeMs,
            durationMs: 0,
            verifyMs: 0,
            phases: {},
            counters: {},
            usedBytesBefore: this.usedWordsNow() * WORD_BYTES,
            usedBytesAfter: 0,
          },
          lastMarkMs: timeMs,
        };
        break;
      case 'mutators-stopped':
        // TLABs are retired now, so their unused tails no longer count as used.
        if (this.open) this.open.record.usedBytesBefore = this.usedWordsNow() * WORD_BYTES;
        break;
      case 'prepare':
        if (this.open && detail.kind) this.open.record.kind = detail.kind;
        break;
      case 'mutators-resumed': {
        const open = this.open;
        if (!open) return;
        const r = open.record;
        r.durationMs = Math.max(0, timeMs - r.startMs - r.verifyMs);
        r.usedBytesAfter = (detail.usedWords ?? this.usedWordsNow()) * WORD_BYTES;
        this.pauses.push(r);
        this.open = null;
        break;
      }
      default:
        break;
    }
  }

  phaseEnd(name: string, timeMs: number): void {
    const open = this.open;
    if (!open) return; // a concurrent cycle's phase: its bracket is concurrent-start/end
    const ms = timeMs - open.lastMarkMs;
    open.lastMarkMs = timeMs;
    const r = open.record;
    if (VERIFY_PHASES.has(name)) r.verifyMs += ms;
    else r.phases[name] = (r.phases[name] ?? 0) + ms;
  }

  count(name: string, value: number): void {
    const into = this.open ? this.open.record.counters : this.concurrentCounters;
    into[name] = (into[name] ?? 0) + value;
  }

  reclassify(kind: string): void {
    if (this.open) this.open.record.kind = kind;
  }

  concurrent(name: 'concurrent-start' | 'concurrent-end', phase: string, timeMs: number): void {
    if (name === 'concurrent-start') {
      const record = { phase, startMs: timeMs, durationMs: -1 };
      this.concurrentPhases.push(record);
      this.openConcurrent.set(phase, record);
      return;
    }
    const record = this.openConcurrent.get(phase);
    if (record) {
      record.durationMs = timeMs - record.startMs;
      this.openConcurrent.delete(phase);
    } else {
      this.concurrentPhases.push({ phase, startMs: timeMs, durationMs: 0 });
    }
  }
}
