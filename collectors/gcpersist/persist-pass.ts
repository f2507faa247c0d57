/**
 * The persist pass of an evacuation pause (GCPersist's "the collector copies
 * persistent objects into NVM while it copies anyway", Wu et al. VEE 2020):
 * run once the collection set is flagged and before the generational
 * evacuation begins, it traces from the persistent roots and copies every
 * reachable collection-set object into a persistent region, leaving a
 * forwarding pointer. The generational evacuation that follows finds those
 * objects already FORWARDED and only updates the slots it visits (roots,
 * remembered cards, copied objects): it is not changed at all, and a
 * collector without persistent roots never runs this pass.
 *
 *   persistent roots --> trace (eager roots first) --+--> object in the collection set:
 *                                                    |      copy to a persistent region, forward,
 *                                                    |      scan the copy (its slots now point at copies)
 *                                                    +--> object in a persistent region:  scan in place
 *                                                    +--> humongous object: adopt its run (flag it)
 *                                                    +--> any other object (old, not collected): a
 *                                                           straggler; scan in place, move it at commit
 *
 * Remembered sets: a copy's slots that point into another tracked region are
 * recorded (as the evacuation does for its copies), before the evacuation
 * computes its humongous eager-reclaim candidates, so an adopted humongous
 * object referenced only by persistent copies is not reclaimed.
 *
 * Visited objects carry PERSIST_MARK (layout.ts) in their header while the
 * pass runs; the pass clears every mark it set before it returns (a list of
 * the marked addresses, no side bitmap). Objects reached from an `eager` root
 * get PERSIST_EAGER, which they keep: the eager barrier logs stores into them.
 *
 * No JS allocation per object: explicit Int32Array stacks that double when full.
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import type { PersistentRoots } from '../../vm-core/persistent-roots.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as typeRegistry from '../../vm-core/type-registry.js';
import type { RememberedSets } from '../region/remembered-sets.js';
import type { PersistentSpace } from './persistent-space.js';

const { HEADER_WORDS, LOG_CARD_WORDS, PERSIST_EAGER, PERSIST_MARK, STATE_FORWARDED, STATE_MASK, TYPE_SHIFT } = layout;
const { PERSISTENT_REGION, REGION_HUMONGOUS_START } = regionTable;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

const SMALL_COPY_WORDS = 16;

export interface PassWork {
  objectsVisited: number;
  objectsCopied: number;
  wordsCopied: number;
  /** Collection-set objects that could not be copied (no free region): evacuated normally, stragglers later. */
  copyFailures: number;
  humongousAdopted: number;
}

/** Is root i traced in the eager phase? */
export type RootIsEager = (i: number) => boolean;

export class PersistPass {
  private stack: Int32Array<ArrayBuffer> = new Int32Array(1 << 10);
  private sp = 0;
  private marked: Int32Array<ArrayBuffer> = new Int32Array(1 << 10);
  private markedCount = 0;
  /** Stragglers found by the last trace (addresses at the time of the trace). */
  stragglers: Int32Array<ArrayBuffer> = new Int32Array(64);
  stragglerCount = 0;
  /** Humongous start regions reached by the last trace. */
  readonly humongousReached: Uint8Array;
  work: PassWork = PersistPass.emptyWork();
  private eager = false;
  private copying = false;
  private readonly words: Int32Array;
  private readonly typeKind: Int32Array;
  private readonly typeRefs: Int32Array;
  private readonly typeSize: Int32Array;
  private readonly elementWords: Int32Array;
  private readonly log: number;

  constructor(
    private readonly heap: Heap,
    private readonly roots: PersistentRoots,
    private readonly space: PersistentSpace,
    private readonly remsets: RememberedSets | null,
  ) {
    this.words = heap.words;
    this.typeKind = heap.types.kind;
    this.typeRefs = heap.types.refs;
    this.typeSize = heap.types.sizeWords;
    this.elementWords = heap.types.elementWords;
    this.log = heap.logRegionWords;
    this.humongousReached = new Uint8Array(heap.regionCount);
  }

  static emptyWork(): PassWork {
    return { objectsVisited: 0, objectsCopied: 0, wordsCopied: 0, copyFailures: 0, humongousAdopted: 0 };
  }

  /**
   * The pre-copy pass: copies the persistent collection-set objects (regions
   * with inCset set) into persistent regions. Also finds stragglers and adopts
   * humongous objects.
   */
  copyCollectionSet(isEager: RootIsEager): void {
    this.copying = true;
    try {
      this.trace(isEager);
    } finally {
      this.copying = false;
      this.space.finish();
    }
  }

  /** A trace without copying (after a pause, at commit): finds stragglers, adopts humongous objects, sets eager bits. */
  traceOnly(isEager: RootIsEager): void {
    this.trace(isEager);
  }

  private trace(isEager: RootIsEager): void {
    this.work = PersistPass.emptyWork();
    this.stragglerCount = 0;
    this.humongousReached.fill(0);
    const roots = this.roots;
    const holder = roots.holder;
    if (holder === null) return;
    const slots = holder.roots;
    try {
      // eager roots first, so an object reachable from both is written through
      for (const phase of [true, false]) {
        this.eager = phase;
        for (let i = 0; i < roots.count; i++) {
          if (isEager(i) !== phase) continue;
          const v = slots[i];
          if (v !== 0) slots[i] = this.visit(v);
        }
        this.drain();
      }
    } finally {
      this.clearMarks();
    }
  }

  /** The object's address after the pass (its copy when copied); visits it once. */
  private visit(v: number): number {
    const words = this.words;
    const header = words[v];
    if ((header & STATE_MASK) === STATE_FORWARDED) return words[v + 1];
    if ((header & PERSIST_MARK) !== 0) return v;
    const heap = this.heap;
    const regions = heap.regions;
    const r = v >> this.log;
    const eagerBit = this.eager ? PERSIST_EAGER : 0;
    this.work.objectsVisited++;
    if (this.copying && regions.inCset[r] !== 0) {
      const to = this.copy(v, header, eagerBit);
      if (to !== 0) return to;
      this.work.copyFailures++;
    } else if (regions.persistent[r] !== PERSISTENT_REGION) {
      if (regions.kind[r] === REGION_HUMONGOUS_START) {
        if (this.space.adoptHumongous(r) > 0) this.work.humongousAdopted++;
      } else if (!this.copying || regions.inCset[r] === 0) {
        this.addStraggler(v);
      }
    }
    if (regions.kind[r] === REGION_HUMONGOUS_START) this.humongousReached[r] = 1;
    words[v] = header | PERSIST_MARK | eagerBit;
    this.markedPush(v);
    this.push(v);
    return v;
  }

  /** Copies the collection-set object at v into the persistent space and forwards it; 0 when there is no room. */
  private copy(v: number, header: number, eagerBit: number): number {
    const words = this.words;
    const type = header >>> TYPE_SHIFT;
    const size = this.typeKind[type] === TYPE_STRUCT ? this.typeSize[type] : (HEADER_WORDS + words[v + 1] * this.elementWords[type] + 1) & ~1;
    const to = this.space.allocate(size);
    if (to === 0) return 0;
    if (size <= SMALL_COPY_WORDS) {
      for (let i = 0; i < size; i++) words[to + i] = words[v + i];
    } else {
      words.copyWithin(to, v, v + size);
    }
    words[to] = header | PERSIST_MARK | eagerBit;
    words[v] = (header & ~STATE_MASK) | STATE_FORWARDED;
    words[v + 1] = to;
    const end = to + size;
    if ((((to - 1) ^ (end - 1)) >> LOG_CARD_WORDS) !== 0) this.heap.recordObjectStart(to, end);
    this.heap.regions.liveWords[to >> this.log] += size;
    this.work.objectsCopied++;
    this.work.wordsCopied += size;
    this.markedPush(to);
    this.push(to);
    return to;
  }

  /** Scans pushed objects: each child is visited (and copied when in the collection set); slots are updated. */
  private drain(): void {
    const words = this.words;
    const typeKind = this.typeKind;
    const typeRefs = this.typeRefs;
    const log = this.log;
    const freshFrom = this.space.freshFrom;
    const remsets = this.remsets;
    const tracked = remsets ? remsets.tracked : null;
    while (this.sp > 0) {
      const obj = this.stack[--this.sp];
      const source = obj >> log;
      const isCopy = obj >= freshFrom[source];
      const type = words[obj] >>> TYPE_SHIFT;
      const kind = typeKind[type];
      const n = kind === TYPE_STRUCT ? typeRefs[type] : kind === TYPE_REF_ARRAY ? words[obj + 1] : 0;
      for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
        const v = words[s];
        if (v === 0) continue;
        const nv = this.visit(v);
        if (nv !== v) words[s] = nv;
        if (tracked !== null && (isCopy || nv !== v)) {
          const t = nv >> log;
          if (t !== source && tracked[t] !== 0) remsets!.add(t, s >> LOG_CARD_WORDS);
        }
      }
    }
  }

  private push(obj: number): void {
    if (this.sp === this.stack.length) this.stack = grow(this.stack);
    this.stack[this.sp++] = obj;
  }

  private markedPush(obj: number): void {
    if (this.markedCount === this.marked.length) this.marked = grow(this.marked);
    this.marked[this.markedCount++] = obj;
  }

  private addStraggler(obj: number): void {
    if (this.stragglerCount === this.stragglers.length) this.stragglers = grow(this.stragglers);
    this.stragglers[this.stragglerCount++] = obj;
  }

  /** Clears PERSIST_MARK on every object the pass marked (copies and objects scanned in place). */
  private clearMarks(): void {
    const words = this.words;
    const marked = this.marked;
    for (let i = 0; i < this.markedCount; i++) {
      const obj = marked[i];
      words[obj] &= ~PERSIST_MARK;
    }
    this.markedCount = 0;
    this.sp = 0;
  }
}

export function grow(a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(a.length * 2);
  bigger.set(a);
  return bigger;
}
