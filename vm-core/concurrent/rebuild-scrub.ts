/**
 * Concurrent remembered-set rebuild and scrubbing, on the marker worker between
 * remark and cleanup (G1's "Concurrent Rebuild Remembered Sets", JDK 10, and
 * "... and Scrub Regions", JDK 20): the work the cleanup pause used to do with
 * the mutators stopped (marking-cycle.ts: scrubRegion, rebuildRememberedSets).
 *
 * The remark pause leaves a task in the heap's rebuild buffer (one per heap,
 * shared):
 *
 *   task[0]                 n: regions of the task
 *   task[1 .. n]            their indices
 *   task[LIMIT + r]         region r's top at remark (objects above it came later: the pauses that
 *                           copied them recorded their references)
 *   task[TARGET + r]        1: region r is a target (a collection-set candidate, tracked since remark)
 *   task[FLAGS + r]         CLEAR: region r may hold dead objects (old with TAMS above bottom, or a
 *                           dead humongous object); WALK: it holds live data to rebuild from
 *
 * and the worker makes two passes:
 *
 *   1. clear     every dead object (unmarked, below TAMS) of a CLEAR region has its reference
 *                slots set to null. Layout is unchanged, so any reader sees an old value or null.
 *                Only dead objects can point at dead objects; after this pass none points anywhere,
 *                so pass 2 may overwrite dead objects without leaving a dangling reference behind
 *                (the heap verifier checks every slot of every object, dead ones included).
 *   2. walk      each WALK region once:
 *     below TAMS   only marked objects, found through the mark bitmap; each run of dead objects
 *                  between two of them becomes one filler (header, length, block offsets)
 *     TAMS..limit  every object (all allocated after the snapshot: implicitly live)
 *     each live object's reference slots: a reference into another region that is a target
 *                  adds (target, card of the slot) to the pairs ring, once per (target, card) run;
 *                  the mutator thread adds the pairs to the remembered sets (a full ring makes the
 *                  worker wait)
 *
 * Soundness: every reader that parses old regions runs with the worker stopped
 * (it yields at each pause and verification, when the collector retires the
 * TLABs, and before the mutator refines cards); the mutator never touches dead
 * objects and its stores into live ones are either read here or recorded by
 * its card barrier (the targets are tracked since remark). No region of the
 * task is freed or reused before cleanup. The walk position (task index,
 * object, slot, next word) lives in control words, so a STOP at any point and
 * a later REBUILD resume where the walk left off.
 */
import * as layout from '../layout.js';
import * as regionTable from '../region-table.js';
import * as typeRegistry from '../type-registry.js';
import { clearMarks } from '../side-metadata.js';
import {
  CMD, PAIRS_HEAD, PAIRS_TAIL, REB_INDEX, REB_OBJ, REB_PASS, REB_POS, REB_SLOT, W_PAIRS, W_SCRUBBED,
} from './shared-work-list.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { ARRAY_BASE, HEADER_WORDS, LOG_CARD_WORDS, MIN_OBJECT_WORDS, TYPE_SHIFT } = layout;
const { REGION_HUMONGOUS_START } = regionTable;
const { FILLER_TYPE_ID, TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

/** Layout of a heap's rebuild task buffer (Int32Array). */
export const TASK_COUNT = 0;
export function taskLimitBase(regionCount: number): number { return 1 + regionCount; }
export function taskTargetBase(regionCount: number): number { return 1 + 2 * regionCount; }
export function taskFlagsBase(regionCount: number): number { return 1 + 3 * regionCount; }
export function rebuildTaskInts(regionCount: number): number { return 1 + 4 * regionCount; }
/** task[FLAGS + r]: pass 1 clears the dead objects of r / pass 2 walks r's live objects. */
export const TASK_CLEAR = 1;
export const TASK_WALK = 2;

/** Objects (or 256-slot stretches of one) between two looks at the command word. */
const CHUNK = 256;

/** The heap views the rebuild reads and writes (the worker builds them from the shared buffers). */
export interface RebuildViews {
  words: Int32Array;
  bitmap: Int32Array;
  tams: Int32Array;
  kind: Uint8Array | Int32Array;
  blockOffsets: Int32Array;
  /** The ref-starts bitmap and the regions whose bits are kept (a filler clears the bits it covers). */
  refStarts: Int32Array;
  refStartsKept: Uint8Array;
  typeKind: Int32Array;
  typeRefs: Int32Array;
  typeSize: Int32Array;
  elementWords: Int32Array;
  regionCount: number;
  logRegionWords: number;
  task: Int32Array;
}

export class RebuildScrub {
  private lastCard: Int32Array;
  private readonly pairMask: number;
  /** Pairs produced and words filled by this thread since `resetCounters`. */
  pairs = 0;
  scrubbed = 0;

  constructor(private readonly control: Int32Array, private readonly ring: Int32Array, private h: RebuildViews) {
    this.lastCard = new Int32Array(h.regionCount).fill(-1);
    this.pairMask = (ring.length >> 1) - 1;
  }

  attach(h: RebuildViews): void {
    this.h = h;
    if (this.lastCard.length < h.regionCount) this.lastCard = new Int32Array(h.regionCount);
    this.lastCard.fill(-1);
  }

  resetCounters(): void {
    this.pairs = 0;
    this.scrubbed = 0;
  }

  /** A fresh task: forget the (target, card) runs of the last one (the mutator thread reset REB_* and the ring). */
  startTask(): void {
    this.lastCard.fill(-1);
  }

  /**
   * Walks the task from where REB_* stand until it is done (true) or the
   * command word is no longer `runWord` (false; the position is saved). A
   * full ring: onFull() drains it (the mutator thread finishing a task
   * itself), else the worker waits for the mutator thread to drain it.
   */
  run(runWord: number, onFull?: () => void): boolean {
    if (this.control[REB_PASS] === 1) {
      if (!this.clearPass(runWord)) return false;
      this.control[REB_PASS] = 2;
      this.control[REB_INDEX] = 0;
      this.control[REB_OBJ] = -1;
      this.control[REB_POS] = -1;
    }
    return this.walkPass(runWord, onFull);
  }

  /** Pass 1: null the reference slots of every dead object below TAMS of the CLEAR regions. */
  private clearPass(runWord: number): boolean {
    const control = this.control;
    const h = this.h;
    const words = h.words;
    const bitmap = h.bitmap;
    const task = h.task;
    const log = h.logRegionWords;
    const flagsBase = taskFlagsBase(h.regionCount);
    const typeKind = h.typeKind;
    const typeRefs = h.typeRefs;
    const count = task[TASK_COUNT];
    let index = control[REB_INDEX];
    let w = control[REB_POS];
    let budget = CHUNK;
    for (; index < count; index++, w = -1) {
      const r = task[1 + index];
      if ((task[flagsBase + r] & TASK_CLEAR) === 0) continue;
      const bottom = r << log;
      if (w < 0) w = r === 0 ? MIN_OBJECT_WORDS : bottom;
      const end = h.kind[r] === REGION_HUMONGOUS_START ? bottom + 1 : h.tams[r];
      while (w < end) {
        if (--budget === 0) {
          budget = CHUNK;
          if (Atomics.load(control, CMD) !== runWord) {
            control[REB_INDEX] = index;
            control[REB_POS] = w;
            return false;
          }
        }
        const type = words[w] >>> TYPE_SHIFT;
        const k = typeKind[type];
        const marked = ((bitmap[w >> 6] >>> ((w >> 1) & 31)) & 1) !== 0;
        if (!marked) {
          const n = k === TYPE_STRUCT ? typeRefs[type] : k === TYPE_REF_ARRAY ? words[w + 1] : 0;
          if (n > 0) words.fill(0, w + HEADER_WORDS, w + HEADER_WORDS + n);
        }
        w += this.sizeOf(w);
      }
    }
    control[REB_INDEX] = count;
    return true;
  }

  /** Pass 2: fill the dead runs of the WALK regions, record their live objects' references into targets. */
  private walkPass(runWord: number, onFull?: () => void): boolean {
    const control = this.control;
    const h = this.h;
    const words = h.words;
    const bitmap = h.bitmap;
    const task = h.task;
    const log = h.logRegionWords;
    const limitBase = taskLimitBase(h.regionCount);
    const targetBase = taskTargetBase(h.regionCount);
    const flagsBase = taskFlagsBase(h.regionCount);
    const typeKind = h.typeKind;
    const typeRefs = h.typeRefs;
    const ring = this.ring;
    const mask = this.pairMask;
    const capacity = mask + 1;
    const lastCard = this.lastCard;
    const count = task[TASK_COUNT];
    let index = control[REB_INDEX];
    let obj = control[REB_OBJ];
    let slot = control[REB_SLOT];
    let w = control[REB_POS];
    let head = control[PAIRS_HEAD];
    let budget = CHUNK;
    const save = () => {
      control[REB_INDEX] = index;
      control[REB_OBJ] = obj;
      control[REB_SLOT] = slot;
      control[REB_POS] = w;
      Atomics.store(control, PAIRS_HEAD, head);
    };
    while (index < count) {
      const r = task[1 + index];
      if ((task[flagsBase + r] & TASK_WALK) === 0) {
        index++;
        w = -1;
        continue;
      }
      if (obj >= 0) {
        // the reference slots of a live object: record those into targets
        const type = words[obj] >>> TYPE_SHIFT;
        const k = typeKind[type];
        const end = obj + HEADER_WORDS + (k === TYPE_STRUCT ? typeRefs[type] : k === TYPE_REF_ARRAY ? words[obj + 1] : 0);
        while (slot < end) {
          if (--budget === 0) {
            budget = CHUNK;
            if (Atomics.load(control, CMD) !== runWord) { save(); return false; }
          }
          const v = words[slot];
          if (v !== 0) {
            const t = v >> log;
            const card = slot >> LOG_CARD_WORDS;
            if (t !== r && task[targetBase + t] !== 0 && lastCard[t] !== card) {
              // room in the ring: the mutator thread takes pairs on its allocation slow paths. Waiting is on
              // PAIRS_TAIL with the value just seen, so a drain in between makes the wait return at once; a
              // command notifies PAIRS_TAIL too (ConcurrentMarker.give)
              for (let tail = Atomics.load(control, PAIRS_TAIL); ((head - tail) | 0) >= capacity; tail = Atomics.load(control, PAIRS_TAIL)) {
                Atomics.store(control, PAIRS_HEAD, head);
                if (onFull) { onFull(); continue; }
                if (Atomics.load(control, CMD) !== runWord) { save(); return false; }
                Atomics.wait(control, PAIRS_TAIL, tail, 50);
              }
              const at = (head & mask) << 1;
              ring[at] = t;
              ring[at + 1] = card;
              head = (head + 1) | 0;
              lastCard[t] = card;
              this.pairs++;
            }
          }
          slot++;
        }
        if (h.kind[r] === REGION_HUMONGOUS_START) {
          // one object per humongous region
          index++;
          obj = -1;
          w = -1;
          continue;
        }
        w = obj + this.sizeOf(obj);
        obj = -1;
        if ((head & 63) === 0) Atomics.store(control, PAIRS_HEAD, head);
      }
      if (--budget <= 0) {
        budget = CHUNK;
        if (Atomics.load(control, CMD) !== runWord) { save(); return false; }
      }
      const bottom = r << log;
      if (h.kind[r] === REGION_HUMONGOUS_START) {
        obj = bottom;
        slot = bottom + HEADER_WORDS;
        continue;
      }
      if (w < 0) w = r === 0 ? MIN_OBJECT_WORDS : bottom;
      const tams = h.tams[r];
      if (w < tams) {
        // the next marked object at or after w, below TAMS
        let m = w;
        for (;;) {
          if (m >= tams) { m = tams; break; }
          const bits = bitmap[m >> 6] >>> ((m >> 1) & 31);
          if (bits === 0) { m = (m | 63) + 1; continue; }
          m += 2 * (31 - Math.clz32(bits & -bits));
          if (m > tams) m = tams;
          break;
        }
        if (m > w) this.fill(w, m);
        if (m < tams) {
          obj = m;
          slot = m + HEADER_WORDS;
          continue;
        }
        w = tams;
      }
      if (w < task[limitBase + r]) {
        obj = w;
        slot = w + HEADER_WORDS;
        continue;
      }
      index++;
      w = -1;
    }
    save();
    return true;
  }

  private sizeOf(obj: number): number {
    const h = this.h;
    const words = h.words;
    const type = words[obj] >>> TYPE_SHIFT;
    return h.typeKind[type] === TYPE_STRUCT ? h.typeSize[type] : (HEADER_WORDS + words[obj + 1] * h.elementWords[type] + 1) & ~1;
  }

  /** [start, end): a run of whole dead objects becomes one filler (as Heap.writeFiller), block offsets included. */
  private fill(start: number, end: number): void {
    const h = this.h;
    h.words[start + 1] = end - start - ARRAY_BASE;
    h.words[start] = FILLER_TYPE_ID << TYPE_SHIFT;
    const bot = h.blockOffsets;
    const last = (end - 1) >> LOG_CARD_WORDS;
    for (let c = (start + (1 << LOG_CARD_WORDS) - 1) >> LOG_CARD_WORDS; c <= last; c++) bot[c] = start;
    if (h.refStartsKept[start >> h.logRegionWords] !== 0) clearMarks(h.refStarts, start, end);
    this.scrubbed += end - start;
  }

  /** Publishes this thread's counts (worker: after each run). */
  publishCounters(): void {
    Atomics.add(this.control, W_PAIRS, this.pairs);
    Atomics.add(this.control, W_SCRUBBED, this.scrubbed);
    this.resetCounters();
  }
}
