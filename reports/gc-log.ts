/**
 * The GC log: a GcEventListener on the VM's event bus that writes
 *
 *   - with `file`: one JSON line per GC event (pino), every event whatever the
 *     terminal level: the seven pause events, phase ends, work counters,
 *     reclassifications, concurrent-phase starts and ends. Pause events log at
 *     pino's info level, the rest at debug. The line for 'mutators-resumed'
 *     carries the pause's summary (kind, cause, duration, heap before and
 *     after) and, as its msg, the terminal line.
 *   - on the terminal (stderr), in the style of HotSpot's -Xlog:gc:
 *       info   one line per pause, and one per finished concurrent phase
 *                [1.234s] Pause Evacuation (allocation) 120M->40M(256M) 3.200ms
 *              (uptime when the pause ended; kind and cause from the events;
 *              heap used before -> after (capacity), in M, or K below a 32 MiB
 *              heap, truncated as HotSpot does; the pause time without heap
 *              verification, exactly as the run report counts it)
 *       debug  also the phases of each pause and its work counters
 *                [1.234s] GC(3)   mark 1.234ms
 *                [1.234s] GC(3)   counters objectsMarked=299757 bytesCopied=98280
 *              and concurrent-phase starts
 *       silent nothing
 *
 * Everything stays on the calling thread: the file is a synchronous pino
 * destination (sonic-boom, `sync: true`), no transport worker, and terminal
 * lines are plain synchronous writes to stderr. The listener runs a few times
 * per pause; subscribing it adds no work per allocation or per store. Pause
 * records are built by a private PauseRecorder, so the numbers in the log are
 * those of the run report.
 */
import pino from 'pino';
import type { GcEventListener, PauseEventName } from '../vm-core/events.js';
import { UsageError } from '../vm-core/errors.js';
import type { Vm } from '../vm-core/vm.js';
import { type PauseRecord, PauseRecorder } from './recorder.js';

export type GcLogLevel = 'silent' | 'info' | 'debug';

export interface GcLogOptions {
  /** Write one JSON line per GC event to this file (created, with its directory; truncated if it exists). */
  file?: string;
  /** The terminal log's level. */
  level: GcLogLevel;
  /** The heap's capacity, shown in parentheses on every pause line. */
  heapBytes: number;
  /** Where terminal lines go (default: process.stderr); for tests. */
  terminal?: { write(text: string): unknown };
}

export interface GcLog {
  /** Flushes and closes the file; later events are ignored. Idempotent. */
  close(): Promise<void>;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/** `Evacuation Failure` from 'evacuation-failure'. */
export function pauseKindTitle(kind: string): string {
  return kind.split(/[-_\s]+/).filter((w) => w.length > 0).map((w) => w[0].toUpperCase() + w.slice(1)).join(' ') || 'Unknown';
}

/** Seconds since VM start as -Xlog's uptime decoration: `[1.234s]`. */
export function uptime(timeMs: number): string {
  return `[${(Math.max(0, timeMs) / 1000).toFixed(3)}s]`;
}

/** `120M->40M(256M)`: M for heaps of 32 MiB and more, K below; truncated (as HotSpot prints sizes). */
export function heapTransition(beforeBytes: number, afterBytes: number, heapBytes: number): string {
  const [unit, suffix] = heapBytes >= 32 * MIB ? [MIB, 'M'] : [KIB, 'K'];
  const f = (bytes: number): string => `${Math.floor(Math.max(0, bytes) / unit)}${suffix}`;
  return `${f(beforeBytes)}->${f(afterBytes)}(${f(heapBytes)})`;
}

/** The -Xlog:gc-style pause line, without the uptime: `Pause Evacuation (allocation) 120M->40M(256M) 3.200ms`. */
export function pauseLine(p: PauseRecord, heapBytes: number): string {
  return `Pause ${pauseKindTitle(p.kind)} (${p.cause}) ${heapTransition(p.usedBytesBefore, p.usedBytesAfter, heapBytes)} ${p.durationMs.toFixed(3)}ms`;
}

class GcLogListener implements GcEventListener {
  private readonly recorder: PauseRecorder;
  private closed = false;
  private gc = -1;
  private readonly terminalInfo: boolean;
  private readonly terminalDebug: boolean;
  /** Heap verification is on (--verify): its time inside a pause is shown at debug. */
  private readonly verifying: boolean;

  constructor(
    vm: Vm,
    private readonly heapBytes: number,
    level: GcLogLevel,
    private readonly terminal: { write(text: string): unknown },
    private readonly logger: pino.Logger | null,
  ) {
    const heap = vm.heap;
    this.recorder = new PauseRecorder(() => heap.accountedWords);
    this.terminalInfo = level === 'info' || level === 'debug';
    this.terminalDebug = level === 'debug';
    this.verifying = vm.verifyLevel !== 'off';
  }

  close(): void {
    this.closed = true;
  }

  private say(timeMs: number, text: string): void {
    this.terminal.write(`${uptime(timeMs)} ${text}\n`);
  }

  pauseEvent(name: PauseEventName, timeMs: number, detail: { cause?: string; kind?: string; usedWords?: number }): void {
    if (this.closed) return;
    if (name === 'requested') this.gc = this.recorder.pauses.length;
    this.recorder.pauseEvent(name, timeMs, detail);
    if (name !== 'mutators-resumed') {
      this.logger?.info({ event: name, gc: this.gc, tMs: timeMs, ...detail });
      return;
    }
    const p = this.recorder.pauses[this.recorder.pauses.length - 1];
    if (!p) return;
    const line = pauseLine(p, this.heapBytes);
    this.logger?.info({
      event: name, gc: p.index, tMs: timeMs, kind: p.kind, cause: p.cause, startMs: p.startMs, durationMs: p.durationMs,
      verifyMs: p.verifyMs, usedBytesBefore: p.usedBytesBefore, usedBytesAfter: p.usedBytesAfter, heapBytes: this.heapBytes,
    }, line);
    if (this.terminalInfo) this.say(timeMs, line);
    if (this.terminalDebug) {
      for (const [phase, ms] of Object.entries(p.phases)) this.say(timeMs, `GC(${p.index})   ${phase} ${ms.toFixed(3)}ms`);
      if (this.verifying && p.verifyMs > 0) this.say(timeMs, `GC(${p.index})   (verification ${p.verifyMs.toFixed(3)}ms, not counted)`);
      const counters = Object.entries(p.counters);
      if (counters.length) this.say(timeMs, `GC(${p.index})   counters ${counters.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
  }

  phaseEnd(name: string, timeMs: number): void {
    if (this.closed) return;
    this.recorder.phaseEnd(name, timeMs);
    this.logger?.debug({ event: 'phase-end', gc: this.recorder.pauses.length === this.gc ? this.gc : null, phase: name, tMs: timeMs });
  }

  count(name: string, value: number): void {
    if (this.closed) return;
    this.recorder.count(name, value);
    this.logger?.debug({ event: 'count', gc: this.recorder.pauses.length === this.gc ? this.gc : null, name, value });
  }

  reclassify(kind: string): void {
    if (this.closed) return;
    this.recorder.reclassify(kind);
    this.logger?.debug({ event: 'reclassify', gc: this.gc, kind });
  }

  concurrent(name: 'concurrent-start' | 'concurrent-end', phase: string, timeMs: number): void {
    if (this.closed) return;
    this.recorder.concurrent(name, phase, timeMs);
    if (name === 'concurrent-start') {
      this.logger?.debug({ event: name, phase, tMs: timeMs });
      if (this.terminalDebug) this.say(timeMs, `Concurrent ${phase} start`);
      return;
    }
    const record = [...this.recorder.concurrentPhases].reverse().find((r) => r.phase === phase);
    const ms = record ? record.durationMs : 0;
    this.logger?.debug({ event: name, phase, tMs: timeMs, durationMs: ms });
    if (this.terminalInfo) this.say(timeMs, `Concurrent ${phase} ${ms.toFixed(3)}ms`);
  }
}

/**
 * Subscribes a GC log to the VM's events (see the file comment). Call close()
 * when the run ends, also after a failure, so the file is complete.
 */
export function attachGcLog(vm: Vm, options: GcLogOptions): GcLog {
  let destination: ReturnType<typeof pino.destination> | null = null;
  let logger: pino.Logger | null = null;
  if (options.file !== undefined) {
    try {
      destination = pino.destination({ dest: options.file, sync: true, mkdir: true, append: false });
    } catch (e) {
      throw new UsageError(`cannot write GC log ${options.file}: ${(e as Error).message}`);
    }
    logger = pino({ level: 'debug', base: null }, destination);
  }
  const listener = new GcLogListener(vm, options.heapBytes, options.level, options.terminal ?? process.stderr, logger);
  vm.events.subscribe(listener);
  let closing: Promise<void> | null = null;
  return {
    close(): Promise<void> {
      if (closing) return closing;
      listener.close();
      const dest = destination;
      closing = dest === null
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
          dest.once('close', () => resolve());
          dest.once('error', (err: Error) => reject(err));
          dest.flushSync();
          dest.end();
        });
      return closing;
    },
  };
}
