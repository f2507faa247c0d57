/**
 * The evacuation pause with remembered sets: G1's young and mixed collection
 * (Detlefs et al. 2004; the REM/GEN elements of Zhao & Blackburn 2020). No
 * full-heap trace: the only roots of a pause are
 *
 *   1. the mutators' root slots,
 *   2. the cards of the collection-set regions' remembered sets, and
 *   3. the dirty cards not yet refined (the card table holds them all),
 *
 * (G1's "merge heap roots": the remembered cards are marked beside the dirty
 * ones, and the GC threads scan the card table once, each card once, a dirty
 * card with refinement's duty as well), and the closure is completed by
 * scanning every copied object. Every slot that pointed into the collection
 * set is updated as it is visited; slots of non-young objects that now point
 * into a tracked region of another region are remembered, so the remembered
 * cards stay complete across the pause: a card with a slot into a survivor
 * region made by this pause is dirtied again and queued (G1's "redirty
 * cards"; the next pause's collection set holds that survivor), any other
 * target gets a remembered-set entry.
 *
 * This file runs the pause on the mutator thread's side: it prepares the
 * shared pause state (evacuation-shared.ts: remembered-card marks, pool of
 * free regions for the copies, per-region flags), does the roots, runs its
 * EvacuationClosure (evacuation-closure.ts: the copying itself) beside the
 * evacuation worker's when the pause is parallel (evacuation-threads.ts), and
 * afterwards merges what the threads did: destination regions claimed,
 * remembered-set entries, cards dirtied again, counters, failed regions,
 * unused pool regions.
 *
 *   parallel:  gcThreads > 1, the worker is up, and the collection set holds
 *              at least parallelMinWords (a small pause is not worth the hand-off)
 *
 * Humongous objects whose remembered set is empty are eager-reclaim candidates;
 * any visited slot that points at one keeps it; the rest are freed at the end.
 */
import { heapBuffers } from '../../vm-core/concurrent/concurrent-marker.js';
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as sideMetadata from '../../vm-core/side-metadata.js';
import type { DirtyCardQueue } from './dirty-card-queue.js';
import { EvacuationClosure, type EvacuationHeapViews } from './evacuation-closure.js';
import {
  CARD_COUNT, CARD_NEXT, computeCardSources, computeSlotTargets, evacuationViews, type EvacuationShared, newEvacuationBuffers, POOL_COUNT, POOL_NEXT, SURVIVOR_MAX,
  TENURING, THREADS,
  type ThreadResult,
} from './evacuation-shared.js';
import { EvacuationWorker } from './evacuation-threads.js';
import { warmUpEvacuation } from './evacuation-warmup.js';
import type { RememberedSets } from './remembered-sets.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { LOG_CARD_WORDS, STATE_MASK, STATE_SELF_FORWARDED } = layout;
const { REGION_EDEN, REGION_HUMONGOUS_START, REGION_OLD, REGION_SURVIVOR } = regionTable;
const { CARD_CLEAN } = sideMetadata;

export interface EvacuationWork {
  objectsCopied: number;
  wordsCopied: number;
  wordsPromoted: number;
  failedObjects: number;
  failedRegions: number;
  cardsScanned: number;
  /** Dirty cards the threads took from the card table (the queued ones, and those dirtied again in the last pause). */
  dirtyCardsTaken: number;
  /** Cards dirtied again in this pause (slots into its new survivor regions): the next pause scans them. */
  cardsRedirtied: number;
  rootsUpdated: number;
  survivorRegions: number;
  humongousReclaimed: number;
  /** GC threads that copied in this pause (1 or 2). */
  threads: number;
  /** Objects the evacuation worker copied (0 in a serial pause). */
  workerObjectsCopied: number;
  slotsHandedOver: number;
  /** Thread time (summed over the threads) spent scanning cards, and copying. */
  cardScanThreadMs: number;
  copyThreadMs: number;
  /** Words copied into survivor regions by new age (the pause's age table). */
  survivorWordsByAge: Float64Array;
}

export interface EvacuationThreading {
  /** GC threads for evacuation pauses (ParallelGCThreads): 1 or 2. */
  gcThreads: number;
  /** A pause runs in parallel only when its collection set holds at least this many words. */
  parallelMinWords: number;
}


function heapViewsOf(heap: Heap): EvacuationHeapViews {
  return {
    words: heap.words,
    typeKind: heap.types.kind,
    typeRefs: heap.types.refs,
    typeSize: heap.types.sizeWords,
    elementWords: heap.types.elementWords,
    leafWords: heap.types.leafWords,
    slotShape: heap.types.slotShape,
    regionKind: heap.regions.kind,
    regionTop: heap.regions.top,
    liveWords: heap.regions.liveWords,
    evacFailed: heap.regions.evacFailed,
    humongousStart: heap.regions.humongousStart,
    cards: heap.meta.cards,
    blockOffsets: heap.meta.blockOffsets,
    refStarts: heap.meta.refStarts,
    refStartsKept: heap.regions.refStartsKept,
    logRegionWords: heap.logRegionWords,
  };
}

/**
 * HotSpot's adaptive tenuring (AgeTable::compute_tenuring_threshold): the
 * smallest age at which the survivors of that age and younger exceed the
 * desired survivor size (TargetSurvivorRatio, 50%, of the survivor capacity),
 * at most the maximum threshold. A young object goes to a survivor region
 * while its age (the pauses it has survived) is below the threshold, as in
 * G1ParScanThreadState: when survivors overflow the threshold drops to 1,
 * and eden's survivors still fill the survivor space (the rest is promoted)
 * and are promoted at their next survival.
 */
export function adaptiveTenuringThreshold(wordsByAge: Float64Array, survivorCapacityWords: number, maxThreshold: number): number {
  const desired = survivorCapacityWords * TARGET_SURVIVOR_RATIO / 100;
  let total = 0;
  let age = 1;
  while (age < wordsByAge.length) {
    total += wordsByAge[age];
    if (total > desired) break;
    age++;
  }
  return Math.min(age, maxThreshold);
}

/** TargetSurvivorRatio: the share of the survivor space adaptive tenuring aims to fill. */
export const TARGET_SURVIVOR_RATIO = 50;

/** Heaps from this size on warm the mutator thread's copying code up when the collector is created (~30 ms, once per process). */
const WARM_UP_MIN_HEAP_BYTES = 64 << 20;
let mainThreadWarm = false;

/** How long a collector of a large heap waits at its creation for the evacuation worker to start and warm up (once per process). */
const WORKER_START_WAIT_MS = 5_000;

export class RemsetEvacuation {
  private readonly shared: EvacuationShared;
  private readonly closure: EvacuationClosure;
  private readonly failed: number[] = [];
  private parallel = false;
  private workerSeq = 0;
  work: EvacuationWork = RemsetEvacuation.emptyWork();

  constructor(
    private readonly heap: Heap,
    private readonly remsets: RememberedSets,
    /** Called for every region claimed as a survivor or old destination (the collector tracks survivors). */
    private readonly onDestinationClaimed: (region: number, kind: number) => void,
    private readonly threading: EvacuationThreading = { gcThreads: 1, parallelMinWords: 0 },
  ) {
    this.shared = evacuationViews(newEvacuationBuffers(heap.heapWords >> LOG_CARD_WORDS, heap.regionCount));
    this.closure = new EvacuationClosure(heapViewsOf(heap), this.shared);
    // spawn the worker now (~40 ms, then its JIT warm-up) so that the first pause can use it, and
    // (once per process, for heaps worth it) optimize this thread's copying loops before the first
    // pause while the worker warms up beside it. For such heaps the run then waits for the worker,
    // as a JVM starts its GC threads before main: otherwise the first pauses would run alone or
    // beside a thread still compiling, and their times would depend on the start-up race.
    if (threading.gcThreads > 1) EvacuationWorker.get();
    if (heap.heapBytes >= WARM_UP_MIN_HEAP_BYTES) {
      if (!mainThreadWarm) {
        mainThreadWarm = true;
        warmUpEvacuation();
      }
      if (threading.gcThreads > 1) EvacuationWorker.get(WORKER_START_WAIT_MS);
    }
  }

  static emptyWork(): EvacuationWork {
    return { objectsCopied: 0, wordsCopied: 0, wordsPromoted: 0, failedObjects: 0, failedRegions: 0, cardsScanned: 0, dirtyCardsTaken: 0, cardsRedirtied: 0, rootsUpdated: 0, survivorRegions: 0, humongousReclaimed: 0, threads: 1, workerObjectsCopied: 0, slotsHandedOver: 0, cardScanThreadMs: 0, copyThreadMs: 0, survivorWordsByAge: new Float64Array(16) };
  }

  /**
   * Starts a pause: the collection set must already be flagged inCset in the
   * region table. Every free region goes into the pause's pool (the threads
   * claim copy destinations from it), resident ones first (see Heap:
   * residency); unused ones return in drain().
   */
  begin(tenuringThreshold: number, maxSurvivorRegions: number): void {
    this.work = RemsetEvacuation.emptyWork();
    this.failed.length = 0;
    const heap = this.heap;
    const regions = heap.regions;
    const { control, youngSource, humongousCandidate, pool } = this.shared;
    let csetWords = 0;
    for (let r = 0; r < heap.regionCount; r++) {
      const kind = regions.kind[r];
      youngSource[r] = kind === REGION_EDEN || kind === REGION_SURVIVOR ? 1 : 0;
      humongousCandidate[r] = kind === REGION_HUMONGOUS_START && this.remsets.isEmpty(r) ? 1 : 0;
      if (regions.inCset[r] !== 0) csetWords += regions.top[r] - regions.bottom(r);
    }
    computeSlotTargets(this.shared, regions.inCset, this.remsets.tracked, heap.regionCount);
    computeCardSources(this.shared, regions.kind, regions.inCset, heap.regionCount);
    const poolCount = heap.free.takeAllPreferring(pool, heap.resident, 1);
    control.fill(0);
    control[POOL_COUNT] = poolCount;
    control[SURVIVOR_MAX] = maxSurvivorRegions;
    control[TENURING] = tenuringThreshold;
    // (a worker still starting or warming up is not waited for: the pause runs on this thread)
    const worker = this.threading.gcThreads > 1 && csetWords >= this.threading.parallelMinWords ? EvacuationWorker.get() : null;
    if (worker !== null) worker.attach(this, heapBuffers(heap), this.shared.buffers);
    this.parallel = worker !== null;
    control[THREADS] = this.parallel ? 2 : 1;
    this.work.threads = this.parallel ? 2 : 1;
    this.closure.begin(this.parallel, 0);
  }

  // ---- roots ----------------------------------------------------------------------

  evacuateRoots(mutators: readonly Mutator[]): void {
    let updated = 0;
    for (const m of mutators) updated += this.closure.evacuateRoots(m.roots, m.sp);
    this.work.rootsUpdated += updated;
  }

  // ---- remembered and dirty cards ----------------------------------------------------

  /**
   * Marks the cards of the collection set's remembered sets that lie in card
   * source regions (cardVisited 1; begin must have run); returns how many distinct
   * cards. The dirty cards need no gathering: the card table holds every one
   * of them (the barrier dirties a card before it queues it), and the GC
   * threads take them from there (evacuation-closure.ts, scanCards).
   */
  gatherCards(cset: readonly number[]): number {
    const { cardVisited: visited, cardSource } = this.shared;
    const log = this.heap.logRegionWords - LOG_CARD_WORDS;
    let n = 0;
    let scratch: Int32Array = new Int32Array(256);
    for (const r of cset) {
      const got = this.remsets.collectCards(r, scratch);
      scratch = got.cards;
      for (let i = 0; i < got.count; i++) {
        const card = scratch[i];
        const source = card >> log;
        if (visited[card] !== 0 || cardSource[source] === 0) continue;
        visited[card] = 1;
        n++;
      }
    }
    return n;
  }

  /**
   * Scans the remembered and the dirty cards (G1's "merge heap roots" then
   * "scan heap roots": the queued dirty cards are not refined first, each is
   * scanned once, with refinement's duty as well); in a parallel pause the
   * worker starts here and claims card ranges beside this thread. The cards
   * are claimed in address order: neighbouring cards share pages and the
   * hardware prefetcher follows.
   */
  scanCards(): void {
    const control = this.shared.control;
    control[CARD_COUNT] = this.heap.meta.cards.length;
    control[CARD_NEXT] = 0;
    if (this.parallel) this.workerSeq = EvacuationWorker.get()?.start() ?? 0;
    if (this.parallel && this.workerSeq === 0) throw new Error('parallel evacuation: the worker became unavailable');
    try {
      this.closure.scanCards();
    } catch (e) {
      this.closure.abort(); // the worker stops waiting for this thread
      throw e;
    }
  }

  /**
   * Completes the closure (with the worker, until both are idle) and merges
   * the threads' results; the cards they dirtied again go on `refinementQueue`.
   */
  drain(refinementQueue: DirtyCardQueue): void {
    const closure = this.closure;
    try {
      closure.finish();
    } catch (e) {
      closure.abort();
      throw e;
    }
    const results = [closure.result()];
    if (this.parallel) {
      const worker = EvacuationWorker.get();
      if (worker === null) throw new Error('parallel evacuation: the worker failed during the pause');
      results.push(worker.finish(this.workerSeq));
      this.work.workerObjectsCopied = results[1].objectsCopied;
    }
    // every thread's destination regions first (survivors become tracked), then the remembered-set entries
    for (const result of results) this.mergeRegions(result);
    for (const result of results) {
      const pairs = result.pairs;
      for (let i = 0; i < pairs.length; i += 2) this.remsets.add(pairs[i], pairs[i + 1]);
      refinementQueue.push(result.redirtied, result.redirtied.length);
    }
    const { control, pool } = this.shared;
    const heap = this.heap;
    // unused pool regions go back to the free list
    for (let i = Math.min(control[POOL_NEXT], control[POOL_COUNT]); i < control[POOL_COUNT]; i++) heap.free.add(pool[i]);
    for (let r = 0; r < heap.regionCount; r++) {
      if (heap.regions.evacFailed[r] !== 0 && heap.regions.inCset[r] !== 0) this.failed.push(r);
    }
  }

  /** One thread's counters and destination regions (which become the collector's). */
  private mergeRegions(result: ThreadResult): void {
    const work = this.work;
    work.objectsCopied += result.objectsCopied;
    work.wordsCopied += result.wordsCopied;
    work.wordsPromoted += result.wordsPromoted;
    work.failedObjects += result.failedObjects;
    work.cardsScanned += result.cardsScanned;
    work.dirtyCardsTaken += result.dirtyCardsTaken;
    work.cardsRedirtied += result.cardsRedirtied;
    work.slotsHandedOver += result.slotsHandedOver;
    work.cardScanThreadMs += result.cardScanMs;
    work.copyThreadMs += result.copyMs;
    for (let age = 0; age < 16; age++) work.survivorWordsByAge[age] += result.ageWords[age];
    const claimed = result.claimed;
    for (let i = 0; i < claimed.length; i += 2) {
      const r = claimed[i];
      const kind = claimed[i + 1];
      if (kind === REGION_SURVIVOR) work.survivorRegions++;
      this.heap.noteResident(r);
      this.onDestinationClaimed(r, kind);
    }
  }

  /** Accounts the copied words to the heap (call once, after drain). */
  finishCopying(): void {
    this.heap.accountedWords += this.work.wordsCopied;
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
      if (this.shared.humongousCandidate[r] !== 0 && heap.regions.kind[r] === REGION_HUMONGOUS_START) {
        this.shared.humongousCandidate[r] = 0;
        release(r);
        this.work.humongousReclaimed++;
      }
    }
  }
}
