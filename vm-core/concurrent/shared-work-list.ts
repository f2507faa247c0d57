/**
 * The marking state the mutator thread and the marker worker share, and the
 * one marking loop both run over it (the worker concurrently, the mutator
 * thread at remark), mirroring vm-core/tracer.ts but thread-safe.
 *
 * Four shared buffers besides the heap's own (heap words, side metadata,
 * region table, type registry, rebuild task: rebuild-scrub.ts):
 *
 *   control  Int32Array(32) + Float64Array   command / state / signal words, indices, counters
 *   gray     Int32Array(grayCapacity)        the gray stack (mark-on-push: each object pushed once)
 *   satb     Int32Array(satbCapacity)        SATB ring: the mutator thread produces, the marker consumes
 *   pairs    Int32Array(2 * pairCapacity)    remembered-set rebuild ring: (target region, card) pairs the
 *                                            worker finds (rebuild-scrub.ts), the mutator thread adds
 *
 *   control word   written by        meaning
 *   CMD            mutator thread    (seq << CMD_SEQ_SHIFT) | op, op IDLE / MARK / STOP / EXIT / ATTACH: what the
 *                                    worker should do; seq numbers every command, so one load gives both
 *   STATE          worker            STARTING / PARKED (waiting on SIGNAL) / BUSY / STOPPED / FAILED / EXITED
 *   SIGNAL         mutator thread    bumped after every command and SATB enqueue; the worker Atomics.waits on it
 *   DONE_SIGNAL    worker            the SIGNAL value of the last run that ended with no work left (idle test)
 *   GRAY_SP        owner of stack    gray stack depth, published when ownership changes hands
 *   OVERFLOW       owner of stack    1: a push was dropped (stack full); marked objects must be rescanned
 *   SATB_HEAD      mutator thread    entries ever produced (int32, wraps; index = count & mask)
 *   SATB_TAIL      worker/remark     entries ever consumed
 *   W_OBJECTS/W_WORDS  worker        objects / words the worker marked this cycle
 *   W_SATB         worker            SATB entries the worker took from the ring this cycle (while the mutator ran)
 *   W_SATB_OBJECTS worker            objects the worker marked first from an SATB entry this cycle
 *   PACE_US        mutator thread    pacing for tests: the worker rests this many µs after every PACE_OBJECTS
 *                                    objects (0: full speed), so the mutator races a slow marker
 *   REB_*          worker            where the rebuild / scrub stands (pass, task index, object, slot, next word),
 *                                    so it resumes after a STOP where it left off
 *   REB_FRESH      mutator thread    1: a new rebuild task is set up (the worker clears it when it starts)
 *   ROOT_INDEX/POS owner of stack    the root-region scan (the survivors at concurrent start, scanned first):
 *                                    task entry and next word; ROOT_INDEX = task count when done
 *   PAIRS_HEAD     worker            pairs ever produced; PAIRS_TAIL (mutator thread): pairs ever consumed
 *   W_PAIRS / W_SCRUBBED  worker     pairs produced / words turned into fillers by the rebuild
 *   ACK            worker            the seq of the last STOP / ATTACH / EXIT it carried out (-1: failed);
 *                                    the mutator thread waits until ACK === the seq of its command
 *
 * The handshake. The mutator thread writes CMD, then bumps SIGNAL and
 * notifies. The worker reads SIGNAL, then CMD, acts, and Atomics.waits on
 * SIGNAL with the value it read: a command or enqueue landing after its read
 * makes the wait return at once, so no wake-up is lost. Its two reads are not
 * one snapshot, though: it can read SIGNAL just before a bump and CMD just
 * after the command that bump announces. Its wait then returns at once and it
 * sees the same command again. That is why a command carries a sequence
 * number: the worker carries out an acknowledged command (STOP, ATTACH, EXIT)
 * once per seq and acknowledges that seq, never "one more". (With a bare
 * command code and ACK += 1 it once took an ATTACH twice, the second time
 * waiting forever for a heap message that never came, and acknowledged a
 * STOP twice, which can acknowledge the next command falsely.) MARK may run
 * again any number of times: marking is idempotent.
 *
 * Ownership, not locks: the gray stack belongs to the worker between
 * beginCycle (CMD = MARK) and its STOPPED acknowledgement, and to the mutator
 * thread otherwise; the hand-over is an Atomics store/load pair, which orders
 * every plain write before it. So the hot loop pops and pushes with plain
 * accesses and a local stack pointer. Shared heap state touched by both
 * threads goes through Atomics: mark bits (Atomics.or, whose old value
 * decides who marked first) and per-region live words (Atomics.add).
 *
 * Overflow: both queues have a fixed capacity. A full SATB ring is never
 * blocking: the mutator thread keeps the excess in a private list that it
 * moves to the ring on later enqueues and drains itself at remark. A full gray
 * stack drops the push (the object stays marked but unscanned) and sets
 * OVERFLOW; when the stack runs empty the marker rescans every marked object
 * below TAMS (walking the mark bitmap) and pushes their unmarked children,
 * draining the stack whenever it is half full, until a pass ends without
 * overflow. Rescanning current slot values is enough: a reference removed from
 * an unscanned object since the snapshot went through SATB.
 *
 * TAMS: a reference at or above its region's TAMS (allocated after the
 * snapshot) is implicitly live and is never read: the marker only ever reads
 * objects below TAMS, which were fully initialised before the cycle began.
 */
import * as layout from '../layout.js';
import * as typeRegistry from '../type-registry.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { HEADER_WORDS, TYPE_SHIFT } = layout;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

// ---- control words ---------------------------------------------------------------
export const CMD = 0;
export const STATE = 1;
export const SIGNAL = 2;
export const DONE_SIGNAL = 3;
export const GRAY_SP = 4;
export const OVERFLOW = 5;
export const SATB_HEAD = 6;
export const SATB_TAIL = 7;
export const W_OBJECTS = 8;
export const W_WORDS = 9;
export const ERROR = 10;
export const ACK = 11;
export const W_SATB = 12;
export const W_SATB_OBJECTS = 13;
export const PACE_US = 14;
export const REB_INDEX = 15;
export const REB_OBJ = 16;
export const REB_SLOT = 17;
export const REB_POS = 18;
export const PAIRS_HEAD = 19;
export const PAIRS_TAIL = 20;
export const W_PAIRS = 21;
export const W_SCRUBBED = 22;
/** 1: a new rebuild task was set up (the worker forgets the last task's (target, card) runs). */
export const REB_FRESH = 23;
/** The rebuild's pass: 1 (clear dead objects' references), then 2 (fill and rebuild). */
export const REB_PASS = 24;
/** Root-region scan progress: the task entry and the next word (-1: the region's bottom). */
export const ROOT_INDEX = 25;
export const ROOT_POS = 26;
export const CONTROL_INTS = 32;
/** Float64 slot (of the view at byte 128): milliseconds the worker spent marking this cycle. */
export const F_BUSY_MS = 0;
/** Float64 slot: milliseconds the worker spent on the rebuild / scrub. */
export const F_REBUILD_MS = 1;
const CONTROL_BYTES = CONTROL_INTS * 4 + 64;

/** CMD = (seq << CMD_SEQ_SHIFT) | op; seq in [0, CMD_SEQ_MASK], wrapping (compared for equality only). */
export const CMD_SEQ_SHIFT = 3;
export const CMD_OP_MASK = 7;
export const CMD_SEQ_MASK = 0x0fffffff;
/** ACK after a worker failure (never a seq). */
export const ACK_FAILED = -1;

export const CMD_IDLE = 0;
export const CMD_MARK = 1;
export const CMD_STOP = 2;
export const CMD_EXIT = 3;
/** New heap buffers wait on the worker's message port (a synchronous re-attach). */
export const CMD_ATTACH = 4;
/** Rebuild remembered sets and scrub dead objects (rebuild-scrub.ts), from where REB_* stand. */
export const CMD_REBUILD = 5;

export const STATE_STARTING = 0;
export const STATE_PARKED = 1;
export const STATE_BUSY = 2;
export const STATE_STOPPED = 3;
export const STATE_FAILED = 4;
export const STATE_EXITED = 5;

/** Objects popped between two looks at the command word and the SATB ring. */
const CHUNK = 256;
/** With pacing (PACE_US > 0): objects popped between two rests. */
export const PACE_OBJECTS = 64;
export const ERROR_TEXT_BYTES = 4096;

export interface MarkerBuffers {
  control: SharedArrayBuffer;
  gray: SharedArrayBuffer;
  satb: SharedArrayBuffer;
  /** UTF-8 text of a worker failure (the mutator thread cannot receive messages while it waits). */
  error: SharedArrayBuffer;
  /** The remembered-set rebuild ring: pairCapacity (target region, card) pairs. */
  pairs: SharedArrayBuffer;
}

export function newMarkerBuffers(grayCapacity: number, satbCapacity: number, pairCapacity = 1 << 16): MarkerBuffers {
  if ((satbCapacity & (satbCapacity - 1)) !== 0 || satbCapacity < 2) throw new Error(`SATB ring capacity ${satbCapacity} is not a power of two`);
  if ((pairCapacity & (pairCapacity - 1)) !== 0 || pairCapacity < 2) throw new Error(`rebuild ring capacity ${pairCapacity} is not a power of two`);
  if (grayCapacity < 16) throw new Error(`gray stack capacity ${grayCapacity} is too small`);
  return {
    control: new SharedArrayBuffer(CONTROL_BYTES),
    gray: new SharedArrayBuffer(grayCapacity * 4),
    satb: new SharedArrayBuffer(satbCapacity * 4),
    error: new SharedArrayBuffer(ERROR_TEXT_BYTES),
    pairs: new SharedArrayBuffer(pairCapacity * 8),
  };
}

/** The heap views a marking loop needs; built from a Heap on the mutator thread, from the shared buffers in the worker. */
export interface MarkHeapViews {
  words: Int32Array;
  bitmap: Int32Array;
  tams: Int32Array;
  liveWords: Int32Array;
  regionCount: number;
  logRegionWords: number;
  typeKind: Int32Array;
  typeRefs: Int32Array;
  typeSize: Int32Array;
  elementWords: Int32Array;
  /** The heap's task buffer (rebuild-scrub.ts layout): during marking, the root regions to scan first. */
  task?: Int32Array;
}

/** The buffers of a heap, as sent to the worker. */
export interface HeapBuffers {
  heap: SharedArrayBuffer;
  meta: SharedArrayBuffer;
  regions: SharedArrayBuffer;
  types: SharedArrayBuffer;
  heapBytes: number;
  regionCount: number;
  logRegionWords: number;
  /** The heap's rebuild task (rebuild-scrub.ts: regions, tops at remark, targets); the marker's own. */
  rebuild?: SharedArrayBuffer;
}

/**
 * One thread's handle on the shared marking state. The mutator thread and the
 * worker each hold one over the same buffers; `sp` and `overflow` are this
 * thread's copies while it owns the stack (`load` / `publish` hand them over).
 */
export class MarkClosure {
  readonly control: Int32Array;
  readonly timing: Float64Array;
  readonly gray: Int32Array;
  readonly satb: Int32Array;
  readonly satbMask: number;
  heap!: MarkHeapViews;
  sp = 0;
  overflow = false;
  /** Objects and words marked by this thread since `resetCounters`. */
  objects = 0;
  marked = 0;
  /** SATB entries this thread took from the ring, and objects it marked first from one, since `resetCounters`. */
  satbTaken = 0;
  satbObjects = 0;
  /** The CMD word (MARK with its seq) a stoppable run works for: it stops as soon as CMD holds anything else. */
  runWord = CMD_MARK;
  /** Pacing of a stoppable run (µs of rest every PACE_OBJECTS objects; 0: none); the worker sets it from PACE_US. */
  paceUs = 0;

  constructor(readonly buffers: MarkerBuffers, heap: MarkHeapViews) {
    this.control = new Int32Array(buffers.control, 0, CONTROL_INTS);
    this.timing = new Float64Array(buffers.control, CONTROL_INTS * 4, 8);
    this.gray = new Int32Array(buffers.gray);
    this.satb = new Int32Array(buffers.satb);
    this.satbMask = this.satb.length - 1;
    this.attach(heap);
  }

  attach(heap: MarkHeapViews): void {
    this.heap = heap;
  }

  /** Takes over the gray stack as the other thread left it. */
  load(): void {
    this.sp = Atomics.load(this.control, GRAY_SP);
    this.overflow = Atomics.load(this.control, OVERFLOW) !== 0;
  }

  /** Hands the gray stack over (before an acknowledging Atomics store). */
  publish(): void {
    Atomics.store(this.control, GRAY_SP, this.sp);
    Atomics.store(this.control, OVERFLOW, this.overflow ? 1 : 0);
  }

  resetCounters(): void {
    this.objects = 0;
    this.marked = 0;
    this.satbTaken = 0;
    this.satbObjects = 0;
  }

  /** Marks ref (unless null, at/above TAMS or already marked) and pushes it gray. */
  markRef(ref: number): void {
    if (ref === 0) return;
    const h = this.heap;
    const words = h.words;
    if (ref >= h.tams[ref >> h.logRegionWords]) return;
    const bi = ref >> 6;
    const bit = 1 << ((ref >> 1) & 31);
    const bitmap = h.bitmap;
    if ((bitmap[bi] & bit) !== 0) return;
    if ((Atomics.or(bitmap, bi, bit) & bit) !== 0) return;
    const ct = words[ref] >>> TYPE_SHIFT;
    const size = h.typeKind[ct] === TYPE_STRUCT ? h.typeSize[ct] : (HEADER_WORDS + words[ref + 1] * h.elementWords[ct] + 1) & ~1;
    Atomics.add(h.liveWords, ref >> h.logRegionWords, size);
    this.objects++;
    this.marked += size;
    if (this.sp === this.gray.length) this.overflow = true;
    else this.gray[this.sp++] = ref;
  }

  /** Marks every entry the SATB ring holds; returns how many were taken. */
  drainSatb(): number {
    const control = this.control;
    const head = Atomics.load(control, SATB_HEAD);
    let tail = control[SATB_TAIL];
    const n = (head - tail) | 0;
    if (n === 0) return 0;
    const satb = this.satb;
    const mask = this.satbMask;
    const objects = this.objects;
    for (; tail !== head; tail = (tail + 1) | 0) this.markRef(satb[tail & mask]);
    Atomics.store(control, SATB_TAIL, head);
    this.satbTaken += n;
    this.satbObjects += this.objects - objects;
    return n;
  }

  satbEmpty(): boolean {
    return Atomics.load(this.control, SATB_HEAD) === Atomics.load(this.control, SATB_TAIL);
  }

  /**
   * Completes the closure over the gray stack, the SATB ring and any overflow.
   * With `stoppable`, checks the command word every CHUNK objects and returns
   * false as soon as it is no longer `runWord` (the state is left consistent: the
   * stack as it is, OVERFLOW set if a rescan was cut short). Returns true when
   * no work is left.
   */
  run(stoppable: boolean): boolean {
    if (!this.scanRootRegions(stoppable)) return false;
    for (;;) {
      this.drainSatb();
      if (this.sp > 0) {
        if (!this.drainGray(stoppable)) return false;
        continue;
      }
      if (this.overflow) {
        if (!this.rescan(stoppable)) return false;
        continue;
      }
      if (this.satbEmpty()) return true;
    }
  }

  /**
   * The root-region scan (G1's "Concurrent Scan Root Regions"): every
   * reference held by an object of the task's regions (the survivors at
   * concurrent start; young objects are never marked, so what they hold at the
   * snapshot are roots) is marked, from where ROOT_INDEX / ROOT_POS stand up to
   * each region's top then (task LIMIT). Sound while the mutator runs: a slot
   * it overwrites first went through the SATB barrier, a value it stores was
   * reachable. The survivors must not move before it is done: the pause that
   * would move them first finishes it (ConcurrentMarker.suspend).
   */
  scanRootRegions(stoppable: boolean): boolean {
    const task = this.heap.task;
    if (task === undefined) return true;
    const control = this.control;
    const count = task[0];
    let i = control[ROOT_INDEX];
    if (i >= count) return true;
    const h = this.heap;
    const words = h.words;
    const log = h.logRegionWords;
    const limitBase = 1 + h.regionCount;
    let w = control[ROOT_POS];
    let budget = CHUNK;
    for (; i < count; i++, w = -1) {
      const r = task[1 + i];
      if (w < 0) w = r << log;
      const limit = task[limitBase + r];
      while (w < limit) {
        if (--budget === 0) {
          budget = CHUNK;
          if (stoppable && Atomics.load(control, CMD) !== this.runWord) {
            control[ROOT_INDEX] = i;
            control[ROOT_POS] = w;
            return false;
          }
        }
        const type = words[w] >>> TYPE_SHIFT;
        const kind = h.typeKind[type];
        const n = kind === TYPE_STRUCT ? h.typeRefs[type] : kind === TYPE_REF_ARRAY ? words[w + 1] : 0;
        for (let s = w + HEADER_WORDS, end = s + n; s < end; s++) this.markRef(words[s]);
        w += kind === TYPE_STRUCT ? h.typeSize[type] : (HEADER_WORDS + words[w + 1] * h.elementWords[type] + 1) & ~1;
      }
    }
    control[ROOT_INDEX] = count;
    return true;
  }

  /** The root-region scan is done (or there was none). */
  rootScanDone(): boolean {
    const task = this.heap.task;
    return task === undefined || this.control[ROOT_INDEX] >= task[0];
  }

  /** The hot loop: pop, scan the contiguous reference slots, mark and push children. */
  drainGray(stoppable: boolean): boolean {
    const h = this.heap;
    const words = h.words;
    const typeKind = h.typeKind;
    const typeRefs = h.typeRefs;
    const typeSize = h.typeSize;
    const elementWords = h.elementWords;
    const liveWords = h.liveWords;
    const tams = h.tams;
    const logRegionWords = h.logRegionWords;
    const bitmap = h.bitmap;
    const gray = this.gray;
    const capacity = gray.length;
    const control = this.control;
    let sp = this.sp;
    let objects = 0;
    let marked = 0;
    let overflow = false;
    const paceMs = stoppable ? this.paceUs / 1000 : 0;
    const chunk = paceMs > 0 ? PACE_OBJECTS : CHUNK;
    let budget = chunk;
    while (sp > 0) {
      if (--budget === 0) {
        budget = chunk;
        // a paced run rests (a slow marker); a command cuts the rest short (it notifies), an SATB enqueue does not
        if (paceMs > 0) Atomics.wait(control, SIGNAL, Atomics.load(control, SIGNAL), paceMs);
        if (stoppable && Atomics.load(control, CMD) !== this.runWord) break;
        if (Atomics.load(control, SATB_HEAD) !== control[SATB_TAIL]) {
          this.sp = sp; this.objects += objects; this.marked += marked; objects = 0; marked = 0;
          this.drainSatb();
          sp = this.sp;
        }
      }
      const obj = gray[--sp];
      const type = words[obj] >>> TYPE_SHIFT;
      const kind = typeKind[type];
      const n = kind === TYPE_STRUCT ? typeRefs[type] : kind === TYPE_REF_ARRAY ? words[obj + 1] : 0;
      for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
        const child = words[s];
        if (child === 0) continue;
        const region = child >> logRegionWords;
        if (child >= tams[region]) continue;
        const bi = child >> 6;
        const bit = 1 << ((child >> 1) & 31);
        if ((bitmap[bi] & bit) !== 0) continue;
        if ((Atomics.or(bitmap, bi, bit) & bit) !== 0) continue;
        const ct = words[child] >>> TYPE_SHIFT;
        const size = typeKind[ct] === TYPE_STRUCT ? typeSize[ct] : (HEADER_WORDS + words[child + 1] * elementWords[ct] + 1) & ~1;
        Atomics.add(liveWords, region, size);
        objects++;
        marked += size;
        if (sp === capacity) overflow = true;
        else gray[sp++] = child;
      }
    }
    this.sp = sp;
    this.objects += objects;
    this.marked += marked;
    if (overflow) this.overflow = true;
    return sp === 0;
  }

  /**
   * One overflow recovery pass: scans every marked object below TAMS again,
   * pushing unmarked children, and drains the stack whenever it is half full.
   * Returns false when stopped part-way (OVERFLOW stays set, so the next owner
   * runs the pass again from the start).
   */
  rescan(stoppable: boolean): boolean {
    this.overflow = false;
    const h = this.heap;
    const words = h.words;
    const bitmap = h.bitmap;
    const half = this.gray.length >> 1;
    for (let r = 0; r < h.regionCount; r++) {
      if (stoppable && Atomics.load(this.control, CMD) !== this.runWord) { this.overflow = true; return false; }
      const bottom = r === 0 ? 2 : r << h.logRegionWords;
      const tams = h.tams[r];
      let w = bottom;
      while (w < tams) {
        const bits = bitmap[w >> 6] >>> ((w >> 1) & 31);
        if (bits === 0) { w = (w | 63) + 1; continue; }
        const obj = w + 2 * (31 - Math.clz32(bits & -bits));
        if (obj >= tams) break;
        w = obj + 2;
        const type = words[obj] >>> TYPE_SHIFT;
        const kind = h.typeKind[type];
        const n = kind === TYPE_STRUCT ? h.typeRefs[type] : kind === TYPE_REF_ARRAY ? words[obj + 1] : 0;
        for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) this.markRef(words[s]);
        if (this.sp > half && !this.drainGray(stoppable)) { this.overflow = true; return false; }
      }
    }
    return true;
  }
}

/** Writes a failure's text into the shared error buffer (worker side). */
export function writeErrorText(buffer: SharedArrayBuffer, text: string): void {
  const bytes = new TextEncoder().encode(text).subarray(0, ERROR_TEXT_BYTES - 4);
  const view = new Uint8Array(buffer);
  view.set(bytes, 4);
  new Int32Array(buffer, 0, 1)[0] = bytes.length;
}

export function readErrorText(buffer: SharedArrayBuffer): string {
  const n = new Int32Array(buffer, 0, 1)[0];
  return new TextDecoder().decode(new Uint8Array(buffer, 4, n).slice());
}
