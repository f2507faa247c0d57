/**
 * The evacuation pause with remembered sets: G1's young and mixed collection
 * (Detlefs et al. 2004; the REM/GEN elements of Zhao & Blackburn 2020). No
 * full-heap trace: the only roots of a pause are
 *
 *   1. the mutators' root slots,
 *   2. the cards of the collection-set regions' remembered sets, and
 *   3. the dirty cards not yet refined (refined at the start of the pause),
 *
 * (dirty cards are merged with the remembered cards and scanned once), and the
 * closure is completed by scanning every copied object (a Cheney-style
 * scan with an explicit stack). Every slot that pointed into the collection set
 * is updated as it is visited; slots of non-young objects that now point into a
 * tracked region of another region are recorded in that region's remembered set,
 * so remembered sets stay complete across the pause.
 *
 *   copy destination:  young object, age+1 <  tenuringThreshold -> survivor region
 *                      young object, age+1 >= threshold, or survivors full -> old region
 *                      old object (mixed pause)               -> old region
 *   no region left:    the object stays in place, state SELF_FORWARDED, and its
 *                      region is retained as old (evacuation failure)
 *
 * Humongous objects whose remembered set is empty are eager-reclaim candidates;
 * any visited slot that points at one keeps it; the rest are freed at the end.
 *
 * Memory latency, not instructions, bounds this pause: a slot's referent is at
 * a random place in eden, and reading its header is a cache miss that the CPU
 * cannot overlap with the next one when each copy waits for it (measured here:
 * 94 ns per dependent miss over 24 MB, 16 ns when 8 independent loads are in
 * flight). So slots that point into the collection set are not evacuated when
 * found but queued (PENDING_SLOTS of them); a full queue is flushed by first
 * loading every referent's header in one tight loop (independent loads, so
 * their misses overlap: JavaScript's stand-in for HotSpot's
 * Prefetch::read/write in G1ParScanThreadState) and then evacuating them with
 * their headers in cache. Remembered cards are scanned in address order.
 *
 *   pending queue:   [ slot | slot | ... ]   each slot's word points into the cset
 *   flush:           1. t |= words[words[slot_i]]  for all i   (overlapped misses)
 *                    2. words[slot_i] = evacuate(words[slot_i]); remembered-set upkeep
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as sideMetadata from '../../vm-core/side-metadata.js';
import * as typeRegistry from '../../vm-core/type-registry.js';
import { scanCardSlots, sourceRegionOfCard } from './card-scanner.js';
import type { DirtyCardQueue } from './dirty-card-queue.js';
import type { RememberedSets } from './remembered-sets.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { AGE_MASK, AGE_SHIFT, HEADER_WORDS, LOG_CARD_WORDS, STATE_FORWARDED, STATE_MASK, STATE_SELF_FORWARDED, TYPE_SHIFT } = layout;
const { REGION_EDEN, REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD, REGION_SURVIVOR } = regionTable;
const { CARD_CLEAN, CARD_YOUNG } = sideMetadata;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

const SMALL_COPY_WORDS = 16;
/** Slots queued before their referents are touched together and evacuated (see the file comment). */
const PENDING_SLOTS = 64;

/** A bump-pointer destination for copies of one region kind. */
class CopyDestination {
  region = -1;
  top = 0;
  end = 0;
  regions = 0;

  constructor(readonly kind: number) {}

  reset(): void {
    this.region = -1;
    this.top = 0;
    this.end = 0;
    this.regions = 0;
  }
}

export interface EvacuationWork {
  objectsCopied: number;
  wordsCopied: number;
  wordsPromoted: number;
  failedObjects: number;
  failedRegions: number;
  cardsScanned: number;
  rootsUpdated: number;
  survivorRegions: number;
  humongousReclaimed: number;
}

export class RemsetEvacuation {
  private readonly survivor = new CopyDestination(REGION_SURVIVOR);
  private readonly old = new CopyDestination(REGION_OLD);
  private scanStack = new Int32Array(1 << 14);
  private scanTop = 0;
  private cardList = new Int32Array(1 << 12);
  /** Slots whose referents are in the collection set, waiting for flushPending. */
  private readonly pending = new Int32Array(PENDING_SLOTS);
  private pendingCount = 0;
  /** Sink of the touch loads, so the compiler keeps them. */
  private touched = 0;
  /** Copied words already added to heap.accountedWords. */
  private accountedCopiedWords = 0;
  /** Per card: visited in this pause (dedups remembered cards). */
  private readonly cardVisited: Uint8Array;
  /** Per region: eager-reclaim candidate (humongous, empty remembered set, not reached yet). */
  private readonly humongousCandidate: Uint8Array;
  /** Per region: the region holds young objects (eden/survivor) for the purpose of remembered-set upkeep. */
  private readonly youngSource: Uint8Array;
  private readonly failed: number[] = [];
  private maxSurvivorRegions = 0;
  private tenuringThreshold = 15;
  work: EvacuationWork = RemsetEvacuation.emptyWork();
  // hot-path views, read once
  private readonly words: Int32Array;
  private readonly typeKind: Int32Array;
  private readonly typeSize: Int32Array;
  private readonly elementWords: Int32Array;
  private readonly liveWords: Int32Array;
  private readonly logRegionWords: number;

  constructor(
    private readonly heap: Heap,
    private readonly remsets: RememberedSets,
    /** Called for every region claimed as a survivor or old destination (the collector tracks survivors). */
    private readonly onDestinationClaimed: (region: number, kind: number) => void,
  ) {
    this.words = heap.words;
    this.typeKind = heap.types.kind;
    this.typeSize = heap.types.sizeWords;
    this.elementWords = heap.types.elementWords;
    this.liveWords = heap.regions.liveWords;
    this.logRegionWords = heap.logRegionWords;
    this.cardVisited = new Uint8Array(heap.heapWords >> LOG_CARD_WORDS);
    this.humongousCandidate = new Uint8Array(heap.regionCount);
    this.youngSource = new Uint8Array(heap.regionCount);
  }

  static emptyWork(): EvacuationWork {
    return { objectsCopied: 0, wordsCopied: 0, wordsPromoted: 0, failedObjects: 0, failedRegions: 0, cardsScanned: 0, rootsUpdated: 0, survivorRegions: 0, humongousReclaimed: 0 };
  }

  /** Starts a pause: the collection set must already be flagged inCset in the region table. */
  begin(tenuringThreshold: number, maxSurvivorRegions: number): void {
    this.work = RemsetEvacuation.emptyWork();
    this.tenuringThreshold = tenuringThreshold;
    this.maxSurvivorRegions = maxSurvivorRegions;
    this.survivor.reset();
    this.old.reset();
    this.failed.length = 0;
    this.scanTop = 0;
    this.pendingCount = 0;
    this.accountedCopiedWords = 0;
    const regions = this.heap.regions;
    for (let r = 0; r < this.heap.regionCount; r++) {
      const kind = regions.kind[r];
      this.youngSource[r] = kind === REGION_EDEN || kind === REGION_SURVIVOR ? 1 : 0;
      this.humongousCandidate[r] = kind === REGION_HUMONGOUS_START && this.remsets.isEmpty(r) ? 1 : 0;
    }
  }

  // ---- roots ----------------------------------------------------------------------

  evacuateRoots(mutators: readonly Mutator[]): void {
    const inCset = this.heap.regions.inCset;
    const log = this.heap.logRegionWords;
    let updated = 0;
    for (const m of mutators) {
      const roots = m.roots;
      for (let i = 0, n = m.sp; i < n; i++) {
        const v = roots[i];
        if (v === 0) continue;
        const r = v >> log;
        if (inCset[r] !== 0) {
          roots[i] = this.evacuate(v);
          updated++;
        } else if (this.humongousCandidate[r] !== 0) {
          this.humongousCandidate[r] = 0;
        }
      }
    }
    this.work.rootsUpdated += updated;
  }

  // ---- remembered cards --------------------------------------------------------------

  /** Gathers the distinct cards of the collection set's remembered sets whose regions are not in the collection set. */
  gatherCards(cset: readonly number[]): number {
    const regions = this.heap.regions;
    const visited = this.cardVisited;
    const log = this.heap.logRegionWords - LOG_CARD_WORDS;
    let n = 0;
    let scratch: Int32Array = new Int32Array(256);
    for (const r of cset) {
      const got = this.remsets.collectCards(r, scratch);
      scratch = got.cards;
      for (let i = 0; i < got.count; i++) {
        const card = scratch[i];
        const source = card >> log;
        if (visited[card] !== 0 || regions.inCset[source] !== 0 || regions.kind[source] === REGION_FREE) continue;
        visited[card] = 1;
        if (n === this.cardList.length) this.growCardList();
        this.cardList[n++] = card;
      }
    }
    return n;
  }

  /**
   * Merges the dirty cards still queued into the card list (G1's "merge heap
   * roots"): instead of being refined and then scanned, each is scanned once,
   * with refinement's duty as well (recording slots into tracked regions that
   * are not being collected). Returns the number of dirty cards taken.
   */
  mergeDirtyCards(queue: DirtyCardQueue, count: number): { cards: number; dirty: number } {
    const heap = this.heap;
    const regions = heap.regions;
    const cardTable = heap.meta.cards;
    const visited = this.cardVisited;
    const log = heap.logRegionWords - LOG_CARD_WORDS;
    let n = count;
    let dirty = 0;
    for (let card = queue.pop(); card >= 0; card = queue.pop()) {
      dirty++;
      const r = card >> log;
      const kind = regions.kind[r];
      if (kind === REGION_EDEN || kind === REGION_SURVIVOR) { cardTable[card] = CARD_YOUNG; continue; }
      cardTable[card] = CARD_CLEAN;
      if (kind === REGION_FREE || regions.inCset[r] !== 0) continue;
      if (visited[card] === 0) {
        if (n === this.cardList.length) this.growCardList();
        this.cardList[n++] = card;
      }
      visited[card] = 2;
    }
    return { cards: n, dirty };
  }

  // per-card state of scanCards, read by visitSlot
  private scanCard = 0;
  private scanSource = 0;
  private scanRefines = false;

  /**
   * Scans the gathered cards: every slot on them that points into the
   * collection set is evacuated and updated; a merged dirty card also records
   * its slots into tracked regions, as refinement would have. Ordinary regions'
   * cards are walked here in one loop with everything hoisted (this is the
   * hottest loop of a young pause); humongous cards go through scanCardSlots.
   */
  scanCards(count: number): void {
    const heap = this.heap;
    const regions = heap.regions;
    const words = this.words;
    const log = this.logRegionWords;
    const visited = this.cardVisited;
    const inCset = regions.inCset;
    const kinds = regions.kind;
    const tops = regions.top;
    const bot = heap.meta.blockOffsets;
    const typeKind = this.typeKind;
    const typeRefs = heap.types.refs;
    const typeSize = this.typeSize;
    const elementWords = this.elementWords;
    const tracked = this.remsets.tracked;
    const candidate = this.humongousCandidate;
    const remsets = this.remsets;
    const cardWords = 1 << LOG_CARD_WORDS;
    const pending = this.pending;
    let pendingCount = this.pendingCount;
    let scanned = 0;
    // address order: neighbouring cards share pages and the hardware prefetcher follows
    this.cardList.subarray(0, count).sort();
    for (let i = 0; i < count; i++) {
      const card = this.cardList[i];
      const refines = visited[card] === 2;
      visited[card] = 0;
      const cardStart = card << LOG_CARD_WORDS;
      const source = cardStart >> log;
      if (inCset[source] !== 0) continue;
      const kind = kinds[source];
      if (kind === REGION_FREE) continue;
      scanned++;
      if (kind === REGION_HUMONGOUS_START || kind === REGION_HUMONGOUS_CONT) {
        this.pendingCount = pendingCount;
        this.flushPending();
        pendingCount = 0;
        this.scanRefines = refines;
        this.scanCard = card;
        this.scanSource = sourceRegionOfCard(heap, card);
        scanCardSlots(heap, card, this);
        continue;
      }
      const cardEnd = cardStart + cardWords;
      const top = tops[source];
      const limit = top < cardEnd ? top : cardEnd;
      if (cardStart >= limit) continue; // a remembered card past top: stale, from the region's earlier life
      const regionStart = source << log;
      let obj = bot[card];
      if (obj < regionStart || obj > cardStart) obj = regionStart;
      while (obj < limit) {
        const header = words[obj];
        const type = header >>> TYPE_SHIFT;
        const k = typeKind[type];
        let size: number;
        let n = 0;
        if (k === TYPE_STRUCT) {
          size = typeSize[type];
          n = typeRefs[type];
        } else {
          size = (HEADER_WORDS + words[obj + 1] * elementWords[type] + 1) & ~1;
          if (k === TYPE_REF_ARRAY) n = words[obj + 1];
        }
        if (!(size >= 2)) throw new Error(`card ${card} of region ${source} (kind ${kind}, top ${top}): no object at word ${obj} (header ${header}, walk from ${bot[card]})`);
        if (n !== 0) {
          const first = obj + HEADER_WORDS;
          const last = first + n < cardEnd ? first + n : cardEnd;
          for (let slot = first > cardStart ? first : cardStart; slot < last; slot++) {
            const v = words[slot];
            if (v === 0) continue;
            const r = v >> log;
            if (inCset[r] !== 0) {
              pending[pendingCount++] = slot;
              if (pendingCount === PENDING_SLOTS) {
                this.pendingCount = pendingCount;
                this.flushPending();
                pendingCount = 0;
              }
            } else if (r !== source) {
              if (candidate[r] !== 0) candidate[r] = 0;
              if (refines && tracked[r] !== 0) remsets.add(r, card);
            }
          }
        }
        obj += size;
      }
    }
    this.pendingCount = pendingCount;
    this.flushPending();
    this.work.cardsScanned += scanned;
  }

  /**
   * Evacuates the queued slots' referents: touches all their headers first
   * (independent loads whose cache misses overlap), then copies each and
   * updates its slot. A slot of a non-young object (or of a failed region's)
   * that now points into a tracked region of another region is recorded in
   * that region's remembered set.
   */
  private flushPending(): void {
    const n = this.pendingCount;
    if (n === 0) return;
    this.pendingCount = 0;
    const words = this.words;
    const pending = this.pending;
    let t = 0;
    for (let i = 0; i < n; i++) t |= words[words[pending[i]]];
    this.touched ^= t;
    const log = this.logRegionWords;
    const tracked = this.remsets.tracked;
    const youngSource = this.youngSource;
    const evacFailed = this.heap.regions.evacFailed;
    for (let i = 0; i < n; i++) {
      const slot = pending[i];
      const moved = this.evacuate(words[slot]);
      words[slot] = moved;
      const target = moved >> log;
      const source = slot >> log;
      if (target !== source && tracked[target] !== 0 && (youngSource[source] === 0 || evacFailed[source] !== 0)) {
        this.remsets.add(target, slot >> LOG_CARD_WORDS);
      }
    }
  }

  /** One non-null slot of the card being scanned. */
  visitSlot(slot: number, v: number): void {
    const heap = this.heap;
    const log = heap.logRegionWords;
    const r = v >> log;
    if (heap.regions.inCset[r] !== 0) {
      const moved = this.evacuate(v);
      heap.words[slot] = moved;
      const target = moved >> log;
      if (target !== this.scanSource && this.remsets.tracked[target] !== 0) this.remsets.add(target, this.scanCard);
      return;
    }
    if (this.humongousCandidate[r] !== 0) this.humongousCandidate[r] = 0;
    if (this.scanRefines && r !== this.scanSource && this.remsets.tracked[r] !== 0) this.remsets.add(r, this.scanCard);
  }

  // ---- the closure ---------------------------------------------------------------------

  /**
   * Scans copied (and self-forwarded) objects until none is left. Slots into
   * the collection set are queued (flushPending evacuates them and pushes the
   * copies); other slots get their remembered-set upkeep here.
   */
  drain(): void {
    const heap = this.heap;
    const words = heap.words;
    const typeKind = heap.types.kind;
    const typeRefs = heap.types.refs;
    const inCset = heap.regions.inCset;
    const evacFailed = heap.regions.evacFailed;
    const log = heap.logRegionWords;
    const tracked = this.remsets.tracked;
    const candidate = this.humongousCandidate;
    const pending = this.pending;
    for (;;) {
      while (this.scanTop > 0) {
        const obj = this.scanStack[--this.scanTop];
        const source = obj >> log;
        const recordsRemset = this.youngSource[source] === 0 || evacFailed[source] !== 0;
        const type = words[obj] >>> TYPE_SHIFT;
        const kind = typeKind[type];
        const n = kind === TYPE_STRUCT ? typeRefs[type] : kind === TYPE_REF_ARRAY ? words[obj + 1] : 0;
        for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
          const v = words[s];
          if (v === 0) continue;
          const r = v >> log;
          if (inCset[r] !== 0) {
            pending[this.pendingCount++] = s;
            if (this.pendingCount === PENDING_SLOTS) this.flushPending();
            continue;
          }
          if (candidate[r] !== 0) candidate[r] = 0;
          if (recordsRemset && r !== source && tracked[r] !== 0) this.remsets.add(r, s >> LOG_CARD_WORDS);
        }
      }
      if (this.pendingCount === 0) return;
      this.flushPending();
    }
  }

  /** The new address of a collection-set object: its copy, or itself when it could not be copied. */
  evacuate(obj: number): number {
    const words = this.words;
    const header = words[obj];
    const state = header & STATE_MASK;
    if (state === STATE_FORWARDED) return words[obj + 1];
    if (state === STATE_SELF_FORWARDED) return obj;
    const type = header >>> TYPE_SHIFT;
    const size = this.typeKind[type] === TYPE_STRUCT ? this.typeSize[type] : (HEADER_WORDS + words[obj + 1] * this.elementWords[type] + 1) & ~1;
    let dest: CopyDestination;
    let newHeader = header;
    if (this.youngSource[obj >> this.logRegionWords] !== 0) {
      const age = ((header & AGE_MASK) >>> AGE_SHIFT) + 1;
      newHeader = (header & ~AGE_MASK) | ((age < 15 ? age : 15) << AGE_SHIFT);
      dest = age >= this.tenuringThreshold || this.survivorFull() ? this.old : this.survivor;
    } else {
      dest = this.old;
    }
    // bump-allocate in the destination (slow path: a new destination region)
    let to = dest.top;
    if (to + size <= dest.end) {
      dest.top = to + size;
    } else {
      to = this.allocate(dest, size);
      if (to === 0 && dest === this.survivor) {
        dest = this.old;
        to = this.allocate(dest, size);
      }
      if (to === 0) return this.failInPlace(obj);
    }
    if (size <= SMALL_COPY_WORDS) {
      for (let i = 0; i < size; i++) words[to + i] = words[obj + i];
    } else {
      words.copyWithin(to, obj, obj + size);
    }
    words[to] = newHeader;
    words[obj] = (header & ~STATE_MASK) | STATE_FORWARDED;
    words[obj + 1] = to;
    const end = to + size;
    if ((((to - 1) ^ (end - 1)) >> LOG_CARD_WORDS) !== 0) this.heap.recordObjectStart(to, end);
    this.liveWords[to >> this.logRegionWords] += size;
    const work = this.work;
    work.objectsCopied++;
    work.wordsCopied += size;
    if (dest === this.old) work.wordsPromoted += size;
    if (this.scanTop === this.scanStack.length) this.growScanStack();
    this.scanStack[this.scanTop++] = to;
    return to;
  }

  private survivorFull(): boolean {
    return this.survivor.regions >= this.maxSurvivorRegions && this.survivor.top === this.survivor.end;
  }

  private allocate(dest: CopyDestination, size: number): number {
    if (dest.top + size <= dest.end) {
      const at = dest.top;
      dest.top += size;
      return at;
    }
    if (size > this.heap.regionWords) return 0;
    if (dest === this.survivor && dest.regions >= this.maxSurvivorRegions) return 0;
    this.retire(dest);
    const r = this.heap.claimRegion(dest.kind);
    if (r < 0) return 0;
    dest.regions++;
    dest.region = r;
    dest.top = this.heap.regions.bottom(r);
    dest.end = this.heap.regions.end(r);
    this.heap.regions.liveWords[r] = 0;
    this.youngSource[r] = dest.kind === REGION_SURVIVOR ? 1 : 0;
    this.heap.meta.cards.fill(dest.kind === REGION_SURVIVOR ? CARD_YOUNG : CARD_CLEAN, r << (this.heap.logRegionWords - LOG_CARD_WORDS), (r + 1) << (this.heap.logRegionWords - LOG_CARD_WORDS));
    this.onDestinationClaimed(r, dest.kind);
    if (dest.kind === REGION_SURVIVOR) this.work.survivorRegions++;
    const at = dest.top;
    dest.top += size;
    return at;
  }

  private retire(dest: CopyDestination): void {
    if (dest.region >= 0) this.heap.regions.top[dest.region] = dest.top;
    dest.region = -1;
    dest.top = 0;
    dest.end = 0;
  }

  /** Closes both destinations (publishing their tops) and accounts the copied words to the heap. */
  finishCopying(): void {
    this.retire(this.survivor);
    this.retire(this.old);
    this.heap.accountedWords += this.work.wordsCopied - this.accountedCopiedWords;
    this.accountedCopiedWords = this.work.wordsCopied;
  }

  private failInPlace(obj: number): number {
    const heap = this.heap;
    const words = heap.words;
    words[obj] = (words[obj] & ~STATE_MASK) | STATE_SELF_FORWARDED;
    const r = obj >> heap.logRegionWords;
    if (heap.regions.evacFailed[r] === 0) {
      heap.regions.evacFailed[r] = 1;
      this.failed.push(r);
    }
    this.work.failedObjects++;
    this.push(obj);
    return obj;
  }

  private push(obj: number): void {
    if (this.scanTop === this.scanStack.length) this.growScanStack();
    this.scanStack[this.scanTop++] = obj;
  }

  private growScanStack(): void {
    const bigger = new Int32Array(this.scanStack.length * 2);
    bigger.set(this.scanStack);
    this.scanStack = bigger;
  }

  private growCardList(): void {
    const bigger = new Int32Array(this.cardList.length * 2);
    bigger.set(this.cardList);
    this.cardList = bigger;
  }

  // ---- after the closure -------------------------------------------------------------

  /** Regions whose evacuation failed in this pause. */
  get failedRegions(): readonly number[] {
    return this.failed;
  }

  /**
   * A region whose evacuation failed becomes an old region: self-forwarded
   * objects become ordinary again, copied-away and unreached objects become
   * fillers, and its live words are recounted.
   */
  retainFailedRegion(r: number): void {
    const heap = this.heap;
    const words = heap.words;
    const regions = heap.regions;
    const top = regions.top[r];
    let obj = r << heap.logRegionWords;
    let deadStart = -1;
    let live = 0;
    while (obj < top) {
      const size = heap.sizeOf(obj);
      if ((words[obj] & STATE_MASK) === STATE_SELF_FORWARDED) {
        if (deadStart >= 0) { heap.writeFiller(deadStart, obj - deadStart); deadStart = -1; }
        words[obj] &= ~STATE_MASK;
        live += size;
      } else if (deadStart < 0 && !(r === 0 && obj === 0)) {
        deadStart = obj;
      }
      obj += size;
    }
    if (deadStart >= 0) heap.writeFiller(deadStart, top - deadStart);
    regions.kind[r] = REGION_OLD;
    regions.liveWords[r] = live;
    regions.inCset[r] = 0;
    regions.evacFailed[r] = 0;
    regions.age[r] = 0;
    heap.meta.cards.fill(CARD_CLEAN, r << (heap.logRegionWords - LOG_CARD_WORDS), (r + 1) << (heap.logRegionWords - LOG_CARD_WORDS));
    this.work.failedRegions++;
  }

  /** Humongous objects nothing reached in this pause and nothing remembers: free their runs. */
  reclaimHumongous(release: (first: number) => void): void {
    const heap = this.heap;
    for (let r = 0; r < heap.regionCount; r++) {
      if (this.humongousCandidate[r] !== 0 && heap.regions.kind[r] === REGION_HUMONGOUS_START) {
        this.humongousCandidate[r] = 0;
        release(r);
        this.work.humongousReclaimed++;
      }
    }
  }
}
