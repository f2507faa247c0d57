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
 *   beginRebuild()         after remark (in the pause): the worker rebuilds remembered sets and
 *                          scrubs dead objects (rebuild-scrub.ts) from the task in rebuildTask(heap);
 *   drainPairs(add)        mutator thread: the (target region, card) pairs it found so far;
 *   finishRebuild(add)     in the cleanup pause: what is left, and the counts
 *   suspend / resume       a cycle's worker yields while the mutators are stopped (pauses,
 *                          verification: suspend when the TLABs are retired) and goes on when they
 *                          run (resume on an allocation slow path), as HotSpot's concurrent GC threads
 *                          yield at safepoints; `idle` keeps its value across a suspension
 *
 *      mutator thread                                    marker worker
 *   beginCycle ── CMD=MARK#s, SIGNAL++ ──notify──────▶ load stack, run closure ...
 *   mutator runs; SATB barrier fills m.satbBuffer
 *   enqueueSatb ── ring[head..], SIGNAL++ ────────────▶ drains the ring between chunks
 *                                                       out of work: DONE_SIGNAL, Atomics.wait
 *   remark ─────── CMD=STOP#s+1, SIGNAL++ ──notify───▶ publish stack, ACK=s+1 ──notify──┐
 *   Atomics.wait(ACK) until ACK === s+1 ◀───────────────────────────────────────────────┘
 *   drain pending SATB + ring + roots + stack here (same MarkClosure code), CMD=IDLE#s+2
 *
 * Every command word carries a fresh sequence number and a command that needs
 * an answer waits for ACK to equal exactly its number (shared-work-list.ts,
 * "The handshake"): a command seen twice by the worker is carried out once,
 * and no acknowledgement can be mistaken for another's.
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
import type { AttachMessage } from './marker-worker.js';
import { RebuildScrub, type RebuildViews, rebuildTaskInts } from './rebuild-scrub.js';
import {
  ACK, CMD, CMD_ATTACH, CMD_EXIT, CMD_IDLE, CMD_MARK, CMD_SEQ_MASK, CMD_SEQ_SHIFT, CMD_STOP, DONE_SIGNAL, F_BUSY_MS, type HeapBuffers,
  MarkClosure, type MarkerBuffers, type MarkHeapViews, newMarkerBuffers, PACE_US, readErrorText, SATB_HEAD, SATB_TAIL, SIGNAL, STATE,
  STATE_EXITED, STATE_FAILED, STATE_PARKED, STATE_STARTING, W_OBJECTS, W_SATB, W_SATB_OBJECTS, W_WORDS,
  CMD_REBUILD, F_REBUILD_MS, PAIRS_HEAD, PAIRS_TAIL, REB_FRESH, REB_INDEX, REB_PASS, ROOT_INDEX, ROOT_POS, REB_OBJ, REB_POS, REB_SLOT, W_PAIRS, W_SCRUBBED,
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
  /** Remembered-set rebuild ring entries, a power of two (a full ring makes the worker wait). Default 256 Ki. */
  pairCapacity?: number;
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
  /** SATB entries handed to the marker this cycle (null entries are filtered by the barrier). */
  satbEntries: number;
  /** Of those, entries handed over while the worker had work outstanding (it was marking: not idle). */
  satbEntriesWhileMarking: number;
  /** SATB entries the worker itself took from the ring (while the mutator ran), the rest were drained at remark. */
  workerSatbEntries: number;
  /** Objects marked first from an SATB entry (by either thread): what the snapshot kept that tracing had not reached. */
  satbObjectsMarked: number;
}

/** Where the compiled worker lives: beside this module when it is compiled, in dist/ when running from TypeScript source. */
export function defaultWorkerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new URL('./marker-worker.js', here);
  return new URL('../../dist/vm-core/concurrent/marker-worker.js', here);
}

/** Each heap's rebuild task buffer (rebuild-scrub.ts), made on first use. */
const rebuildBuffers = new WeakMap<Heap, SharedArrayBuffer>();

function rebuildBufferOf(heap: Heap): SharedArrayBuffer {
  let b = rebuildBuffers.get(heap);
  if (b === undefined) {
    b = new SharedArrayBuffer(rebuildTaskInts(heap.regionCount) * 4);
    rebuildBuffers.set(heap, b);
  }
  return b;
}

/** The rebuild task of heap, for the collector to fill before beginRebuild (layout: rebuild-scrub.ts). */
export function rebuildTask(heap: Heap): Int32Array {
  return new Int32Array(rebuildBufferOf(heap));
}

/** The buffers of heap as the worker needs them (posted with an ATTACH command). */
export function heapBuffers(heap: Heap): HeapBuffers {
  return {
    heap: heap.buffer,
    meta: heap.meta.arrays.buffer,
    regions: heap.regions.arrays.buffer,
    types: heap.types.arrays.buffer,
    heapBytes: heap.heapBytes,
    regionCount: heap.regionCount,
    logRegionWords: heap.logRegionWords,
    rebuild: rebuildBufferOf(heap),
  };
}

function rebuildViews(heap: Heap): RebuildViews {
  return {
    words: heap.words,
    bitmap: heap.meta.markBitmap,
    tams: heap.regions.tams,
    kind: heap.regions.kind,
    blockOffsets: heap.meta.blockOffsets,
    refStarts: heap.meta.refStarts,
    refStartsKept: heap.regions.refStartsKept,
    typeKind: heap.types.kind,
    typeRefs: heap.types.refs,
    typeSize: heap.types.sizeWords,
    elementWords: heap.types.elementWords,
    regionCount: heap.regionCount,
    logRegionWords: heap.logRegionWords,
    task: rebuildTask(heap),
  };
}

export interface RebuildResult {
  /** (target, card) pairs found (each added to a remembered set by the mutator thread). */
  pairs: number;
  /** Words of dead objects turned into fillers. */
  scrubbedWords: number;
  /** Wall-clock time from beginRebuild to finishRebuild, and the worker's busy time in it. */
  concurrentMs: number;
  workerMs: number;
  /** Pairs the mutator thread found itself at finishRebuild (the worker had not finished). */
  finishedHere: number;
}

function heapViews(heap: Heap): MarkHeapViews {
  return {
    task: rebuildTask(heap),
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
  /** What the active cycle's worker does: mark (beginCycle .. remark) or rebuild (beginRebuild .. finishRebuild). */
  private mode: 'mark' | 'rebuild' = 'mark';
  /** The worker has been told to work (MARK / REBUILD) and not stopped since. */
  private running = false;
  /** `idle` as it was when the worker was suspended. */
  private idleLatch = false;
  /** The worker was suspended with work outstanding (entries flushed by that pause were recorded while it marked). */
  private busyAtSuspend = false;
  private readonly pairRing: Int32Array;
  private readonly rebuilder: RebuildScrub;
  private rebuildStart = 0;
  private exited = false;
  private cycleStart = 0;
  /** The seq of the last command word written (commands are numbered from 1). */
  private seq = 0;
  /** Cycles completed, SATB entries received and ring overflows, for reports. */
  cycles = 0;
  satbEntries = 0;
  satbOverflows = 0;
  /** Commands given and commands that waited for an acknowledgement (the hand-over stress test counts them). */
  commands = 0;
  acknowledged = 0;
  /** Root-region scans a pause had to finish on the mutator thread (the worker had not). */
  rootScansFinishedHere = 0;
  /** This cycle's SATB entries, and those handed over while the worker was not idle. */
  private cycleSatb = 0;
  private cycleSatbWhileMarking = 0;

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
    this.pairRing = new Int32Array(buffers.pairs);
    this.rebuilder = new RebuildScrub(this.control, this.pairRing, rebuildViews(heap));
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
    const buffers = newMarkerBuffers(grayCapacity, options.satbCapacity ?? 1 << 18, options.pairCapacity ?? 1 << 18);
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
        if (Atomics.load(control, STATE) === STATE_STARTING) return;
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
    const state = Atomics.load(this.control, STATE);
    return state !== STATE_STARTING && state !== STATE_FAILED && state !== STATE_EXITED;
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
    if (this.exited) throw new Error('concurrent marker: terminated');
    const word = this.nextWord(CMD_ATTACH);
    const message: AttachMessage = { seq: this.seq, heap: heapBuffers(heap) };
    this.port.postMessage(message); // before the command word: the worker looks for it once it sees ATTACH
    this.command(word);
    this.heap = heap;
    this.closure.attach(heapViews(heap));
    this.rebuilder.attach(rebuildViews(heap));
    this.release(CMD_IDLE);
  }

  /**
   * Concurrent start, in a pause with every TLAB retired: clears the next mark
   * bitmap and the per-region live words, sets each region's TAMS to its top,
   * marks and pushes the non-null roots[0..rootCount), and starts the worker.
   * With keepTams the caller has set TAMS itself: a generational collector sets
   * TAMS = bottom for young and free regions, so the marker never reads or marks
   * young objects (they move during the cycle) and every region claimed during
   * the cycle is implicitly live. paceUs (tests): the worker rests this many µs
   * after every PACE_OBJECTS objects it marks, so the mutator races a slow marker.
   * start false: the worker begins at the first resume() (when the mutators run).
   * rootRegions: regions whose objects' references are roots too (the survivors:
   * young objects are never marked), scanned by the worker before it traces
   * (MarkClosure.scanRootRegions); they must not move until that is done, so
   * suspend() finishes the scan on this thread if the worker has not.
   */
  beginCycle(roots: Int32Array, rootCount: number, options: { keepTams?: boolean; paceUs?: number; start?: boolean; rootRegions?: readonly number[] } = {}): void {
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
    Atomics.store(control, W_SATB, 0);
    Atomics.store(control, W_SATB_OBJECTS, 0);
    Atomics.store(control, PACE_US, Math.max(0, Math.round(options.paceUs ?? 0)));
    this.timing[F_BUSY_MS] = 0;
    this.pendingCount = 0;
    this.cycleSatb = 0;
    this.cycleSatbWhileMarking = 0;
    // the root regions, in the heap's task buffer (free until the rebuild after remark)
    const task = rebuildTask(heap);
    const rootRegions = options.rootRegions ?? [];
    const limitBase = 1 + heap.regionCount;
    task[0] = rootRegions.length;
    for (let i = 0; i < rootRegions.length; i++) {
      task[1 + i] = rootRegions[i];
      task[limitBase + rootRegions[i]] = regions.top[rootRegions[i]];
    }
    Atomics.store(control, ROOT_INDEX, 0);
    Atomics.store(control, ROOT_POS, -1);
    const closure = this.closure;
    closure.sp = 0;
    closure.overflow = false;
    closure.resetCounters();
    for (let i = 0; i < rootCount; i++) closure.markRef(roots[i]);
    closure.publish();
    this.active = true;
    this.mode = 'mark';
    this.idleLatch = false;
    this.busyAtSuspend = false;
    this.cycleStart = performance.now();
    this.running = false;
    if (options.start !== false) this.resume();
  }

  /** The worker goes on with the active cycle (MARK or REBUILD), if it was suspended or not yet started. */
  resume(): void {
    if (!this.active || this.running || this.exited) return;
    this.running = true;
    this.busyAtSuspend = false;
    this.release(this.mode === 'mark' ? CMD_MARK : CMD_REBUILD);
  }

  /**
   * The worker stops at a safe point and waits (a pause or a verification is
   * about to read the heap); `idle` keeps the value it had. No-op when no
   * cycle runs or the worker is suspended already.
   */
  suspend(): void {
    if (!this.active) return;
    if (this.running) {
      this.idleLatch = this.idle;
      this.busyAtSuspend = !this.idleLatch;
      this.running = false;
      this.command(this.nextWord(CMD_STOP));
    }
    this.finishRootScan();
  }

  /** The pause may move the root regions: the rest of their scan is done here (normally nothing is left). */
  private finishRootScan(): void {
    if (this.mode !== 'mark' || !this.active) return;
    const closure = this.closure;
    closure.load();
    if (closure.rootScanDone()) return;
    closure.scanRootRegions(false);
    closure.publish();
    this.idleLatch = false; // the marks it made have children to trace
    this.rootScansFinishedHere++;
  }

  /** The active cycle is a rebuild (after remark), not a marking. */
  get rebuilding(): boolean {
    return this.active && this.mode === 'rebuild';
  }

  /** SATB: hands refs[0..n) (overwritten references) to the marker; mutator thread, during a cycle. Copies; never blocks. */
  enqueueSatb(refs: Int32Array, n: number): void {
    if (!this.active || this.mode !== 'mark' || n <= 0) return;
    const control = this.control;
    this.satbEntries += n;
    this.cycleSatb += n;
    // the worker has not caught up with every command and enqueue so far: it is marking right now
    // (or, at a pause, it was suspended for it with work outstanding)
    if (this.running ? Atomics.load(control, DONE_SIGNAL) !== Atomics.load(control, SIGNAL) : this.busyAtSuspend) this.cycleSatbWhileMarking += n;
    if (this.pendingCount > 0) this.movePending();
    const written = this.pendingCount > 0 ? 0 : this.pushRing(refs, 0, n);
    if (written < n) this.keepPending(refs, written, n);
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
    if (!this.active || this.mode !== 'mark') throw new Error('concurrent marker: remark without beginCycle');
    const t0 = performance.now();
    this.command(this.nextWord(CMD_STOP));
    const closure = this.closure;
    closure.load(); // its counters run from beginCycle (the roots it marked then)
    closure.scanRootRegions(false); // normally done by the worker
    // SATB entries first (the ring, then what did not fit it), as they came
    closure.drainSatb();
    const pendingObjects = closure.objects;
    for (let i = 0; i < this.pendingCount; i++) closure.markRef(this.pending[i]);
    closure.satbTaken += this.pendingCount;
    closure.satbObjects += closure.objects - pendingObjects;
    this.pendingCount = 0;
    for (let i = 0; i < rootCount; i++) closure.markRef(roots[i]);
    closure.run(false);
    closure.publish();
    const control = this.control;
    const workerObjects = Atomics.load(control, W_OBJECTS);
    const workerWords = Atomics.load(control, W_WORDS);
    const workerSatb = Atomics.load(control, W_SATB);
    const workerSatbObjects = Atomics.load(control, W_SATB_OBJECTS);
    const workerBusyMs = this.timing[F_BUSY_MS];
    this.active = false;
    this.running = false;
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
      satbEntries: this.cycleSatb,
      satbEntriesWhileMarking: this.cycleSatbWhileMarking,
      workerSatbEntries: workerSatb,
      satbObjectsMarked: closure.satbObjects + workerSatbObjects,
    };
  }

  /**
   * Abandons the active cycle, in a pause: stops the worker at a safe point of
   * its loop and drops its gray stack and every queued SATB entry. The marks
   * made so far mean nothing afterwards (a full collection discards the cycle).
   */
  abort(): void {
    if (!this.active) return;
    this.command(this.nextWord(CMD_STOP));
    this.running = false;
    if (this.mode === 'rebuild') {
      // the fillers written so far stand (each is whole); the pairs found are dropped with the task
      Atomics.store(this.control, PAIRS_TAIL, Atomics.load(this.control, PAIRS_HEAD));
      this.active = false;
      this.release(CMD_IDLE);
      return;
    }
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

  // ---- remembered-set rebuild and scrubbing (rebuild-scrub.ts) ------------------------------------

  /**
   * After remark, in the pause, with rebuildTask(heap) filled in (regions,
   * tops at remark, targets; the targets already tracked by the remembered
   * sets): the worker rebuilds and scrubs from the first resume() on.
   */
  beginRebuild(): void {
    if (this.active) throw new Error('concurrent marker: beginRebuild while a cycle is active');
    if (this.exited) throw new Error('concurrent marker: terminated');
    const control = this.control;
    Atomics.store(control, REB_PASS, 1);
    Atomics.store(control, REB_INDEX, 0);
    Atomics.store(control, REB_OBJ, -1);
    Atomics.store(control, REB_SLOT, 0);
    Atomics.store(control, REB_POS, -1);
    Atomics.store(control, PAIRS_HEAD, 0);
    Atomics.store(control, PAIRS_TAIL, 0);
    Atomics.store(control, W_PAIRS, 0);
    Atomics.store(control, W_SCRUBBED, 0);
    Atomics.store(control, REB_FRESH, 1);
    this.timing[F_REBUILD_MS] = 0;
    this.active = true;
    this.mode = 'rebuild';
    this.running = false;
    this.idleLatch = false;
    this.rebuildStart = performance.now();
  }

  /** Mutator thread, during a rebuild: hands the (target, card) pairs found so far to add; returns how many. */
  drainPairs(add: (target: number, card: number) => void): number {
    const control = this.control;
    const head = Atomics.load(control, PAIRS_HEAD);
    let tail = control[PAIRS_TAIL];
    const n = (head - tail) | 0;
    if (n === 0) return 0;
    const ring = this.pairRing;
    const mask = (ring.length >> 1) - 1;
    for (; tail !== head; tail = (tail + 1) | 0) {
      const at = (tail & mask) << 1;
      add(ring[at], ring[at + 1]);
    }
    Atomics.store(control, PAIRS_TAIL, tail);
    // a worker waiting for room waits on PAIRS_TAIL (with the tail it saw): it looks again now
    Atomics.notify(control, PAIRS_TAIL);
    return n;
  }

  /**
   * Cleanup, in a pause: stops the worker, finishes on this thread whatever
   * is left of the task (nothing when the worker was idle), hands the
   * remaining pairs to add, and ends the rebuild.
   */
  finishRebuild(add: (target: number, card: number) => void): RebuildResult {
    if (!this.active || this.mode !== 'rebuild') throw new Error('concurrent marker: finishRebuild without beginRebuild');
    this.command(this.nextWord(CMD_STOP));
    this.running = false;
    const control = this.control;
    const rebuilder = this.rebuilder;
    rebuilder.resetCounters();
    if (Atomics.exchange(control, REB_FRESH, 0) === 1) rebuilder.startTask(); // the worker never started it
    // CMD stays this STOP: run() never sees it change; a full ring is drained here
    const word = Atomics.load(control, CMD);
    while (!rebuilder.run(word, () => this.drainPairs(add)));
    const finishedHere = rebuilder.pairs;
    rebuilder.publishCounters();
    this.drainPairs(add);
    const result: RebuildResult = {
      pairs: Atomics.load(control, W_PAIRS),
      scrubbedWords: Atomics.load(control, W_SCRUBBED),
      concurrentMs: performance.now() - this.rebuildStart,
      workerMs: this.timing[F_REBUILD_MS],
      finishedHere,
    };
    this.active = false;
    this.release(CMD_IDLE);
    return result;
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
    if (!this.running) return this.idleLatch;
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
    this.running = false;
    const exit = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    if (Atomics.load(this.control, STATE) !== STATE_FAILED) this.release(CMD_EXIT);
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

  /** The next command word: op with a fresh sequence number (this.seq). */
  private nextWord(op: number): number {
    this.seq = (this.seq + 1) & CMD_SEQ_MASK;
    this.commands++;
    return (this.seq << CMD_SEQ_SHIFT) | op;
  }

  /**
   * Writes a command word, then announces it: SIGNAL++ and notify (the worker
   * waits on SIGNAL; while the rebuild's pair ring is full, on PAIRS_TAIL).
   */
  private give(word: number): void {
    const control = this.control;
    Atomics.store(control, CMD, word);
    Atomics.add(control, SIGNAL, 1);
    Atomics.notify(control, SIGNAL);
    Atomics.notify(control, PAIRS_TAIL);
  }

  /**
   * Gives the worker a command word from nextWord and waits (Atomics.wait on
   * ACK, with the value last seen) until it acknowledges exactly that seq.
   */
  private command(word: number): void {
    const control = this.control;
    if (this.exited) throw new Error('concurrent marker: terminated');
    const seq = word >>> CMD_SEQ_SHIFT;
    this.give(word);
    const deadline = performance.now() + this.ackTimeoutMs;
    for (;;) {
      const ack = Atomics.load(control, ACK);
      if (ack === seq) break;
      const state = Atomics.load(control, STATE);
      if (state === STATE_FAILED || state === STATE_EXITED) break;
      if (performance.now() > deadline) {
        throw new Error(`concurrent marker: the worker did not acknowledge command ${word & 7} #${seq} within ${this.ackTimeoutMs} ms `
          + `(state ${state}, last acknowledged #${ack}, CMD word ${Atomics.load(control, CMD)})`);
      }
      Atomics.wait(control, ACK, ack, 50);
    }
    this.acknowledged++;
    const state = Atomics.load(control, STATE);
    if (state === STATE_FAILED) {
      this.exited = true;
      throw new Error(`concurrent marker: the worker failed: ${readErrorText(this.closure.buffers.error)}`);
    }
    if (state === STATE_EXITED) throw new Error('concurrent marker: the worker has exited');
  }

  /** Gives a command that needs no answer (MARK, IDLE after an acknowledged STOP / ATTACH, EXIT). */
  private release(op: number): void {
    this.give(this.nextWord(op));
  }
}
