/**
 * Concurrent SATB marking on one worker_threads worker that shares the heap,
 * side-metadata, region-table and type-registry buffers with the mutator
 * thread. The building block a concurrent collector (cre, g1) drives:
 *
 *   start(heap)            spawn the worker once (~40 ms); reuse it for every cycle
 *   beginCycle(roots, n)   in a pause: clear the next bitmap and live words, TAMS := top for
 *                          every region, mark and push the roots, let the worker trace
 *   enqueueSatb(refs, n)   mutator thread, any time in the cycle: overwritten references
 *   idle                   the worker has nothing left to do (poll at safepoints)
 *   remark(roots, n)       in a pause: stop the worker at a safe point of its loop, drain the
 *                          SATB entries and the gray stack here, mark the final roots, finish
 *   isMarked / liveWords   results, valid after remark until the next beginCycle
 *
 *      mutator thread                                 marker worker
 *   beginCycle ── CMD=MARK, SIGNAL++ ──notify──────▶ load stack, run closure ...
 *   mutator runs; SATB barrier fills m.satbBuffer
 *   enqueueSatb ── ring[head..], SIGNAL++ ─────────▶ drains the ring between chunks
 *                                                    out of work: DONE_SIGNAL, Atomics.wait
 *   remark ─────── CMD=STOP, SIGNAL++ ──notify─────▶ publish stack, ACK++ ──notify──┐
 *   Atomics.wait(ACK) ◀───────────────────────────────────────────────────────────────┘
 *   drain pending SATB + ring + roots + stack here (same MarkClosure code), CMD=IDLE
 *
 * Preconditions the caller keeps (a pause does): beginCycle is called with
 * every TLAB retired, so a region's top is the end of its initialised objects
 * and every object below TAMS = top is complete; during the cycle no object
 * below TAMS moves and no region is released (evacuation waits for remark);
 * the SATB barrier is on (m.marking = true) from beginCycle to remark and every
 * mutator's SATB buffer reaches enqueueSatb (the VM flushes them when full and
 * at every pause). Marks go to heap.meta.markBitmap (the next bitmap).
 *
 * Objects at or above TAMS are allocated after the snapshot: implicitly live,
 * never marked, never read by the worker. liveWords(r) counts marked words
 * below TAMS only; top - TAMS of the region is live on top of that.
 *
 * With one free core the worker simply competes with the mutator thread (the
 * machines these runs were measured on have 2 cores).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import type { Heap } from '../heap.js';
import {
  ACK, CMD, CMD_ATTACH, CMD_EXIT, CMD_IDLE, CONTROL_INTS, CMD_MARK, CMD_STOP, DONE_SIGNAL, F_BUSY_MS, type HeapBuffers, MarkClosure,
  type MarkerBuffers, type MarkHeapViews, newMarkerBuffers, readErrorText, SATB_HEAD, SATB_TAIL, SIGNAL, STATE,
  STATE_EXITED, STATE_FAILED, STATE_PARKED, W_OBJECTS, W_WORDS,
} from './shared-work-list.js';

export interface ConcurrentMarkerOptions {
  /** Gray stack entries (fixed; overflow falls back to rescanning marked objects). Default: heap words / 8, in [64 Ki, 4 Mi]. */
  grayCapacity?: number;
  /** SATB ring entries, a power of two (overflow stays on the mutator thread until the ring has room). Default 256 Ki. */
  satbCapacity?: number;
  /** The compiled worker; default: marker-worker.js beside this module, or dist/vm-core/concurrent/ when running from source. */
  workerUrl?: URL;
  /** How long a pause waits for the worker to acknowledge before giving up (ms). Default 30 000. */
  ackTimeoutMs?: number;
}

export interface RemarkResult {
  /** Objects (and their words) marked this cycle, by either thread, objects at/above TAMS not included. */
  objectsMarked: number;
  wordsMarked: number;
  /** Wall-clock time from beginCycle to remark. */
  concurrentMs: number;
  /** Wall-clock time of remark (stop the worker, drain, finish the closure). */
  remarkMs: number;
  /** The worker's share of objectsMarked, and the time it spent marking. */
  workerObjectsMarked: number;
  workerBusyMs: number;
}

/** Where the compiled worker lives: beside this module when it is compiled, in dist/ when running from TypeScript source. */
export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new URL('./marker-worker.js', here);
  return new URL('../../dist/vm-core/concurrent/marker-worker.js', here);
}

function heapBuffers(heap: Heap): HeapBuffers {
  return {
    heap: heap.buffer,
    meta: heap.meta.arrays.buffer,
    regions: heap.regions.arrays.buffer,
    types: heap.types.arrays.buffer,
    heapBytes: heap.heapBytes,
    regionCount: heap.regionCount,
    logRegionWords: heap.logRegionWords,
  };
}

function heapViews(heap: Heap): MarkHeapViews {
  return {
    words: heap.words,
    bitmap: heap.meta.markBitmap,
    tams: heap.regions.tams,
    liveWords: heap.regions.liveWords,
    regionCount: heap.regionCount,
    logRegionWords: heap.logRegionWords,
    typeKind: heap.types.kind,
    typeRefs: heap.types.refs,
    typeSize: heap.types.sizeWords,
    elementWords: heap.types.elementWords,
  };
}

export class ConcurrentMarker {
  private readonly control: Int32Array;
  private readonly timing: Float64Array;
  private readonly closure: MarkClosure;
  private readonly satb: Int32Array;
  /** SATB entries that did not fit the ring (mutator-thread private). */
  private pending = new Int32Array(1024);
  private pendingCount = 0;
  private active = false;
  private exited = false;
  private cycleStart = 0;
  /** Cycles completed, SATB entries received and ring overflows, for reports. */
  cycles = 0;
  satbEntries = 0;
  satbOverflows = 0;

  private constructor(
    private heap: Heap,
    private readonly worker: Worker,
    private readonly port: MessagePort,
    buffers: MarkerBuffers,
    private readonly ackTimeoutMs: number,
  ) {
    this.closure = new MarkClosure(buffers, heapViews(heap));
    this.control = this.closure.control;
    this.timing = this.closure.timing;
    this.satb = this.closure.satb;
  }

  /**
   * Spawns the marker worker over heap's shared buffers without waiting for it:
   * the worker starts on its own thread (it needs no turn of this thread's event
   * loop), and `ready` turns true once it has acknowledged (~40 ms). For callers
   * that never yield to the event loop, e.g. a collector inside a synchronous
   * run. The worker is unref'd: it never keeps the process alive.
   */
  static spawn(heap: Heap, options: ConcurrentMarkerOptions = {}): ConcurrentMarker {
    const url = options.workerUrl ?? defaultWorkerUrl();
    if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
      throw new Error(`concurrent marker: the compiled worker ${fileURLToPath(url)} does not exist; workers run compiled JavaScript, so build first (npm run build)`);
    }
    const grayCapacity = options.grayCapacity ?? Math.min(1 << 22, Math.max(1 << 16, heap.heapWords >> 3));
    const buffers = newMarkerBuffers(grayCapacity, options.satbCapacity ?? 1 << 18);
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(url, { workerData: { buffers, heap: heapBuffers(heap), port: port2 }, transferList: [port2] });
    worker.unref();
    port1.unref();
    const marker = new ConcurrentMarker(heap, worker, port1, buffers, options.ackTimeoutMs ?? 30_000);
    worker.on('error', (e: Error) => { marker.startError = e; });
    return marker;
  }

  /** Spawns the marker worker over heap's shared buffers and waits until it is ready. */
  static async start(heap: Heap, options: ConcurrentMarkerOptions = {}): Promise<ConcurrentMarker> {
    const marker = ConcurrentMarker.spawn(heap, options);
    const control = marker.control;
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (marker.startError) {
          clearInterval(poll);
          reject(new Error(`concurrent marker: the worker failed to start: ${marker.startError.message}`));
          return;
        }
        if (Atomics.load(control, ACK) === 0) return;
        clearInterval(poll);
        if (Atomics.load(control, STATE) === STATE_FAILED) reject(new Error(`concurrent marker: ${readErrorText(marker.closure.buffers.error)}`));
        else resolve();
      }, 1);
    });
    return marker;
  }

  /** The worker failed to load (an 'error' event; only seen when this thread's event loop turns). */
  private startError: Error | null = null;

  /** The worker has started and acknowledged, and has not failed or exited (non-blocking). */
  get ready(): boolean {
    if (this.exited || this.startError) return false;
    const control = this.control;
    if (Atomics.load(control, ACK) === 0) return false;
    const state = Atomics.load(control, STATE);
    return state !== STATE_FAILED && state !== STATE_EXITED;
  }

  /** The worker can no longer be used (it failed, exited or was terminated). */
  get unusable(): boolean {
    if (this.exited || this.startError) return true;
    const state = Atomics.load(this.control, STATE);
    return state === STATE_FAILED || state === STATE_EXITED;
  }

  /** The heap whose buffers the worker currently marks. */
  get attachedHeap(): Heap {
    return this.heap;
  }

  /** Points the (idle) worker at another heap's buffers; the marker's queues are kept. Not during a cycle. */
  attach(heap: Heap): void {
    if (this.active) throw new Error('concurrent marker: attach during a marking cycle');
    this.port.postMessage({ heap: heapBuffers(heap) });
    this.command(CMD_ATTACH);
    this.heap = heap;
    this.closure.attach(heapViews(heap));
    this.release(CMD_IDLE);
  }

  /**
   * Concurrent start, in a pause with every TLAB retired: clears the next mark
   * bitmap and the per-region live words, sets each region's TAMS to its top,
   * marks and pushes the non-null roots[0..rootCount), and starts the worker.
   * With keepTams the caller has set TAMS itself: a generational collector sets
   * TAMS = bottom for young and free regions, so the marker never reads or marks
   * young objects (they move during the cycle) and every region claimed during
   * the cycle is implicitly live.
   */
  beginCycle(roots: Int32Array, rootCount: number, options: { keepTams?: boolean } = {}): void {
    if (this.active) throw new Error('concurrent marker: beginCycle while a cycle is active (remark first)');
    if (this.exited) throw new Error('concurrent marker: terminated');
    const heap = this.heap;
    const regions = heap.regions;
    heap.meta.markBitmap.fill(0);
    regions.liveWords.fill(0);
    if (!options.keepTams) regions.tams.set(regions.top);
    const control = this.control;
    Atomics.store(control, SATB_HEAD, 0);
    Atomics.store(control, SATB_TAIL, 0);
    Atomics.store(control, W_OBJECTS, 0);
    Atomics.store(control, W_WORDS, 0);
    this.timing[F_BUSY_MS] = 0;
    this.pendingCount = 0;
    const closure = this.closure;
    closure.sp = 0;
    closure.overflow = false;
    closure.resetCounters();
    for (let i = 0; i < rootCount; i++) closure.markRef(roots[i]);
    closure.publish();
    this.active = true;
    this.cycleStart = performance.now();
    Atomics.store(control, CMD, CMD_MARK);
    Atomics.add(control, SIGNAL, 1);
    Atomics.notify(control, SIGNAL);
  }

  /** SATB: hands refs[0..n) (overwritten references) to the marker; mutator thread, during a cycle. Copies; never blocks. */
  enqueueSatb(refs: Int32Array, n: number): void {
    if (!this.active || n <= 0) return;
    this.satbEntries += n;
    if (this.pendingCount > 0) this.movePending();
    const written = this.pendingCount > 0 ? 0 : this.pushRing(refs, 0, n);
    if (written < n) this.keepPending(refs, written, n);
    const control = this.control;
    Atomics.add(control, SIGNAL, 1);
    if (Atomics.load(control, STATE) === STATE_PARKED) Atomics.notify(control, SIGNAL);
  }

  /**
   * Remark, in a pause: stops the worker at a safe point of its loop, then on
   * this thread drains the SATB entries, marks the final roots and completes
   * the closure. Afterwards every object below TAMS that is reachable from the
   * roots, or was reachable at the snapshot, is marked.
   */
  remark(roots: Int32Array, rootCount: number): RemarkResult {
    if (!this.active) throw new Error('concurrent marker: remark without beginCycle');
    const t0 = performance.now();
    this.command(CMD_STOP);
    const closure = this.closure;
    closure.load();
    for (let i = 0; i < this.pendingCount; i++) closure.markRef(this.pending[i]);
    this.pendingCount = 0;
    for (let i = 0; i < rootCount; i++) closure.markRef(roots[i]);
    closure.run(false);
    closure.publish();
    const control = this.control;
    const workerObjects = Atomics.load(control, W_OBJECTS);
    const workerWords = Atomics.load(control, W_WORDS);
    const workerBusyMs = this.timing[F_BUSY_MS];
    this.active = false;
    this.cycles++;
    this.release(CMD_IDLE);
    const t1 = performance.now();
    return {
      objectsMarked: closure.objects + workerObjects,
      wordsMarked: closure.marked + workerWords,
      concurrentMs: t0 - this.cycleStart,
      remarkMs: t1 - t0,
      workerObjectsMarked: workerObjects,
      workerBusyMs,
    };
  }

  /**
   * Abandons the active cycle, in a pause: stops the worker at a safe point of
   * its loop and drops its gray stack and every queued SATB entry. The marks
   * made so far mean nothing afterwards (a full collection discards the cycle).
   */
  abort(): void {
    if (!this.active) return;
    this.command(CMD_STOP);
    const closure = this.closure;
    closure.load();
    closure.sp = 0;
    closure.overflow = false;
    closure.publish();
    const control = this.control;
    Atomics.store(control, SATB_TAIL, Atomics.load(control, SATB_HEAD));
    this.pendingCount = 0;
    this.active = false;
    this.release(CMD_IDLE);
  }

  /** Marked in the current/last cycle, or at/above its region's TAMS (allocated since the snapshot). */
  isMarked(ref: number): boolean {
    const heap = this.heap;
    if (ref >= heap.regions.tams[ref >> heap.logRegionWords]) return true;
    return ((Atomics.load(heap.meta.markBitmap, ref >> 6) >>> ((ref >> 1) & 31)) & 1) !== 0;
  }

  /** Words of marked objects below TAMS in region r (objects at/above TAMS, top - TAMS words, are live too). */
  liveWords(region: number): number {
    return Atomics.load(this.heap.regions.liveWords, region);
  }

  /** True when no cycle is active, or the worker has run out of work since the last enqueue (mutator thread). */
  get idle(): boolean {
    if (!this.active) return true;
    const control = this.control;
    if (this.pendingCount > 0) {
      this.movePending();
      Atomics.add(control, SIGNAL, 1);
      Atomics.notify(control, SIGNAL);
      return false;
    }
    return Atomics.load(control, DONE_SIGNAL) === Atomics.load(control, SIGNAL);
  }

  get cycleActive(): boolean { return this.active; }

  /** Stops the worker thread (ends an active cycle without completing it). */
  async terminate(): Promise<void> {
    if (this.exited) return;
    this.exited = true;
    this.active = false;
    const exit = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    if (Atomics.load(this.control, STATE) !== STATE_FAILED) {
      Atomics.store(this.control, CMD, CMD_EXIT);
      Atomics.add(this.control, SIGNAL, 1);
      Atomics.notify(this.control, SIGNAL);
    }
    const timer = setTimeout(() => { void this.worker.terminate(); }, 2000);
    await exit;
    clearTimeout(timer);
    this.port.close();
  }

  // ---- internals --------------------------------------------------------------------

  /** Copies up to n entries of src from `from` into the SATB ring; returns how many fit. */
  private pushRing(src: Int32Array, from: number, n: number): number {
    const control = this.control;
    const ring = this.satb;
    const capacity = ring.length;
    const head = control[SATB_HEAD];
    const free = capacity - ((head - Atomics.load(control, SATB_TAIL)) | 0);
    const k = Math.min(free, n);
    if (k <= 0) return 0;
    const at = head & (capacity - 1);
    const first = Math.min(k, capacity - at);
    ring.set(src.subarray(from, from + first), at);
    if (first < k) ring.set(src.subarray(from + first, from + k), 0);
    Atomics.store(control, SATB_HEAD, (head + k) | 0);
    return k;
  }

  /** Moves what fits of the overflow list into the ring. */
  private movePending(): void {
    const moved = this.pushRing(this.pending, 0, this.pendingCount);
    this.pending.copyWithin(0, moved, this.pendingCount);
    this.pendingCount -= moved;
  }

  private keepPending(src: Int32Array, from: number, to: number): void {
    const n = to - from;
    this.satbOverflows++;
    if (this.pendingCount + n > this.pending.length) {
      const bigger = new Int32Array(Math.max(this.pending.length * 2, this.pendingCount + n));
      bigger.set(this.pending.subarray(0, this.pendingCount));
      this.pending = bigger;
    }
    this.pending.set(src.subarray(from, to), this.pendingCount);
    this.pendingCount += n;
  }

  /** Gives the worker a command and waits (Atomics.wait) until it acknowledges. */
  private command(cmd: number): void {
    const control = this.control;
    if (this.exited) throw new Error('concurrent marker: terminated');
    const ack = Atomics.load(control, ACK);
    Atomics.store(control, CMD, cmd);
    Atomics.add(control, SIGNAL, 1);
    Atomics.notify(control, SIGNAL);
    const deadline = performance.now() + this.ackTimeoutMs;
    while (Atomics.load(control, ACK) === ack) {
      const state = Atomics.load(control, STATE);
      if (state === STATE_FAILED || state === STATE_EXITED) break;
      if (performance.now() > deadline) throw new Error(`concurrent marker: the worker did not acknowledge command ${cmd} within ${this.ackTimeoutMs} ms`);
      Atomics.wait(control, ACK, ack, 50);
    }
    const state = Atomics.load(control, STATE);
    if (state === STATE_FAILED) {
      this.exited = true;
      throw new Error(`concurrent marker: the worker failed: ${readErrorText(this.closure.buffers.error)}`);
    }
    if (state === STATE_EXITED) throw new Error('concurrent marker: the worker has exited');
  }

  /** Lets the worker go on after an acknowledged command. */
  private release(cmd: number): void {
    const control = this.control;
    Atomics.store(control, CMD, cmd);
    Atomics.add(control, SIGNAL, 1);
    Atomics.notify(control, SIGNAL);
  }
}
