/**
 * GC events: the only channel from a collector to reports (collectors never
 * print). Every pause emits, in this fixed order (as Whippet's event
 * listener), skipping those that do not apply but never reordering:
 *
 *   requested -> mutators-stopped -> prepare(kind) -> roots-traced
 *             -> heap-traced -> evacuated -> mutators-resumed
 *
 * Within a pause a collector also marks the end of named phases
 * (`phaseEnd('copy')`) and adds work counters (`count('wordsCopied', n)`), once
 * per phase, never per object. Concurrent work is bracketed by
 * concurrent-start / concurrent-end outside pauses.
 */

export const EV_REQUESTED = 'requested';
export const EV_MUTATORS_STOPPED = 'mutators-stopped';
export const EV_PREPARE = 'prepare';
export const EV_ROOTS_TRACED = 'roots-traced';
export const EV_HEAP_TRACED = 'heap-traced';
export const EV_EVACUATED = 'evacuated';
export const EV_MUTATORS_RESUMED = 'mutators-resumed';
export const EV_CONCURRENT_START = 'concurrent-start';
export const EV_CONCURRENT_END = 'concurrent-end';

export const PAUSE_EVENT_ORDER = [
  EV_REQUESTED, EV_MUTATORS_STOPPED, EV_PREPARE, EV_ROOTS_TRACED, EV_HEAP_TRACED, EV_EVACUATED, EV_MUTATORS_RESUMED,
] as const;

export type PauseEventName = (typeof PAUSE_EVENT_ORDER)[number];

export interface GcEventListener {
  /** A fixed-order pause event. `timeMs` is milliseconds since the VM started. */
  pauseEvent(name: PauseEventName, timeMs: number, detail: { cause?: string; kind?: string; usedWords?: number }): void;
  /** The end of a named phase of the current pause (or of a concurrent cycle). */
  phaseEnd(name: string, timeMs: number): void;
  /** Work done in the current pause. */
  count(name: string, value: number): void;
  /** The collector learned the pause is of another kind than announced (e.g. evacuation failure). */
  reclassify(kind: string): void;
  concurrent(name: typeof EV_CONCURRENT_START | typeof EV_CONCURRENT_END, phase: string, timeMs: number): void;
}

export class GcEvents {
  private readonly listeners: GcEventListener[] = [];
  readonly startTime = performance.now();
  /** Position in PAUSE_EVENT_ORDER of the last event of the current pause; -1 outside pauses. */
  private position = -1;

  subscribe(listener: GcEventListener): void {
    this.listeners.push(listener);
  }

  now(): number {
    return performance.now() - this.startTime;
  }

  get inPause(): boolean {
    return this.position >= 0;
  }

  emit(name: PauseEventName, detail: { cause?: string; kind?: string; usedWords?: number } = {}): void {
    const at = PAUSE_EVENT_ORDER.indexOf(name);
    if (name === EV_REQUESTED ? this.position !== -1 : this.position === -1 || at <= this.position) {
      throw new Error(`GC event '${name}' out of order (after '${this.position < 0 ? 'none' : PAUSE_EVENT_ORDER[this.position]}')`);
    }
    this.position = name === EV_MUTATORS_RESUMED ? -1 : at;
    const t = this.now();
    for (const l of this.listeners) l.pauseEvent(name, t, detail);
  }

  phaseEnd(name: string): void {
    const t = this.now();
    for (const l of this.listeners) l.phaseEnd(name, t);
  }

  count(name: string, value: number): void {
    if (value === 0) return;
    for (const l of this.listeners) l.count(name, value);
  }

  reclassify(kind: string): void {
    for (const l of this.listeners) l.reclassify(kind);
  }

  concurrent(name: typeof EV_CONCURRENT_START | typeof EV_CONCURRENT_END, phase: string): void {
    const t = this.now();
    for (const l of this.listeners) l.concurrent(name, phase, t);
  }
}
