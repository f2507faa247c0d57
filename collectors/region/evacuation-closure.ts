/**
 * One GC thread's share of an evacuation pause with remembered sets (G1's
 * young and mixed collection; the copying core of young-evacuation.ts). The
 * mutator thread runs one of these while the world is stopped and, when the
 * pause is parallel, the evacuation worker runs another over the same shared
 * buffers (evacuation-shared.ts), as HotSpot's G1ParScanThreadState does for
 * each GC worker:
 *
 *   cards     card ranges claimed CLAIM_CARDS at a time, in address order; every remembered
 *             or dirty card there is scanned, and every slot on it that points into the
 *             collection set is evacuated
 *   closure   copied objects with reference slots are scanned depth-first from a private stack; when another
 *             thread is idle, half of the stack moves to the shared queue (work sharing)
 *   hand-off  a slot whose referent the other thread owns goes to it on a ring (below)
 *   finish    a thread that finds no card, no private, no shared and no handed-over work goes
 *             idle; the pause's copying ends when every thread is idle with nothing left
 *
 * Who copies an object (parallel): its owner, by address. The collection set
 * is dealt out by region, alternately in address order, to the two threads
 * (the TARGET_OWNER bit of slotTarget, set at the start of the pause):
 *
 *   collection set    r3  r4  r9  r10 r11 r40 ...
 *   owner(obj)         0   1   0   1   0   1  ...   = (slotTarget[region(obj)] >>> OWNER_SHIFT) & 1
 *
 * A thread that finds a slot whose referent another thread owns hands the
 * slot's address over through its hand-off ring (evacuation-shared.ts); the
 * owner evacuates the referent and updates the slot. So an object is only
 * ever copied, forwarded and read for forwarding by one thread, with plain
 * loads and stores: no CAS per object, and no cache line of the collection
 * set written by both cores. (The first version claimed each object by CAS of
 * its header, NORMAL -> BUSY -> FORWARDED, as HotSpot does; on V8 the two
 * atomic operations per object and the lines bouncing between the cores made
 * a parallel copy cost 105 ns against 62 ns serially.) Only the scanning of
 * copies is shared between threads (their slots go to their referents' owners
 * in turn). Roots are evacuated by the mutator thread before the worker starts.
 *
 *   copy destination:  young object, age <  tenuring threshold  -> survivor region (age + 1)
 *                      young object, age >= threshold, or survivors full -> old region
 *                      old object (mixed pause)                 -> old region
 *   no region left:    the object stays in place, state SELF_FORWARDED, its region
 *                      is marked evacFailed (retained as old by the pause)
 *
 * Each thread copies into destination regions of its own (whole-region PLABs)
 * taken from the pause's pool of free regions with an atomic counter, so its
 * region tops, live words and block-offset entries are written by it alone.
 * Remembered-set entries (target region, card) are collected per thread and
 * added by the mutator thread after the copying (the sets are not shared).
 *
 * Memory latency, not instructions, bounds this work: a slot's referent is at
 * a random place in eden, and reading its header is a cache miss that the CPU
 * cannot overlap with the next one when each copy waits for it (measured here:
 * 94 ns per dependent miss over 24 MB, 16 ns with 8 independent loads in
 * flight). So slots into the collection set are queued (PENDING_SLOTS), and a
 * full queue is flushed by first loading every referent's header in one tight
 * loop (independent loads whose misses overlap: JavaScript's stand-in for
 * HotSpot's Prefetch::read/write) and then evacuating them with the headers in
 * cache.
 */
import * as layout from '../../vm-core/layout.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as sideMetadata from '../../vm-core/side-metadata.js';
import * as typeRegistry from '../../vm-core/type-registry.js';
import {
  ABORT, CARD_CHUNK, CARD_COUNT, CARD_NEXT, CLAIM_CARDS, type EvacuationShared, HANDOFF_HEAD, HANDOFF_TAIL, IDLE, NAP, OWNER_SHIFT, POOL_COUNT,
  MAX_GC_THREADS, POOL_NEXT, Q_LOCK, Q_SIZE, QUEUE_CAPACITY, SURVIVOR_CLAIMED, SURVIVOR_MAX, TARGET_CANDIDATE, TARGET_IN_CSET, TARGET_NEW_SURVIVOR, TARGET_TRACKED,
  TENURING, THREADS, type ThreadResult, WAKES,
} from './evacuation-shared.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { AGE_MASK, AGE_SHIFT, CARD_WORDS, HEADER_WORDS, LOG_CARD_WORDS, STATE_FORWARDED, STATE_MASK, STATE_NORMAL, STATE_SELF_FORWARDED, TYPE_SHIFT } = layout;
const { REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD, REGION_SURVIVOR, RESERVED_WORDS } = regionTable;
const { CARD_CLEAN, CARD_DIRTY, CARD_YOUNG } = sideMetadata;
/** CARD_DIRTY's bit in each byte of a word of four card-table bytes (the other values, CLEAN and YOUNG, lack it). */
const DIRTY_IN_EVERY_BYTE = 0x01010101;
const { SLOTS_REF_ARRAY, TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

const SMALL_COPY_WORDS = 16;
/** Bit 30 of a slot scanChunk found: its card was dirty (refinement's duty: remember slots into tracked regions). Slots stay below 2^30. */
const FOUND_REFINES = 1 << 30;
/** Slots queued before their referents are touched together and evacuated. */
const PENDING_SLOTS = 64;
/** A thread shares work only when its stack holds more than this many objects. */
const SHARE_MIN = 32;
/** Objects popped between two looks at whether another thread is idle. */
const SHARE_CHECK_INTERVAL = 64;
/** Entries taken from the shared queue at once. */
const TAKE_MAX = 256;
/** Ints (two per slot: slot, referent) gathered for the other thread before they are published on the ring. */
const HANDOFF_BATCH = 512;
/** A ring entry is a pair: the slot's address and its referent (the owner need not load the slot). */

/** The heap's typed arrays a closure works on (the same buffers on every thread). */
export interface EvacuationHeapViews {
  words: Int32Array;
  typeKind: Int32Array;
  typeRefs: Int32Array;
  typeSize: Int32Array;
  elementWords: Int32Array;
  leafWords: Int32Array;
  slotShape: Int32Array;
  regionKind: Uint8Array;
  regionTop: Int32Array;
  liveWords: Int32Array;
  evacFailed: Uint8Array;
  humongousStart: Int32Array;
  cards: Uint8Array;
  blockOffsets: Int32Array;
  /** The ref-starts bitmap and its per-region kept flags (side-metadata.ts). */
  refStarts: Int32Array;
  refStartsKept: Uint8Array;
  logRegionWords: number;
}

export class EvacuationClosure {
  // heap views
  private readonly words: Int32Array;
  private readonly typeKind: Int32Array;
  private readonly typeRefs: Int32Array;
  private readonly typeSize: Int32Array;
  private readonly elementWords: Int32Array;
  private readonly leafWords: Int32Array;
  private readonly slotShape: Int32Array;
  private readonly regionKind: Uint8Array;
  private readonly regionTop: Int32Array;
  private readonly liveWords: Int32Array;
  private readonly evacFailed: Uint8Array;
  private readonly humongousStart: Int32Array;
  private readonly cards: Uint8Array;
  private readonly blockOffsets: Int32Array;
  private readonly refStarts: Int32Array;
  private readonly refStartsKept: Uint8Array;
  private readonly logRegionWords: number;
  // shared pause state
  private readonly control: Int32Array;
  private readonly cardVisited: Uint8Array;
  /** cardVisited and the card table, four cards a word. */
  private readonly cardVisitedWords: Int32Array;
  private readonly cardWords: Int32Array;
  /** The cards found and not yet scanned (at most CARD_CHUNK), and which of them were dirty. */
  private readonly chunkCards = new Int32Array(CARD_CHUNK);
  private readonly chunkDirty = new Uint8Array(CARD_CHUNK);
  /** What scanChunk's walk found: at most every word of every card of a chunk, a pair each. */
  private readonly found = new Int32Array(2 * CARD_CHUNK * CARD_WORDS);
  private readonly pool: Int32Array;
  private readonly queue: Int32Array;
  private readonly handoff: Int32Array;
  /** Ints in each thread's ring (a power of two: the buffer holds one ring per thread). */
  private readonly ringInts: number;
  private readonly youngSource: Uint8Array;
  private readonly cardSource: Uint8Array;
  private readonly candidate: Uint8Array;
  private readonly slotTarget: Uint8Array;

  /** This pause uses more than one thread (hand-offs, work sharing). */
  private parallel = false;
  /** This thread's index (0: the mutator thread) and the owner mask (0 when serial: every object is ours). */
  private me = 0;
  private ownerMask = 0;
  /** The thread whose hand-off ring this one takes from (itself in the warm-up's loopback mode). */
  private other = 1;
  // slots for the other thread, waiting to be published on this thread's hand-off ring
  private outbox = new Int32Array(1 << 8);
  private outCount = 0;
  private tenuringThreshold = 15;
  // destinations: whole regions of this thread, bump-allocated
  private survivorRegion = -1;
  private survivorTop = 0;
  private survivorEnd = 0;
  private oldRegion = -1;
  private oldTop = 0;
  private oldEnd = 0;
  /** No survivor region can be had any more this pause (survivors full or pool empty). */
  private survivorsExhausted = false;
  /** No region at all can be had any more this pause. */
  private poolExhausted = false;
  // objects to scan, depth first (the growable arrays start small, so the warm-up grows them too)
  private stack = new Int32Array(1 << 6);
  private top = 0;
  private popsSinceShareCheck = 0;
  // slots into the collection set waiting for flushPending
  private readonly pending = new Int32Array(PENDING_SLOTS);
  /** The referent of each pending slot (as read when it was queued: no other thread writes the slot). */
  private readonly pendingObj = new Int32Array(PENDING_SLOTS);
  private pendingCount = 0;
  /** Sink of the touch loads, so the compiler keeps them. */
  private touched = 0;
  // results
  private pairs = new Int32Array(1 << 8);
  private pairCount = 0;
  private claimed = new Int32Array(8);
  private claimedCount = 0;
  objectsCopied = 0;
  wordsCopied = 0;
  wordsPromoted = 0;
  failedObjects = 0;
  cardsScanned = 0;
  /** Dirty cards this thread took from the card table, and cards it dirtied again (remember). */
  dirtyCardsTaken = 0;
  cardsRedirtied = 0;
  /** The cards this thread dirtied again (cardsRedirtied of them). */
  private redirtied = new Int32Array(1 << 8);
  slotsHandedOver = 0;
  // where this thread's time went (HotSpot's per-worker "Scan Heap Roots" / "Object Copy" split:
  // copying done while scanning cards, i.e. trimming the stack, counts as copying)
  private cardScanMs = 0;
  private copyMs = 0;
  /** Words copied into survivor regions by their new age (HotSpot's AgeTable, for adaptive tenuring). */
  private readonly ageWords = new Float64Array(16);

  constructor(heap: EvacuationHeapViews, shared: EvacuationShared) {
    this.words = heap.words;
    this.typeKind = heap.typeKind;
    this.typeRefs = heap.typeRefs;
    this.typeSize = heap.typeSize;
    this.elementWords = heap.elementWords;
    this.leafWords = heap.leafWords;
    this.slotShape = heap.slotShape;
    this.regionKind = heap.regionKind;
    this.regionTop = heap.regionTop;
    this.liveWords = heap.liveWords;
    this.evacFailed = heap.evacFailed;
    this.cards = heap.cards;
    this.blockOffsets = heap.blockOffsets;
    this.refStarts = heap.refStarts;
    this.refStartsKept = heap.refStartsKept;
    this.logRegionWords = heap.logRegionWords;
    this.control = shared.control;
    this.cardVisited = shared.cardVisited;
    this.cardVisitedWords = new Int32Array(shared.cardVisited.buffer, shared.cardVisited.byteOffset, shared.cardVisited.length >> 2);
    this.cardWords = new Int32Array(heap.cards.buffer, heap.cards.byteOffset, heap.cards.length >> 2);
    this.pool = shared.pool;
    this.queue = shared.queue;
    this.handoff = shared.handoff;
    this.ringInts = shared.handoff.length / MAX_GC_THREADS;
    this.youngSource = shared.youngSource;
    this.candidate = shared.humongousCandidate;
    this.cardSource = shared.cardSource;
    this.slotTarget = shared.slotTarget;
    this.humongousStart = heap.humongousStart;
    // These buffers are replaced when they fill (grow()). Each is replaced once here, so that V8 never
    // compiles code that takes it for a constant field: the first replacement in a run would discard every
    // optimized function that reads it, in the middle of that pause (in the first measured pause of
    // lru-cache 512m: drainLocal, scanChunk and remember, on both threads; the pause took 20-60 ms longer).
    this.outbox = new Int32Array(this.outbox.length);
    this.stack = new Int32Array(this.stack.length);
    this.claimed = new Int32Array(this.claimed.length);
    this.redirtied = new Int32Array(this.redirtied.length);
    this.pairs = new Int32Array(this.pairs.length);
  }

  /** Starts thread `thread`'s share of a pause (the control words, THREADS included, must be set). */
  begin(parallel: boolean, thread = 0, loopback = false): void {
    this.parallel = parallel;
    this.me = thread;
    this.ownerMask = parallel ? (loopback ? 1 : this.control[THREADS] - 1) : 0;
    this.other = loopback ? thread : 1 - thread;
    this.outCount = 0;
    this.tenuringThreshold = this.control[TENURING];
    this.survivorRegion = -1;
    this.survivorTop = this.survivorEnd = 0;
    this.oldRegion = -1;
    this.oldTop = this.oldEnd = 0;
    this.survivorsExhausted = false;
    this.poolExhausted = false;
    this.top = 0;
    this.popsSinceShareCheck = 0;
    this.pendingCount = 0;
    this.pairCount = 0;
    this.claimedCount = 0;
    this.objectsCopied = 0;
    this.wordsCopied = 0;
    this.wordsPromoted = 0;
    this.failedObjects = 0;
    this.cardsScanned = 0;
    this.dirtyCardsTaken = 0;
    this.cardsRedirtied = 0;
    this.slotsHandedOver = 0;
    this.cardScanMs = 0;
    this.copyMs = 0;
    this.ageWords.fill(0);
  }

  // ---- roots (the mutator thread's root slots) ---------------------------------------------

  /** Evacuates the root slots that point into the collection set; returns how many were updated. */
  evacuateRoots(roots: Int32Array, n: number): number {
    const target = this.slotTarget;
    const log = this.logRegionWords;
    let updated = 0;
    for (let i = 0; i < n; i++) {
      const v = roots[i];
      if (v === 0) continue;
      const r = v >> log;
      const f = target[r];
      if ((f & TARGET_IN_CSET) !== 0) {
        roots[i] = this.evacuate(v);
        updated++;
      } else if ((f & TARGET_CANDIDATE) !== 0) {
        this.clearCandidate(r);
      }
    }
    return updated;
  }

  // ---- the whole share: cards, then the closure until every thread is done ----------------

  run(): void {
    this.scanCards();
    this.finish();
  }

  /** The rest of this thread's share after its cards: the closure until every thread is done. */
  finish(): void {
    const t0 = performance.now();
    const idleMs = this.drainAll();
    this.retireDestinations();
    this.copyMs += performance.now() - t0 - idleMs;
  }

  /**
   * Claims CLAIM_CARDS card indices at a time until the heap's cards are all
   * claimed, and scans every card there that is remembered (cardVisited) or
   * dirty in the card table, as G1's threads scan the card table after its
   * "merge heap roots": a dirty card is cleaned and scanned once, with
   * refinement's duty as well (its slots into tracked regions that are not
   * being collected are recorded). Regions that are no card source are
   * skipped whole, and both tables are read four cards at a time, so clean
   * cards cost two loads per 2 KiB of heap. The cards found
   * are scanned CARD_CHUNK at a time, and each chunk's copies are scanned
   * before the next chunk (while they are still in cache).
   */
  scanCards(): void {
    const t0 = performance.now();
    this.cardScanTrimMs = 0;
    const control = this.control;
    const count = control[CARD_COUNT];
    const visited = this.cardVisited;
    const visitedWords = this.cardVisitedWords;
    const table = this.cards;
    const tableWords = this.cardWords;
    const chunk = this.chunkCards;
    const chunkDirty = this.chunkDirty;
    const cardSource = this.cardSource;
    const cardsLog = this.logRegionWords - LOG_CARD_WORDS;
    let n = 0;
    for (;;) {
      const start = this.parallel ? Atomics.add(control, CARD_NEXT, CLAIM_CARDS) : control[CARD_NEXT];
      if (!this.parallel) control[CARD_NEXT] = start + CLAIM_CARDS;
      if (start >= count) break;
      const stop = start + CLAIM_CARDS < count ? start + CLAIM_CARDS : count;
      let c = start;
      while (c < stop) {
        // region by region: regions free or in the collection set when the pause began are skipped whole
        // (nothing is remembered there; their cards are reset when they are freed or retained; and a
        // copy destination's cards dirtied during the pause wait for the next one: see cardSource)
        const region = c >> cardsLog;
        const regionEnd = (region + 1) << cardsLog;
        const end = regionEnd < stop ? regionEnd : stop;
        if (cardSource[region] === 0) {
          c = end;
          continue;
        }
        while (c < end) {
          // four cards at once where they share a word of both tables
          if ((c & 3) === 0 && c + 4 <= end) {
            const w = c >> 2;
            if ((visitedWords[w] | (tableWords[w] & DIRTY_IN_EVERY_BYTE)) === 0) {
              c += 4;
              continue;
            }
          }
          const dirty = table[c] === CARD_DIRTY;
          if (dirty || visited[c] !== 0) {
            visited[c] = 0;
            if (dirty) {
              table[c] = CARD_CLEAN;
              this.dirtyCardsTaken++;
            }
            chunk[n] = c;
            chunkDirty[n++] = dirty ? 1 : 0;
            if (n === CARD_CHUNK) {
              this.scanChunk(n);
              n = 0;
            }
          }
          c++;
        }
      }
    }
    if (n !== 0) this.scanChunk(n);
    this.flushPendingTimed();
    const trimMs = this.cardScanTrimMs + this.flushMs;
    this.flushMs = 0;
    this.copyMs += trimMs;
    this.cardScanMs += performance.now() - t0 - trimMs;
  }

  /** Copying done while scanning cards (each chunk's dispatch of the slots it found, its closure, the flushes): it counts as copying. */
  private cardScanTrimMs = 0;

  /**
   * Loads the chunk's cards (every line, and their block offsets) together,
   * then walks them, then dispatches what the walk found; then the copies'
   * closure. The walk (walkChunk) makes no call: it gathers the slots that
   * point into a region that asks for something (slotTarget non-zero) into
   * `found`, and the dispatch evacuates, hands over or remembers them.
   */
  private scanChunk(count: number): void {
    const chunk = this.chunkCards;
    const chunkDirty = this.chunkDirty;
    const words = this.words;
    const bot = this.blockOffsets;
    let t = 0;
    for (let i = 0; i < count; i++) {
      const c = chunk[i];
      const w = c << LOG_CARD_WORDS;
      t |= words[w] | words[w + 16] | words[w + 32] | words[w + 48] | words[w + 64] | words[w + 80] | words[w + 96] | words[w + 112] | bot[c];
    }
    this.touched ^= t;
    const nFound = this.walkChunk(count);
    for (let i = 0, n = this.humongousCards; i < n; i++) {
      const card = chunk[i];
      const cardStart = card << LOG_CARD_WORDS;
      this.scanHumongousCard(card, cardStart, cardStart + CARD_WORDS, cardStart >> this.logRegionWords, chunkDirty[i] !== 0);
    }
    this.cardsScanned += count;
    // what the walk found is evacuated now, then the copies' closure: copying, timed as one (a clock read costs ~60 ns)
    const t1 = performance.now();
    this.dispatchFound(nFound);
    this.drainLocal();
    this.cardScanTrimMs += performance.now() - t1;
  }

  /** Humongous cards scanChunk's walk left for scanHumongousCard (moved to the chunk's front). */
  private humongousCards = 0;

  /**
   * scanChunk's walk (see there): returns the ints written to `found`. In a
   * region whose ref-starts bits are kept, the walk visits the object reaching
   * in from an earlier card, then the card's objects with slots by their
   * bits; elsewhere it walks object by object from the block-offset table.
   */
  private walkChunk(count: number): number {
    const chunk = this.chunkCards;
    const chunkDirty = this.chunkDirty;
    const words = this.words;
    const log = this.logRegionWords;
    const kinds = this.regionKind;
    const tops = this.regionTop;
    const bot = this.blockOffsets;
    const slotShape = this.slotShape;
    const leafWords = this.leafWords;
    const slotTarget = this.slotTarget;
    const refStarts = this.refStarts;
    const refStartsKept = this.refStartsKept;
    const found = this.found;
    // found[2k] = slot (FOUND_REFINES set when its card was dirty), found[2k + 1] = its referent
    let nFound = 0;
    let humongousCards = 0;
    for (let i = 0; i < count; i++) {
      const card = chunk[i];
      const refinesBit = chunkDirty[i] !== 0 ? FOUND_REFINES : 0;
      const cardStart = card << LOG_CARD_WORDS;
      const region = cardStart >> log;
      const kind = kinds[region];
      const cardEnd = cardStart + CARD_WORDS;
      if (kind === REGION_HUMONGOUS_START || kind === REGION_HUMONGOUS_CONT) {
        chunk[humongousCards] = card; // (entries before i are done with)
        chunkDirty[humongousCards++] = chunkDirty[i];
        continue;
      }
      const top = tops[region];
      const limit = top < cardEnd ? top : cardEnd;
      if (cardStart >= limit) continue; // a remembered card past top: stale, from the region's earlier life
      const regionStart = region << log;
      let obj = bot[card];
      if (refStartsKept[region] !== 0 && obj >= regionStart && obj <= cardStart) {
        // the object reaching in from an earlier card (its bit is on that card), if it has slots here
        if (obj < cardStart) {
          const shape = slotShape[words[obj] >>> TYPE_SHIFT];
          const n = shape > 0 ? shape >>> 16 : shape === SLOTS_REF_ARRAY ? words[obj + 1] : 0;
          const end = obj + HEADER_WORDS + n;
          const last = end < cardEnd ? end : cardEnd;
          for (let slot = cardStart; slot < last; slot++) {
            const v = words[slot];
            // the common case first: a region that asks for nothing (null is region 0: one branch for both, mostly)
            if (slotTarget[v >> log] === 0 || v === 0) continue;
            found[nFound] = slot | refinesBit;
            found[nFound + 1] = v;
            nFound += 2;
          }
        }
        // the objects with slots that start on the card: its two words of bits
        for (let at = cardStart >> 6, stop = at + 2; at < stop; at++) {
          let bits = refStarts[at];
          while (bits !== 0) {
            const low = bits & -bits;
            bits ^= low;
            obj = (at << 6) + ((31 - Math.clz32(low)) << 1);
            const shape = slotShape[words[obj] >>> TYPE_SHIFT];
            const n = shape > 0 ? shape >>> 16 : words[obj + 1];
            const end = obj + HEADER_WORDS + n;
            const last = end < cardEnd ? end : cardEnd;
            for (let slot = obj + HEADER_WORDS; slot < last; slot++) {
              const v = words[slot];
              if (slotTarget[v >> log] === 0 || v === 0) continue;
              found[nFound] = slot | refinesBit;
              found[nFound + 1] = v;
              nFound += 2;
            }
          }
        }
        continue;
      }
      if (obj < regionStart || obj > cardStart) obj = regionStart;
      while (obj < limit) {
        const header = words[obj];
        const type = header >>> TYPE_SHIFT;
        const leaf = leafWords[type];
        if (leaf !== 0) { // most objects on a card (lru-cache: the values and keys): step over, one load
          obj += leaf;
          continue;
        }
        const shape = slotShape[type];
        let size: number;
        let n = 0;
        if (shape > 0) {
          size = shape & 0xffff;
          n = shape >>> 16;
        } else {
          size = (HEADER_WORDS + words[obj + 1] * this.elementWords[type] + 1) & ~1;
          if (shape === SLOTS_REF_ARRAY) n = words[obj + 1];
        }
        if (!(size >= 2)) this.noObject(card, obj);
        const end = obj + HEADER_WORDS + n;
        const last = end < cardEnd ? end : cardEnd;
        for (let slot = obj + HEADER_WORDS > cardStart ? obj + HEADER_WORDS : cardStart; slot < last; slot++) {
          const v = words[slot];
          if (slotTarget[v >> log] === 0 || v === 0) continue;
          found[nFound] = slot | refinesBit;
          found[nFound + 1] = v;
          nFound += 2;
        }
        obj += size;
      }
    }
    this.humongousCards = humongousCards;
    return nFound;
  }

  private noObject(card: number, obj: number): never {
    const region = obj >> this.logRegionWords;
    throw new Error(`card ${card} of region ${region} (kind ${this.regionKind[region]}, top ${this.regionTop[region]}): no object at word ${obj} (header ${this.words[obj]}, walk from ${this.blockOffsets[card]})`);
  }

  /** The slots scanChunk's walk found (pairs: slot | FOUND_REFINES, referent): each evacuated, handed over or remembered. */
  private dispatchFound(n: number): void {
    const found = this.found;
    const slotTarget = this.slotTarget;
    const log = this.logRegionWords;
    const me = this.me;
    const ownerMask = this.ownerMask;
    for (let i = 0; i < n; i += 2) {
      const slot = found[i] & ~FOUND_REFINES;
      const v = found[i + 1];
      const r = v >> log;
      const f = slotTarget[r];
      if ((f & TARGET_IN_CSET) !== 0) {
        if (((f >>> OWNER_SHIFT) & ownerMask) !== me) this.handOff(slot, v);
        else {
          this.pendingObj[this.pendingCount] = v;
          this.pending[this.pendingCount++] = slot;
          if (this.pendingCount === PENDING_SLOTS) this.flushPending();
        }
        continue;
      }
      const region = slot >> log;
      if (r === region) continue;
      if ((f & TARGET_CANDIDATE) !== 0) this.clearCandidate(r);
      if ((found[i] & FOUND_REFINES) !== 0 && (f & TARGET_TRACKED) !== 0) this.remember(r, slot >> LOG_CARD_WORDS, region);
    }
  }

  /** Time spent evacuating card-found referents during the current card scan (counts as copying). */
  private flushMs = 0;

  private flushPendingTimed(): void {
    const t = performance.now();
    this.flushPending();
    this.flushMs += performance.now() - t;
  }

  /** A card of a humongous object: only a reference array has slots there. */
  private scanHumongousCard(card: number, cardStart: number, cardEnd: number, region: number, refines: boolean): void {
    const words = this.words;
    const log = this.logRegionWords;
    const startRegion = this.regionKind[region] === REGION_HUMONGOUS_CONT ? this.humongousStart[region] : region;
    const obj = startRegion === 0 ? RESERVED_WORDS : startRegion << log;
    const type = words[obj] >>> TYPE_SHIFT;
    if (this.typeKind[type] !== TYPE_REF_ARRAY) return;
    const first = obj + HEADER_WORDS;
    const end = first + words[obj + 1];
    const last = end < cardEnd ? end : cardEnd;
    for (let slot = first > cardStart ? first : cardStart; slot < last; slot++) {
      const v = words[slot];
      if (v === 0) continue;
      const r = v >> log;
      const f = this.slotTarget[r];
      if ((f & TARGET_IN_CSET) !== 0) {
        if (((f >>> OWNER_SHIFT) & this.ownerMask) !== this.me) this.handOff(slot, v);
        else {
          this.pendingObj[this.pendingCount] = v;
          this.pending[this.pendingCount++] = slot;
          if (this.pendingCount === PENDING_SLOTS) this.flushPendingTimed();
        }
      } else if (r !== startRegion) {
        if ((f & TARGET_CANDIDATE) !== 0) this.clearCandidate(r);
        if (refines && (f & TARGET_TRACKED) !== 0) this.remember(r, card, startRegion);
      }
    }
  }

  // ---- the closure ---------------------------------------------------------------------

  /** Scans this thread's objects until its stack and pending queue are empty. */
  private drainLocal(): void {
    const words = this.words;
    const typeKind = this.typeKind;
    const typeRefs = this.typeRefs;
    const evacFailed = this.evacFailed;
    const youngSource = this.youngSource;
    const log = this.logRegionWords;
    const slotTarget = this.slotTarget;
    const pending = this.pending;
    const pendingObj = this.pendingObj;
    const me = this.me;
    const ownerMask = this.ownerMask;
    for (;;) {
      while (this.top > 0) {
        const obj = this.stack[--this.top];
        if (this.parallel && ++this.popsSinceShareCheck === SHARE_CHECK_INTERVAL) {
          this.popsSinceShareCheck = 0;
          if (Atomics.load(this.control, IDLE) > 0) {
            if (this.top > SHARE_MIN) this.share();
            this.publishHandOffs(); // the other thread waits for work: give it what there is now
          }
          this.takeHandOffs();
        }
        const source = obj >> log;
        const recordsRemset = youngSource[source] === 0 || evacFailed[source] !== 0;
        const type = words[obj] >>> TYPE_SHIFT;
        const kind = typeKind[type];
        const n = kind === TYPE_STRUCT ? typeRefs[type] : kind === TYPE_REF_ARRAY ? words[obj + 1] : 0;
        for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
          const v = words[s];
          const r = v >> log;
          const f = slotTarget[r];
          if (f === 0 || v === 0) continue;
          if ((f & TARGET_IN_CSET) !== 0) {
            if (((f >>> OWNER_SHIFT) & ownerMask) !== me) {
              this.handOff(s, v);
            } else {
              pendingObj[this.pendingCount] = v;
              pending[this.pendingCount++] = s;
              if (this.pendingCount === PENDING_SLOTS) this.flushPending();
            }
            continue;
          }
          if ((f & TARGET_CANDIDATE) !== 0) this.clearCandidate(r);
          if (recordsRemset && r !== source && (f & TARGET_TRACKED) !== 0) this.remember(r, s >> LOG_CARD_WORDS, source);
        }
      }
      if (this.pendingCount !== 0) {
        this.flushPending();
        continue;
      }
      if (!this.parallel) return;
      if (this.takeHandOffs()) continue;
      this.publishHandOffs();
      return;
    }
  }

  // ---- hand-offs: slots whose referents the other thread owns ---------------------------

  private handOff(slot: number, referent: number): void {
    if (this.outCount + 2 > this.outbox.length) this.outbox = grow(this.outbox);
    this.outbox[this.outCount++] = slot;
    this.outbox[this.outCount++] = referent;
    this.slotsHandedOver++;
    if (this.outCount >= HANDOFF_BATCH) this.publishHandOffs();
  }

  /** Moves as many gathered slots as fit onto this thread's ring; what does not fit waits here. */
  private publishHandOffs(): void {
    const n = this.outCount >> 1;
    if (n === 0) return;
    const control = this.control;
    const headIndex = HANDOFF_HEAD + 2 * this.me;
    const tailIndex = HANDOFF_TAIL + 2 * this.me;
    const tail = control[tailIndex]; // written by this thread alone
    const free = (this.ringInts >> 1) - (tail - Atomics.load(control, headIndex));
    const m = n < free ? n : free;
    if (m === 0) return;
    const ring = this.handoff;
    const base = this.me * this.ringInts;
    const mask = this.ringInts - 1;
    const outbox = this.outbox;
    for (let i = 0; i < m; i++) {
      const at = base + (((tail + i) << 1) & mask);
      ring[at] = outbox[2 * i];
      ring[at + 1] = outbox[2 * i + 1];
    }
    Atomics.store(control, tailIndex, tail + m);
    if (m < n) outbox.copyWithin(0, 2 * m, 2 * n);
    this.outCount = 2 * (n - m);
  }

  /** Evacuates the slots the other thread handed over (all of them owned here); false if there were none. */
  private takeHandOffs(): boolean {
    const control = this.control;
    const other = this.other;
    const headIndex = HANDOFF_HEAD + 2 * other;
    const head = control[headIndex]; // advanced by this thread alone
    const tail = Atomics.load(control, HANDOFF_TAIL + 2 * other);
    if (head === tail) return false;
    const ring = this.handoff;
    const base = other * this.ringInts;
    const mask = this.ringInts - 1;
    const pending = this.pending;
    const pendingObj = this.pendingObj;
    for (let i = head; i !== tail; i++) {
      const at = base + ((i << 1) & mask);
      pending[this.pendingCount] = ring[at];
      pendingObj[this.pendingCount++] = ring[at + 1];
      if (this.pendingCount === PENDING_SLOTS) this.flushPending();
    }
    Atomics.store(control, headIndex, tail);
    return true;
  }

  /** No slot waits on either thread's ring (this thread's outbox must be empty too). */
  private ringsEmpty(): boolean {
    const control = this.control;
    for (let t = 0; t <= this.ownerMask; t++) {
      if (Atomics.load(control, HANDOFF_HEAD + 2 * t) !== Atomics.load(control, HANDOFF_TAIL + 2 * t)) return false;
    }
    return true;
  }

  private inboxNonEmpty(): boolean {
    const other = this.other;
    return Atomics.load(this.control, HANDOFF_HEAD + 2 * other) !== Atomics.load(this.control, HANDOFF_TAIL + 2 * other);
  }

  /**
   * Local work, then shared and handed-over work, until every thread is idle
   * and nothing is left anywhere. A thread goes idle only with its own slots
   * all published; it leaves IDLE (counting WAKES) before it takes shared or
   * handed-over work; and only a working thread adds work. So when a thread
   * sees every thread idle, both rings and the queue empty, and WAKES
   * unchanged across those reads, no thread was working in between and none
   * can start again: the copying is done.
   */
  private drainAll(): number {
    this.drainLocal();
    if (!this.parallel) return 0;
    const control = this.control;
    const threads = control[THREADS];
    let idleMs = 0;
    for (;;) {
      if (this.takeShared()) {
        this.drainLocal();
        continue;
      }
      if (this.outCount > 0) { // the ring is full: the other thread is behind; take its hand-offs meanwhile
        this.publishHandOffs();
        this.drainLocal();
        continue;
      }
      const idleStart = performance.now();
      Atomics.add(control, IDLE, 1);
      let spins = 0;
      let deadline = 0;
      for (;;) {
        if (Atomics.load(control, Q_SIZE) > 0 || this.inboxNonEmpty()) {
          Atomics.add(control, WAKES, 1);
          Atomics.sub(control, IDLE, 1);
          break;
        }
        const wakes = Atomics.load(control, WAKES);
        if (Atomics.load(control, IDLE) === threads && Atomics.load(control, Q_SIZE) === 0 && this.ringsEmpty() &&
            Atomics.load(control, IDLE) === threads && Atomics.load(control, WAKES) === wakes) {
          return idleMs + (performance.now() - idleStart);
        }
        if (Atomics.load(control, ABORT) !== 0) throw new Error('parallel evacuation: another GC thread failed');
        if (++spins > 2000) {
          // the other thread is still busy: doze in 50 µs naps (a hung thread is an error after a minute)
          if (deadline === 0) deadline = performance.now() + 60_000;
          else if (performance.now() > deadline) throw new Error('parallel evacuation: another GC thread did not finish within 60 s');
          Atomics.wait(control, NAP, 0, 0.05);
        }
      }
      idleMs += performance.now() - idleStart;
      this.takeHandOffs();
      this.drainLocal();
    }
  }

  private lock(): void {
    const control = this.control;
    while (Atomics.compareExchange(control, Q_LOCK, 0, 1) !== 0) { /* spin: held for a copy of at most TAKE_MAX or half a stack */ }
  }

  private unlock(): void {
    Atomics.store(this.control, Q_LOCK, 0);
  }

  /** Moves the top half of this thread's stack to the shared queue (as much as fits). */
  private share(): void {
    this.lock();
    const size = this.control[Q_SIZE];
    const n = Math.min(this.top >> 1, QUEUE_CAPACITY - size);
    if (n > 0) {
      this.queue.set(this.stack.subarray(this.top - n, this.top), size);
      this.top -= n;
      Atomics.store(this.control, Q_SIZE, size + n);
    }
    this.unlock();
  }

  /** Takes up to TAKE_MAX objects from the shared queue onto this thread's stack. */
  private takeShared(): boolean {
    if (Atomics.load(this.control, Q_SIZE) === 0) return false;
    this.lock();
    const size = this.control[Q_SIZE];
    const n = size < TAKE_MAX ? size : TAKE_MAX;
    if (n > 0) {
      while (this.top + n > this.stack.length) this.growStack();
      this.stack.set(this.queue.subarray(size - n, size), this.top);
      this.top += n;
      Atomics.store(this.control, Q_SIZE, size - n);
    }
    this.unlock();
    return n > 0;
  }

  /**
   * Evacuates the queued slots' referents: touches all their headers first
   * (independent loads whose cache misses overlap), then copies each and
   * updates its slot. A slot of a non-young object (or of a failed region's)
   * that now points into a tracked region of another region is recorded for
   * that region's remembered set.
   */
  private flushPending(): void {
    const n = this.pendingCount;
    if (n === 0) return;
    this.pendingCount = 0;
    const words = this.words;
    const pending = this.pending;
    let t = 0;
    const pendingObj = this.pendingObj;
    const lastTouch = words.length - 8;
    // eight objects an iteration: fewer instructions per load let more of the loads be in flight at once
    // (the loop waits on memory; lru-cache 512m, 1 GC thread: 62-63 -> 57-58 ns per object copied)
    let i = 0;
    for (; i + 8 <= n; i += 8) {
      const a = pendingObj[i];
      const b = pendingObj[i + 1];
      const c = pendingObj[i + 2];
      const d = pendingObj[i + 3];
      const e = pendingObj[i + 4];
      const f = pendingObj[i + 5];
      const g = pendingObj[i + 6];
      const h = pendingObj[i + 7];
      t |= words[a] | words[b] | words[c] | words[d] | words[e] | words[f] | words[g] | words[h] |
        words[a < lastTouch ? a + 7 : a] | words[b < lastTouch ? b + 7 : b] | words[c < lastTouch ? c + 7 : c] |
        words[d < lastTouch ? d + 7 : d] | words[e < lastTouch ? e + 7 : e] | words[f < lastTouch ? f + 7 : f] |
        words[g < lastTouch ? g + 7 : g] | words[h < lastTouch ? h + 7 : h];
    }
    for (; i < n; i++) {
      const o = pendingObj[i];
      t |= words[o] | words[o < lastTouch ? o + 7 : o];
    }
    this.touched ^= t;
    const log = this.logRegionWords;
    const slotTarget = this.slotTarget;
    const youngSource = this.youngSource;
    const evacFailed = this.evacFailed;
    const slotShape = this.slotShape;
    const tenuring = this.tenuringThreshold;
    // the inline path's counts, added to the fields once at the end
    let copiedInline = 0;
    let promotedInline = 0;
    for (let i = 0; i < n; i++) {
      const slot = pending[i];
      const obj = pendingObj[i];
      const header = words[obj];
      const state = header & STATE_MASK;
      let moved: number;
      if (state === STATE_FORWARDED) {
        moved = words[obj + 1];
      } else {
        // the commonest case inline: a young four-word struct whose destination buffer has room. It is
        // evacuate()'s path for that case, kept here with the heap views in registers (evacuate() as a
        // call per object cost ~4% more per object); every other case goes through evacuate()
        moved = 0;
        const shape = slotShape[header >>> TYPE_SHIFT];
        // a struct of four words (a negative shape, an array's, never matches); its refs: shape >>> 16
        if (state === STATE_NORMAL && (shape & 0xffff) === 4 && youngSource[obj >> log] !== 0) {
          const age = (header & AGE_MASK) >>> AGE_SHIFT;
          const toSurvivor = age < tenuring && !this.survivorsExhausted;
          const to = toSurvivor ? this.survivorTop : this.oldTop;
          if (to + 4 <= (toSurvivor ? this.survivorEnd : this.oldEnd)) {
            if (toSurvivor) this.survivorTop = to + 4;
            else this.oldTop = to + 4;
            copyFourWordBody(words, obj, to);
            const newHeader = (header & ~AGE_MASK) | ((age < 15 ? age + 1 : 15) << AGE_SHIFT);
            words[to] = newHeader;
            words[obj + 1] = to;
            words[obj] = (header & ~STATE_MASK) | STATE_FORWARDED;
            if ((((to - 1) ^ (to + 3)) >> LOG_CARD_WORDS) !== 0) this.recordObjectStart(to, to + 4);
            copiedInline++;
            if (toSurvivor) this.ageWords[age + 1] += 4;
            else promotedInline++;
            if (shape > 0xffff) {
              this.refStarts[to >> 6] |= 1 << ((to >> 1) & 31);
              if (this.top === this.stack.length) this.growStack();
              this.stack[this.top++] = to;
            }
            moved = to;
          }
        }
        if (moved === 0) moved = this.evacuate(obj);
      }
      words[slot] = moved;
      const target = moved >> log;
      const source = slot >> log;
      if (target !== source && (slotTarget[target] & TARGET_TRACKED) !== 0 && (youngSource[source] === 0 || evacFailed[source] !== 0)) {
        this.remember(target, slot >> LOG_CARD_WORDS, source);
      }
    }
    this.objectsCopied += copiedInline;
    this.wordsCopied += 4 * copiedInline;
    this.wordsPromoted += 4 * promotedInline;
  }

  /**
   * The new address of a collection-set object this thread owns (or of any,
   * while it is the only thread running): its copy, or itself when it could
   * not be copied.
   */
  evacuate(obj: number): number {
    const words = this.words;
    const header = words[obj];
    const state = header & STATE_MASK;
    if (state !== STATE_NORMAL) return state === STATE_FORWARDED ? words[obj + 1] : obj;
    const type = header >>> TYPE_SHIFT;
    const kind = this.typeKind[type];
    const size = kind === TYPE_STRUCT ? this.typeSize[type] : (HEADER_WORDS + words[obj + 1] * this.elementWords[type] + 1) & ~1;
    // a copy with no reference slots (most are: lru-cache's values, keys) is never scanned
    const hasSlots = kind === TYPE_STRUCT ? this.typeRefs[type] !== 0 : kind === TYPE_REF_ARRAY;
    let newHeader = header;
    let toSurvivor = false;
    if (this.youngSource[obj >> this.logRegionWords] !== 0) {
      // HotSpot's rule: the pauses survived so far (the age before this one) below the threshold -> survivor
      const age = (header & AGE_MASK) >>> AGE_SHIFT;
      newHeader = (header & ~AGE_MASK) | ((age < 15 ? age + 1 : 15) << AGE_SHIFT);
      toSurvivor = age < this.tenuringThreshold && !this.survivorsExhausted;
    }
    // bump-allocate in the destination (slow path: a new destination region)
    let to = 0;
    if (toSurvivor) {
      to = this.survivorTop;
      if (to + size <= this.survivorEnd) this.survivorTop = to + size;
      else to = this.allocateSlow(true, size);
    }
    if (to === 0) {
      toSurvivor = false;
      to = this.oldTop;
      if (to + size <= this.oldEnd) this.oldTop = to + size;
      else to = this.allocateSlow(false, size);
      if (to === 0) return this.failInPlace(obj, header);
    }
    if (size === 4) {
      // the commonest size (a struct of one or two words: lru-cache's values and keys), without the
      // loop's data-dependent exit branch (young-rates bench, 1 thread: 39.5 -> 38.3 ns per object)
      copyFourWordBody(words, obj, to);
    } else if (size <= SMALL_COPY_WORDS) {
      for (let i = 1; i < size; i++) words[to + i] = words[obj + i];
    } else {
      words.copyWithin(to + 1, obj + 1, obj + size);
    }
    words[to] = newHeader;
    words[obj + 1] = to;
    words[obj] = (header & ~STATE_MASK) | STATE_FORWARDED;
    const end = to + size;
    if ((((to - 1) ^ (end - 1)) >> LOG_CARD_WORDS) !== 0) this.recordObjectStart(to, end);
    this.objectsCopied++;
    this.wordsCopied += size;
    if (toSurvivor) this.ageWords[(newHeader & AGE_MASK) >>> AGE_SHIFT] += size;
    else this.wordsPromoted += size;
    if (hasSlots) {
      this.refStarts[to >> 6] |= 1 << ((to >> 1) & 31);
      if (this.top === this.stack.length) this.growStack();
      this.stack[this.top++] = to;
    }
    return to;
  }

  /** Block-offset table upkeep for a copy that crosses a card boundary (this thread's region). */
  private recordObjectStart(obj: number, end: number): void {
    const bot = this.blockOffsets;
    const last = (end - 1) >> LOG_CARD_WORDS;
    for (let c = (obj + CARD_WORDS - 1) >> LOG_CARD_WORDS; c <= last; c++) bot[c] = obj;
  }

  /** A new destination region for a copy of `size` words; 0 when none can be had. */
  private allocateSlow(survivor: boolean, size: number): number {
    if (size > 1 << this.logRegionWords || this.poolExhausted || (survivor && this.survivorsExhausted)) return 0;
    const control = this.control;
    if (survivor) {
      const taken = this.parallel ? Atomics.add(control, SURVIVOR_CLAIMED, 1) : control[SURVIVOR_CLAIMED]++;
      if (taken >= control[SURVIVOR_MAX]) {
        this.survivorsExhausted = true;
        return 0;
      }
    }
    const index = this.parallel ? Atomics.add(control, POOL_NEXT, 1) : control[POOL_NEXT]++;
    if (index >= control[POOL_COUNT]) {
      this.poolExhausted = true;
      this.survivorsExhausted = true;
      return 0;
    }
    const r = this.pool[index];
    // retire the old destination of this kind, then start r
    if (survivor) this.retire(this.survivorRegion, this.survivorTop);
    else this.retire(this.oldRegion, this.oldTop);
    const kind = survivor ? REGION_SURVIVOR : REGION_OLD;
    const bottom = r === 0 ? RESERVED_WORDS : r << this.logRegionWords;
    const end = (r + 1) << this.logRegionWords;
    this.regionKind[r] = kind;
    this.regionTop[r] = bottom;
    this.liveWords[r] = 0;
    this.youngSource[r] = survivor ? 1 : 0;
    if (survivor) this.slotTarget[r] |= TARGET_TRACKED | TARGET_NEW_SURVIVOR;
    // an old destination keeps its ref-starts bits (every copy with slots sets its own, above): the
    // card scans of later pauses visit only those objects there (side-metadata.ts)
    this.refStartsKept[r] = survivor ? 0 : 1;
    if (!survivor) this.refStarts.fill(0, r << (this.logRegionWords - 6), (r + 1) << (this.logRegionWords - 6));
    const cardsLog = this.logRegionWords - LOG_CARD_WORDS;
    this.cards.fill(survivor ? CARD_YOUNG : CARD_CLEAN, r << cardsLog, (r + 1) << cardsLog);
    if (this.claimedCount + 2 > this.claimed.length) this.claimed = grow(this.claimed);
    this.claimed[this.claimedCount++] = r;
    this.claimed[this.claimedCount++] = kind;
    if (survivor) {
      this.survivorRegion = r;
      this.survivorTop = bottom + size;
      this.survivorEnd = end;
    } else {
      this.oldRegion = r;
      this.oldTop = bottom + size;
      this.oldEnd = end;
    }
    return bottom;
  }

  private failInPlace(obj: number, header: number): number {
    this.words[obj] = (header & ~STATE_MASK) | STATE_SELF_FORWARDED;
    this.evacFailed[obj >> this.logRegionWords] = 1;
    this.failedObjects++;
    if (this.top === this.stack.length) this.growStack();
    this.stack[this.top++] = obj;
    return obj;
  }

  /**
   * Publishes a destination region's top and live words (everything copied
   * is live). Written once per region, not per copy: the regions of the two
   * threads sit side by side in these arrays, and per-copy writes would
   * bounce the shared cache line between the cores.
   */
  private retire(r: number, top: number): void {
    if (r < 0) return;
    this.regionTop[r] = top;
    this.liveWords[r] = top - (r === 0 ? RESERVED_WORDS : r << this.logRegionWords);
  }

  private retireDestinations(): void {
    this.retire(this.survivorRegion, this.survivorTop);
    this.retire(this.oldRegion, this.oldTop);
    this.survivorRegion = this.oldRegion = -1;
  }

  /** A reference to humongous region r was found: it is no eager-reclaim candidate (any thread may clear it). */
  private clearCandidate(r: number): void {
    this.candidate[r] = 0;
    this.slotTarget[r] &= ~TARGET_CANDIDATE;
  }

  /**
   * A slot on `card` (in region `source`) points into tracked region
   * `target`, which must know. A survivor region made in this pause is in
   * the next pause's collection set, whose GC threads scan every dirty card:
   * the card is dirtied again (G1's "redirty cards" after evacuation), with a
   * byte store, on this thread, and queued for refinement after the pause;
   * the next pause scans it if refinement has not. Any other target
   * (a humongous object, an old candidate), or a slot in a region whose
   * evacuation failed (its cards are cleaned when it is retained), gets an
   * entry in its remembered set (the mutator thread adds them after the
   * copying).
   */
  private remember(target: number, card: number, source: number): void {
    if ((this.slotTarget[target] & TARGET_NEW_SURVIVOR) !== 0 && this.evacFailed[source] === 0) {
      if (this.cards[card] !== CARD_DIRTY) {
        this.cards[card] = CARD_DIRTY;
        if (this.cardsRedirtied === this.redirtied.length) this.redirtied = grow(this.redirtied);
        this.redirtied[this.cardsRedirtied++] = card;
      }
    } else {
      this.addPair(target, card);
    }
  }

  private addPair(target: number, card: number): void {
    const n = this.pairCount;
    if (n > 0 && this.pairs[n - 1] === card && this.pairs[n - 2] === target) return;
    if (n + 2 > this.pairs.length) this.pairs = grow(this.pairs);
    this.pairs[n] = target;
    this.pairs[n + 1] = card;
    this.pairCount = n + 2;
  }

  private growStack(): void {
    this.stack = grow(this.stack);
  }

  /** Tells the other threads that this one failed (they stop waiting for it). */
  abort(): void {
    Atomics.store(this.control, ABORT, 1);
  }

  /** This thread's results (views into its own arrays, valid until its next begin). */
  result(): ThreadResult {
    return {
      objectsCopied: this.objectsCopied,
      wordsCopied: this.wordsCopied,
      wordsPromoted: this.wordsPromoted,
      failedObjects: this.failedObjects,
      cardsScanned: this.cardsScanned,
      dirtyCardsTaken: this.dirtyCardsTaken,
      cardsRedirtied: this.cardsRedirtied,
      redirtied: this.redirtied.subarray(0, this.cardsRedirtied),
      slotsHandedOver: this.slotsHandedOver,
      cardScanMs: this.cardScanMs,
      copyMs: this.copyMs,
      ageWords: this.ageWords.slice(),
      claimed: this.claimed.subarray(0, this.claimedCount),
      pairs: this.pairs.subarray(0, this.pairCount),
      stackLen: this.stack.length,
    } as ThreadResult;
  }
}

/** Words 1-3 of a four-word object at `from` to `to` (the caller writes the header); small enough that V8 inlines it. */
function copyFourWordBody(words: Int32Array, from: number, to: number): void {
  const w1 = words[from + 1];
  const w2 = words[from + 2];
  const w3 = words[from + 3];
  words[to + 1] = w1;
  words[to + 2] = w2;
  words[to + 3] = w3;
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(a.length * 2);
  bigger.set(a);
  return bigger;
}
