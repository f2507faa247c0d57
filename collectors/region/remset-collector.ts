/**
 * The remembered-set members of the region family (Zhao & Blackburn 2020):
 *
 *   REM   region evacuation without a full-heap trace per pause: every pause
 *         collects the regions allocated since the last one plus, after a
 *         marking, the best old candidates, finding pointers into them through
 *         remembered sets; copies go straight to old regions.
 *   GEN   + a young generation: eden and survivor regions, objects age and are
 *         promoted at the tenuring threshold.
 *   G1    + a pause-time goal: eden length and old regions per mixed pause are
 *         chosen by a predictor (g1-analytics.ts, g1-policy.ts).
 *
 * Phases of an evacuation pause (young-evacuation.ts):
 *   merge-remsets   the collection set's remembered cards are marked beside the
 *                   dirty ones of the card table (the queue of dirty cards is dropped:
 *                   the card table holds every one)
 *   roots           root slots into the collection set are evacuated
 *   remset-scan     remembered and dirty cards are scanned (a dirty one also refined),
 *                   their slots evacuated and updated
 *   copy            copied objects are scanned until the closure is complete
 *   other           failed regions retained, regions freed, humongous reclaimed
 *
 * Marking starts when old and humongous occupancy pass `ihopPercent`
 * (InitiatingHeapOccupancyPercent). Stop-the-world (marking-cycle.ts; rem, gen,
 * cre / g1 with concurrentMark off): a remark pause marks, a cleanup pause
 * frees, scrubs, picks candidates and rebuilds their remembered sets.
 * Concurrent (cre, g1; concurrent-marking.ts): a young pause starts the cycle,
 * a worker thread marks while the mutator runs and young pauses go on, a
 * remark pause finishes the marking and picks the candidates, the worker
 * rebuilds their remembered sets and scrubs while the mutator runs, and a
 * short cleanup pause frees. Mixed pauses follow while the candidates hold
 * more than `heapWastePercent` of reclaimable space.
 * When a pause cannot make room, the last-ditch collection compacts the whole
 * heap (vm-core/compactor.ts).
 */
import type { Collector, OptionValue } from '../../vm-core/collector.js';
import { Compactor } from '../../vm-core/compactor.js';
import { EV_CONCURRENT_END, EV_CONCURRENT_START, EV_EVACUATED, EV_HEAP_TRACED, EV_PREPARE, EV_ROOTS_TRACED } from '../../vm-core/events.js';
import * as layout from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import { DEFAULT_TLAB_WORDS, RegionAllocator } from '../../vm-core/region-allocator.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as sideMetadata from '../../vm-core/side-metadata.js';
import { markFromRoots } from '../../vm-core/stw-marking.js';
import { Tracer } from '../../vm-core/tracer.js';
import type { Vm } from '../../vm-core/vm.js';
import { CardScanner } from './card-scanner.js';
import { ConcurrentMarking } from './concurrent-marking.js';
import { DirtyCardQueue } from './dirty-card-queue.js';
import { G1Analytics } from './g1-analytics.js';
import { G1Policy } from './g1-policy.js';
import {
  humongousDead, liveWordsAfterMarking, rebuildRememberedSets, recordTopAtMarkStart, scrubRegion,
} from './marking-cycle.js';
import { createRememberedSets, type RememberedSets, type RemsetRepresentation } from './remembered-sets.js';
import { checkRemsetCompleteness } from './remset-completeness.js';
import { adaptiveTenuringThreshold, RemsetEvacuation } from './young-evacuation.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { LOG_CARD_WORDS, WORD_BYTES } = layout;
const { REGION_EDEN, REGION_FREE, REGION_HUMONGOUS_START, REGION_OLD, REGION_SURVIVOR } = regionTable;
const { CARD_CLEAN, CARD_YOUNG } = sideMetadata;

export interface RemsetCollectorOptions {
  generational: boolean;
  remsetRepresentation: RemsetRepresentation;
  /** 0: no pause-time goal (eden is budgetPercent of the heap). */
  pauseGoalMs: number;
  confidencePercent: number;
  budgetPercent: number;
  minEdenPercent: number;
  maxEdenPercent: number;
  reservePercent: number;
  tenuringThreshold: number;
  survivorRatio: number;
  ihopPercent: number;
  liveThresholdPercent: number;
  heapWastePercent: number;
  mixedCountTarget: number;
  oldCsetRegionThresholdPercent: number;
  refinementThresholdCards: number;
  tlabWords: number;
  /** GC threads of evacuation pauses (1 or 2). */
  gcThreads: number;
  /** Parallel only when the collection set holds at least this many KiB. */
  parallelMinKb: number;
  /** Mark concurrently on the worker thread (needs the SATB pre-write barrier); false: stop-the-world. */
  concurrentMark: boolean;
  /** Tests: the marker worker rests this many µs after every few objects (0: full speed). */
  markerPaceUs: number;
}

/**
 * Evacuation pauses at the start of a run whose costs the G1 predictor does
 * not learn from: they run JIT-cold code (measured: 3-30x the steady cost per
 * card), and a decaying average with alpha 0.3 would carry that for a dozen
 * pauses. Pauses that failed evacuation are skipped too, as HotSpot does.
 */
const ANALYTICS_WARMUP_PAUSES = 2;

/**
 *   young-only       young pauses; the IHOP test after each
 *   concurrent-mark  the worker marks (remark once it is idle), then rebuilds and scrubs (cleanup once
 *                    it is idle); young pauses go on; the worker yields during every pause
 *   remark-pending   stop-the-world marking is due (the next pause marks)
 *   cleanup-pending  marking done; the next pause is cleanup
 *   mixed            mixed pauses take old candidates
 */
type Phase = 'young-only' | 'concurrent-mark' | 'remark-pending' | 'cleanup-pending' | 'mixed';

export class RemsetCollector implements Collector {
  private readonly allocator: RegionAllocator;
  readonly remsets: RememberedSets;
  private readonly queue = new DirtyCardQueue();
  private readonly scanner: CardScanner;
  private readonly evacuation: RemsetEvacuation;
  private readonly tracer: Tracer;
  private readonly compactor: Compactor;
  private readonly analytics: G1Analytics | null;
  private readonly policy: G1Policy | null;
  /** Concurrent marking (null: marking is stop-the-world). */
  private readonly marking: ConcurrentMarking | null;
  private phase: Phase = 'young-only';
  /** Old regions chosen at the last cleanup, best first; consumed by mixed pauses. */
  private candidates: number[] = [];
  private candidatesAtCycleStart = 0;
  /** Old regions a concurrent marking found empty, freed by the cleanup after the rebuild. */
  private rebuildEmpty: number[] = [];
  private edenTargetRegions: number;
  /** Young and mixed pauses so far (the first ANALYTICS_WARMUP_PAUSES teach the predictor nothing). */
  private evacuationPauses = 0;
  /** The tenuring threshold of the next pause (adaptive, at most options.tenuringThreshold). */
  private tenuringThreshold: number;
  private edenRegions: number[] = [];
  private survivorRegions: number[] = [];
  private readonly cardsPerRegionLog: number;
  /**
   * Queued dirty cards beyond which the mutator refines some itself (there are
   * no refinement threads). Large by default: a card refined early is often
   * dirtied again, and the pause scans a queued card just once anyway.
   */
  private readonly refinementThreshold: number;

  constructor(private readonly vm: Vm, private readonly options: RemsetCollectorOptions) {
    const heap = vm.heap;
    this.cardsPerRegionLog = heap.logRegionWords - LOG_CARD_WORDS;
    this.refinementThreshold = options.refinementThresholdCards > 0
      ? options.refinementThresholdCards
      : Math.max(1024, (heap.heapWords >> LOG_CARD_WORDS) >> 3);
    this.remsets = createRememberedSets(options.remsetRepresentation, heap);
    this.scanner = new CardScanner(heap, this.remsets);
    this.allocator = new RegionAllocator(heap, REGION_EDEN, options.tlabWords, (r) => this.startYoungRegion(r, REGION_EDEN));
    this.evacuation = new RemsetEvacuation(heap, this.remsets, (r, kind) => {
      if (kind === REGION_SURVIVOR) this.startYoungRegion(r, REGION_SURVIVOR);
    }, { gcThreads: options.gcThreads, parallelMinWords: (options.parallelMinKb * 1024) / WORD_BYTES });
    this.tracer = new Tracer(heap);
    this.compactor = new Compactor(heap);
    if (options.pauseGoalMs > 0) {
      this.analytics = new G1Analytics(options.confidencePercent);
      this.policy = new G1Policy({
        pauseGoalMs: options.pauseGoalMs,
        heapRegions: heap.regionCount,
        regionBytes: heap.regionWords * WORD_BYTES,
        minEdenPercent: options.minEdenPercent,
        maxEdenPercent: options.maxEdenPercent,
        mixedCountTarget: options.mixedCountTarget,
        oldCsetRegionThresholdPercent: options.oldCsetRegionThresholdPercent,
        heapWastePercent: options.heapWastePercent,
        reservePercent: options.reservePercent,
      }, this.analytics);
    } else {
      this.analytics = null;
      this.policy = null;
    }
    this.edenTargetRegions = this.defaultEdenRegions();
    this.tenuringThreshold = options.tenuringThreshold;
    this.marking = options.concurrentMark ? new ConcurrentMarking(heap, options.markerPaceUs) : null;
    if (this.marking) vm.events.subscribe(this.marking.pauseListener()); // the worker resumes with the mutators
  }

  // ---- allocation ---------------------------------------------------------------------

  private startYoungRegion(r: number, kind: number): void {
    this.remsets.track(r);
    this.setCards(r, CARD_YOUNG);
    if (kind === REGION_EDEN) this.edenRegions.push(r);
    else this.survivorRegions.push(r);
  }

  private setCards(r: number, value: number): void {
    this.vm.heap.meta.cards.fill(value, r << this.cardsPerRegionLog, (r + 1) << this.cardsPerRegionLog);
  }

  refillTlab(m: Mutator, minWords: number): boolean {
    return this.allocator.refill(m, minWords);
  }

  allocHumongous(words: number): number {
    const obj = this.allocator.allocHumongous(words);
    if (obj !== 0) this.remsets.track(obj >> this.vm.heap.logRegionWords);
    return obj;
  }

  retireTlab(m: Mutator): void {
    this.allocator.retire(m);
    // the mutators stop (a pause or a verification): a concurrent cycle's worker yields until they run again
    this.marking?.suspend();
  }

  usedWords(): number {
    return this.vm.heap.accountedWords;
  }

  get allocatedWords(): number {
    return this.allocator.totalAllocatedWords;
  }

  collectionRequired(): boolean {
    if (this.phase === 'remark-pending' || this.phase === 'cleanup-pending') return true;
    if (this.phase === 'concurrent-mark') {
      const marking = this.marking!;
      if (marking.lost) this.discardCycle('concurrentCyclesPreempted');
      else {
        marking.drainRebuild(this.remsets); // the rebuild's pairs go into the remembered sets here, on the mutator thread
        if (marking.idle) { this.endConcurrentMark(); return true; }
        if (this.edenRegions.length < this.edenTargetRegions) marking.resume(); // the mutators run: so does the worker
      }
    }
    return this.edenRegions.length >= this.edenTargetRegions;
  }

  // ---- refinement -----------------------------------------------------------------------

  onDirtyCards(cards: Int32Array, n: number): void {
    this.queue.push(cards, n);
    if (this.events.inPause) return;
    if (this.queue.length > this.refinementThreshold) {
      const t0 = performance.now();
      this.marking?.suspendForHeapWalk(); // refinement parses old regions a rebuilding worker scrubs
      this.scanner.cardsRefined = 0;
      const refined = this.scanner.refine(this.queue, this.queue.length - (this.refinementThreshold >> 1));
      this.events.count('cardsRefinedByMutator', refined);
      this.events.count('mutatorRefinementMs', performance.now() - t0);
    }
  }

  onSatbBuffer(refs: Int32Array, n: number): void {
    if (this.phase === 'concurrent-mark') this.marking!.enqueueSatb(refs, n);
  }

  private get events() {
    return this.vm.events;
  }

  checkInvariants(when: string, problems: string[]): void {
    // (during a concurrent rebuild the sets being rebuilt are left out until cleanup)
    if (when.startsWith('before')) checkRemsetCompleteness(this.vm.heap, this.marking ? this.marking.remsetsToVerify(this.remsets) : this.remsets, problems);
    // the SATB invariant after a concurrent remark (and the snapshot it is checked against)
    else if (this.marking) this.marking.verifyAfterPause(this.vm.mutators, problems);
  }

  // ---- pauses -----------------------------------------------------------------------------

  /**
   * Hook for subclasses, once per evacuation pause: the collection set is
   * flagged (inCset) and the evacuation has not begun. gcpersist's persist
   * pass runs here (collectors/gcpersist/persist-pass.ts); no-op otherwise.
   */
  protected beforeEvacuation(): void {}

  collect(cause: string): void {
    if (this.phase === 'concurrent-mark' && this.marking!.lost) this.discardCycle('concurrentCyclesPreempted');
    if (cause === 'last-ditch') this.fullCollection();
    // remark when the worker is done marking, unless the pause must free memory now (then a young pause);
    // cleanup (it frees the empty regions) when it is done rebuilding
    else if (this.phase === 'concurrent-mark' && this.marking!.idle && (this.marking!.rebuilding || cause !== 'allocation-failure')) {
      if (this.marking!.rebuilding) this.concurrentCleanupPause();
      else this.concurrentRemarkPause();
    }
    else if (this.phase === 'remark-pending') this.remarkPause();
    else if (this.phase === 'cleanup-pending') this.cleanupPause();
    else this.evacuationPause();
  }

  private evacuationPause(): void {
    const vm = this.vm;
    const heap = vm.heap;
    const events = this.events;
    const regions = heap.regions;
    const t0 = performance.now();
    const mixed = this.phase === 'mixed' && this.candidates.length > 0;
    events.emit(EV_PREPARE, { kind: mixed ? 'mixed' : 'young' });
    this.allocator.retireRegion();

    // the collection set: every young region, plus old candidates in a mixed pause
    const cset = [...this.edenRegions, ...this.survivorRegions];
    const edenCount = this.edenRegions.length;
    const youngBytes = this.youngUsedWords() * WORD_BYTES;
    let predictedMs = 0;
    if (this.analytics) {
      predictedMs = this.analytics.predictYoungPauseMs({
        edenBytes: edenCount * heap.regionWords * WORD_BYTES,
        survivorBytes: this.survivorRegions.length * heap.regionWords * WORD_BYTES,
        pendingCards: this.queue.length,
        // the young regions' remembered cards mostly repeat cards still queued dirty: count the rest only
        youngRemsetEntries: Math.max(0, cset.reduce((sum, r) => sum + this.remsets.entryCount(r), 0) - this.queue.length),
      });
    }
    let oldTaken = 0;
    if (mixed) {
      oldTaken = this.oldRegionsForMixed(predictedMs);
      for (let i = 0; i < oldTaken; i++) {
        const r = this.candidates[i];
        if (this.analytics) predictedMs += this.analytics.predictOldRegionMs({ liveBytes: regions.liveWords[r] * WORD_BYTES, remsetEntries: this.remsets.entryCount(r) });
        cset.push(r);
      }
      this.candidates = this.candidates.slice(oldTaken);
    }
    for (const r of cset) regions.inCset[r] = 1;
    this.beforeEvacuation();
    events.count('regionsInCset', cset.length);
    events.count('edenRegions', edenCount);
    events.count('oldRegionsInCset', oldTaken);
    if (this.policy) {
      events.count('predictedPauseMs', predictedMs);
      events.count('pauseGoalMs', this.options.pauseGoalMs);
    }

    // merge the collection set's remembered sets with the dirty cards (in the card table)
    const tRefine = performance.now();
    const evacuation = this.evacuation;
    const survivorLimit = Math.max(1, Math.ceil(this.edenTargetRegions / this.options.survivorRatio));
    evacuation.begin(this.options.generational ? this.tenuringThreshold : 0, this.options.generational ? survivorLimit : 0);
    const remsetEntries = cset.reduce((sum, r) => sum + this.remsets.entryCount(r), 0);
    const remembered = evacuation.gatherCards(cset);
    // the queued dirty cards are all dirty in the card table too: the GC threads take them from there
    this.queue.clear();
    events.count('remsetEntries', remsetEntries);
    events.phaseEnd('merge-remsets');
    const tMerged = performance.now();

    // roots, remembered cards, closure
    evacuation.evacuateRoots(vm.mutators);
    events.emit(EV_ROOTS_TRACED);
    events.phaseEnd('roots');
    evacuation.scanCards();
    events.phaseEnd('remset-scan');
    evacuation.drain(this.queue);
    evacuation.finishCopying();
    events.emit(EV_HEAP_TRACED);
    events.phaseEnd('copy');
    const tCopied = performance.now();

    // retain failed regions, free the rest of the collection set, reclaim humongous
    const failed = new Set(evacuation.failedRegions);
    for (const r of cset) {
      if (failed.has(r)) {
        evacuation.retainFailedRegion(r);
        this.remsets.untrack(r);
      } else {
        this.freeRegion(r);
      }
    }
    // no eager reclaim while the worker may be reading humongous objects (and nothing below TAMS is freed)
    if (this.phase !== 'concurrent-mark') evacuation.reclaimHumongous((first) => this.freeHumongous(first));
    this.edenRegions = [];
    this.survivorRegions = this.survivorRegions.filter((r) => regions.kind[r] === REGION_SURVIVOR && regions.inCset[r] === 0);
    const work = evacuation.work;
    events.phaseEnd('other');
    events.count('cardsScanned', work.cardsScanned);
    events.count('cardsRefinedInPause', work.dirtyCardsTaken);
    events.count('cardsRedirtied', work.cardsRedirtied);
    events.count('objectsCopied', work.objectsCopied);
    events.count('gcThreads', work.threads);
    if (work.threads > 1) {
      events.count('objectsCopiedByWorker', work.workerObjectsCopied);
      events.count('slotsHandedOver', work.slotsHandedOver);
    }
    events.count('cardScanThreadMs', work.cardScanThreadMs);
    events.count('copyThreadMs', work.copyThreadMs);
    events.count('bytesCopied', work.wordsCopied * WORD_BYTES);
    events.count('bytesPromoted', work.wordsPromoted * WORD_BYTES);
    events.count('survivorRegions', this.survivorRegions.length);
    if (this.options.generational) {
      events.count('tenuringThreshold', this.tenuringThreshold);
      this.tenuringThreshold = adaptiveTenuringThreshold(work.survivorWordsByAge, survivorLimit * heap.regionWords, this.options.tenuringThreshold);
    }
    events.count('humongousReclaimed', work.humongousReclaimed);
    events.count('remsetBytes', this.remsets.committedBytes());
    if (work.failedObjects > 0) {
      events.reclassify('evacuation-failure');
      events.count('evacuationFailedObjects', work.failedObjects);
      events.count('evacuationFailedRegions', work.failedRegions);
    }
    events.emit(EV_EVACUATED);

    const pauseMs = performance.now() - t0;
    // pauses with evacuation failure are skewed: HotSpot keeps them out of its predictions too
    this.evacuationPauses++;
    if (this.analytics && work.failedObjects === 0 && this.evacuationPauses > ANALYTICS_WARMUP_PAUSES) {
      // Card scanning and copying interleave on every GC thread; each thread timed its card
      // scanning apart from its copying (as HotSpot's per-worker Scan Heap Roots / Object Copy),
      // and the wall time of the evacuation is split between the two costs in that proportion.
      const evacuationMs = tCopied - tMerged;
      const threadMs = work.cardScanThreadMs + work.copyThreadMs;
      const cardScanMs = threadMs > 0 ? (evacuationMs * work.cardScanThreadMs) / threadMs : 0;
      this.analytics.recordPause({
        kind: mixed ? 'mixed' : 'young',
        pauseMs,
        fixedMs: Math.max(0, pauseMs - evacuationMs - (tMerged - tRefine)),
        cardsScanned: work.cardsScanned,
        cardScanMs,
        remsetEntries: remembered,
        remsetMergeMs: tMerged - tRefine,
        bytesCopied: work.wordsCopied * WORD_BYTES,
        copyMs: evacuationMs - cardScanMs,
        edenRegions: edenCount,
        oldRegions: oldTaken,
      });
      this.analytics.recordCardsScanned(work.cardsScanned, edenCount);
      if (youngBytes > 0) this.analytics.recordEdenSurvival(youngBytes, work.wordsCopied * WORD_BYTES);
    }
    if (mixed && !this.continueMixed()) this.endMixedPhase();
    this.afterPause(!mixed);
  }

  private oldRegionsForMixed(youngPredictedMs: number): number {
    const heap = this.vm.heap;
    const regions = heap.regions;
    if (this.policy) {
      return this.policy.oldRegionsForMixed({
        remainingGoalMs: Math.max(0, this.options.pauseGoalMs - youngPredictedMs),
        candidates: this.candidates.map((r) => ({ liveBytes: regions.liveWords[r] * WORD_BYTES, remsetEntries: this.remsets.entryCount(r) })),
        candidatesAtCycleStart: this.candidatesAtCycleStart,
      });
    }
    const min = Math.ceil(this.candidatesAtCycleStart / this.options.mixedCountTarget);
    const max = Math.max(1, Math.floor((heap.regionCount * this.options.oldCsetRegionThresholdPercent) / 100));
    return Math.min(this.candidates.length, Math.max(1, Math.min(min, max)));
  }

  private continueMixed(): boolean {
    const heap = this.vm.heap;
    const reclaimable = this.candidates.reduce((sum, r) => sum + (heap.regionWords - heap.regions.liveWords[r]), 0) * WORD_BYTES;
    if (this.candidates.length === 0) return false;
    if (this.policy) return this.policy.continueMixed(reclaimable, heap.heapBytes);
    return reclaimable * 100 > heap.heapBytes * this.options.heapWastePercent;
  }

  private endMixedPhase(): void {
    for (const r of this.candidates) this.remsets.untrack(r);
    this.candidates = [];
    this.phase = 'young-only';
  }

  /** Decides what the next pause is and how large eden may grow; a young pause may start a concurrent cycle. */
  private afterPause(youngPause: boolean): void {
    const heap = this.vm.heap;
    if (this.phase === 'young-only' && this.oldOccupancyWords() * 100 > heap.heapWords * this.options.ihopPercent) {
      if (this.marking === null) this.phase = 'remark-pending';
      else if (youngPause) this.concurrentStart();
      // after a full collection the next young pause starts the cycle
    }
    if (this.policy) {
      const target = this.policy.youngTargetRegions({
        freeRegions: heap.free.length,
        survivorBytes: this.survivorRegions.length * heap.regionWords * WORD_BYTES,
        pendingCards: this.queue.length,
        youngRemsetEntriesPerRegion: 0,
        cardsPerEdenRegion: this.analytics!.predictCardsPerEdenRegion(),
      });
      this.edenTargetRegions = Math.max(1, target);
    } else {
      this.edenTargetRegions = this.defaultEdenRegions();
    }
    this.allocator.resetBudget();
  }

  private defaultEdenRegions(): number {
    const heap = this.vm.heap;
    // generational: the young generation (eden + survivors) is budgetPercent of the heap, as G1NewSizePercent
    const survivors = this.options.generational ? this.survivorRegions.length : 0;
    const budget = Math.max(1, Math.floor((heap.regionCount * this.options.budgetPercent) / 100) - survivors);
    const reserve = Math.ceil((heap.regionCount * this.options.reservePercent) / 100);
    return Math.max(1, Math.min(budget, heap.free.length - reserve - this.survivorRegions.length));
  }

  private oldOccupancyWords(): number {
    const regions = this.vm.heap.regions;
    let words = 0;
    for (let r = 0; r < this.vm.heap.regionCount; r++) {
      const kind = regions.kind[r];
      if (kind === REGION_OLD || regions.isHumongous(r)) words += regions.usedWords(r);
    }
    return words;
  }

  private youngUsedWords(): number {
    let words = 0;
    for (const r of this.edenRegions) words += this.vm.heap.regions.usedWords(r);
    return words;
  }

  /** A region leaves the heap's use: no remembered set, clean cards, back on the free list. */
  private freeRegion(r: number): void {
    this.remsets.untrack(r);
    this.setCards(r, CARD_CLEAN);
    this.vm.heap.releaseRegion(r);
  }

  private freeHumongous(first: number): void {
    const n = this.vm.heap.humongousRegionCount(first);
    for (let k = n - 1; k >= 0; k--) this.freeRegion(first + k);
  }

  // ---- concurrent marking (concurrent-marking.ts) ----------------------------------------------

  /** At the end of a young pause: start the concurrent cycle, or mark stop-the-world if the worker is not ready. */
  private concurrentStart(): void {
    const events = this.events;
    if (!this.marking!.begin(this.vm.mutators, this.survivorRegions)) {
      events.count('concurrentMarkFallbacks', 1);
      this.phase = 'remark-pending';
      return;
    }
    this.phase = 'concurrent-mark';
    events.phaseEnd('concurrent-start');
    events.count('concurrentStart', 1);
    events.concurrent(EV_CONCURRENT_START, 'mark');
  }

  /** Ends the open concurrent phase ('mark', or 'rebuild' after remark) once: the worker is done or the cycle discarded. */
  private endConcurrentMark(): void {
    const marking = this.marking!;
    if (marking.markEnded) return;
    marking.markEnded = true;
    this.events.concurrent(EV_CONCURRENT_END, marking.rebuilding ? 'rebuild' : 'mark');
  }

  /** Discards the active cycle (a full collection, or another heap took the marker): nothing is freed on its marks. */
  private discardCycle(counter: string): void {
    this.endConcurrentMark();
    this.marking!.abort(this.vm.mutators);
    // a discarded rebuild leaves its targets' remembered sets incomplete: they are no candidates
    for (const r of this.marking!.takeRebuildTargets()) if (this.vm.heap.regions.kind[r] === REGION_OLD) this.remsets.untrack(r);
    this.rebuildEmpty = [];
    this.events.count(counter, 1);
    this.phase = 'young-only';
  }

  /** Remark after concurrent marking: finish the closure here, SATB off, check the SATB invariant. */
  private concurrentRemarkPause(): void {
    const vm = this.vm;
    const heap = vm.heap;
    const regions = heap.regions;
    const events = this.events;
    this.endConcurrentMark();
    events.emit(EV_PREPARE, { kind: 'remark' });
    this.allocator.retireRegion();
    const marking = this.marking!;
    const result = marking.remark(vm.mutators);
    events.emit(EV_ROOTS_TRACED);
    events.emit(EV_HEAP_TRACED);
    events.phaseEnd('remark');
    // the marker counted nothing in regions with TAMS = bottom (young, or claimed during the cycle):
    // their live words are all of top - TAMS at cleanup, as with stop-the-world marking
    for (let r = 0; r < heap.regionCount; r++) if (regions.tams[r] <= regions.bottom(r)) regions.liveWords[r] = 0;
    events.count('objectsMarked', result.objectsMarked);
    events.count('bytesMarked', result.wordsMarked * WORD_BYTES);
    events.count('workerObjectsMarked', result.workerObjectsMarked);
    events.count('concurrentMarkMs', result.concurrentMs);
    events.count('workerBusyMs', result.workerBusyMs);
    events.count('satbEntries', result.satbEntries);
    events.count('satbEntriesWhileMarking', result.satbEntriesWhileMarking);
    events.count('workerSatbEntries', result.workerSatbEntries);
    events.count('satbObjectsMarked', result.satbObjectsMarked);
    events.count('concurrentCyclesCompleted', 1);

    // the candidates, chosen now; their remembered sets are tracked from here on and rebuilt by the
    // worker, which also scrubs, while the mutator runs (concurrent phase 'rebuild'); cleanup follows it
    const threshold = Math.floor((heap.regionWords * this.options.liveThresholdPercent) / 100);
    const clear: number[] = [];
    const walk: number[] = [];
    const candidates: number[] = [];
    this.rebuildEmpty = [];
    for (let r = 0; r < heap.regionCount; r++) {
      const kind = regions.kind[r];
      if (kind === REGION_HUMONGOUS_START) {
        if (humongousDead(heap, r)) clear.push(r);
        else walk.push(r);
        continue;
      }
      if (kind !== REGION_OLD) continue;
      if (regions.tams[r] > regions.bottom(r)) clear.push(r);
      const live = liveWordsAfterMarking(heap, r);
      if (live === 0) { this.rebuildEmpty.push(r); continue; }
      regions.liveWords[r] = live;
      walk.push(r);
      if (live < threshold) candidates.push(r);
    }
    const chosen = this.chooseCandidates(candidates);
    for (const r of chosen) this.remsets.track(r);
    marking.startRebuild(clear, walk, chosen);
    marking.markEnded = false;
    events.phaseEnd('select');
    events.concurrent(EV_CONCURRENT_START, 'rebuild');
    this.allocator.resetBudget();
  }

  /** Cleanup after the concurrent rebuild: its last pairs, free what marking found empty or dead, candidates to mixed pauses. */
  private concurrentCleanupPause(): void {
    const heap = this.vm.heap;
    const regions = heap.regions;
    const events = this.events;
    this.endConcurrentMark();
    events.emit(EV_PREPARE, { kind: 'cleanup' });
    this.allocator.retireRegion();
    const marking = this.marking!;
    const candidates = marking.takeRebuildTargets();
    const rebuilt = marking.finishRebuild(this.vm.mutators, this.remsets);
    events.phaseEnd('rebuild-remsets');
    let freed = 0;
    let humongousFreed = 0;
    for (const r of this.rebuildEmpty) if (regions.kind[r] === REGION_OLD) { this.freeRegion(r); freed++; }
    this.rebuildEmpty = [];
    for (let r = 0; r < heap.regionCount; r++) {
      if (regions.kind[r] === REGION_HUMONGOUS_START && humongousDead(heap, r)) { this.freeHumongous(r); humongousFreed++; }
    }
    events.phaseEnd('free');
    events.count('rebuildPairsInPause', rebuilt.finishedHere);
    events.count('concurrentRebuildMs', rebuilt.concurrentMs);
    events.count('workerRebuildMs', rebuilt.workerMs);
    this.endCleanup(candidates, freed, humongousFreed, rebuilt.scrubbedWords, rebuilt.pairs);
  }

  /** The end of a cleanup pause (stop-the-world or after a concurrent rebuild): mixed pauses follow while there are candidates. */
  private endCleanup(candidates: number[], freed: number, humongousFreed: number, scrubbedWords: number, remsetEntriesRebuilt: number): void {
    const events = this.events;
    this.candidates = candidates;
    this.candidatesAtCycleStart = candidates.length;
    this.phase = candidates.length > 0 ? 'mixed' : 'young-only';
    this.vm.heap.free.sortLowFirst();
    events.count('regionsReclaimedDead', freed);
    events.count('humongousReclaimed', humongousFreed);
    events.count('bytesScrubbed', scrubbedWords * WORD_BYTES);
    events.count('candidates', candidates.length);
    events.count('remsetEntriesRebuilt', remsetEntriesRebuilt);
    events.count('remsetBytes', this.remsets.committedBytes());
    events.emit(EV_EVACUATED);
    this.allocator.resetBudget();
  }

  /** The candidates worth collecting, most efficient first: the least efficient tail worth less than heapWastePercent goes. */
  private chooseCandidates(candidates: number[]): number[] {
    const heap = this.vm.heap;
    const regions = heap.regions;
    const efficiency = (r: number) => (heap.regionWords - regions.liveWords[r]) / (1 + regions.liveWords[r]);
    candidates.sort((a, b) => efficiency(b) - efficiency(a));
    let reclaimable = candidates.reduce((s, r) => s + heap.regionWords - regions.liveWords[r], 0);
    const waste = (heap.heapWords * this.options.heapWastePercent) / 100;
    while (candidates.length > 0 && reclaimable <= waste) {
      const r = candidates.pop()!;
      reclaimable -= heap.regionWords - regions.liveWords[r];
    }
    return candidates;
  }

  // ---- marking: remark and cleanup ------------------------------------------------------------

  private remarkPause(): void {
    const vm = this.vm;
    const events = this.events;
    events.emit(EV_PREPARE, { kind: 'remark' });
    this.allocator.retireRegion();
    markFromRoots(vm, this.tracer);
    recordTopAtMarkStart(vm.heap);
    this.phase = 'cleanup-pending';
    this.allocator.resetBudget();
  }

  private cleanupPause(): void {
    const heap = this.vm.heap;
    const regions = heap.regions;
    const events = this.events;
    events.emit(EV_PREPARE, { kind: 'cleanup' });
    this.allocator.retireRegion();
    let freed = 0;
    let humongousFreed = 0;
    let scrubbed = 0;
    const candidates: number[] = [];
    const threshold = Math.floor((heap.regionWords * this.options.liveThresholdPercent) / 100);
    for (let r = 0; r < heap.regionCount; r++) {
      const kind = regions.kind[r];
      if (kind === REGION_HUMONGOUS_START) {
        if (humongousDead(heap, r)) { this.freeHumongous(r); humongousFreed++; }
        continue;
      }
      if (kind === REGION_EDEN || kind === REGION_SURVIVOR) {
        // dead young objects may point at old objects about to become fillers: fill them too
        scrubbed += scrubRegion(heap, r);
        continue;
      }
      if (kind !== REGION_OLD) continue;
      const live = liveWordsAfterMarking(heap, r);
      if (live === 0) { this.freeRegion(r); freed++; continue; }
      scrubbed += scrubRegion(heap, r);
      regions.liveWords[r] = live;
      if (live < threshold) candidates.push(r);
    }
    events.phaseEnd('free-and-scrub');
    this.chooseCandidates(candidates);
    for (const r of candidates) this.remsets.track(r);
    const rebuilt = candidates.length > 0 ? rebuildRememberedSets(heap, this.remsets) : 0;
    events.phaseEnd('rebuild-remsets');
    this.endCleanup(candidates, freed, humongousFreed, scrubbed, rebuilt);
  }

  // ---- full collection --------------------------------------------------------------------------

  private fullCollection(): void {
    const vm = this.vm;
    const heap = vm.heap;
    const regions = heap.regions;
    const events = this.events;
    if (this.phase === 'concurrent-mark') this.discardCycle('concurrentCyclesAborted');
    events.emit(EV_PREPARE, { kind: 'full' });
    this.allocator.retireRegion();
    // everything pending is void: a full collection rebuilds what it needs
    this.queue.clear();
    const tracer = this.tracer;
    markFromRoots(vm, tracer);
    let humongousFreed = 0;
    for (let r = 0; r < heap.regionCount; r++) {
      if (regions.kind[r] === REGION_HUMONGOUS_START && !tracer.isMarked(regions.bottom(r))) { this.freeHumongous(r); humongousFreed++; }
    }
    const result = this.compactor.compact(vm.mutators, [REGION_EDEN, REGION_SURVIVOR, REGION_OLD], REGION_OLD);
    events.phaseEnd('compact');
    // after compaction: no young regions, no candidates; only humongous regions keep remembered sets
    this.remsets.clearAll();
    heap.meta.cards.fill(CARD_CLEAN);
    this.edenRegions = [];
    this.survivorRegions = [];
    this.candidates = [];
    this.phase = 'young-only';
    for (let r = 0; r < heap.regionCount; r++) {
      if (regions.kind[r] === REGION_FREE) continue;
      if (regions.kind[r] === REGION_HUMONGOUS_START) this.remsets.track(r);
    }
    rebuildRememberedSets(heap, this.remsets);
    heap.free.sortLowFirst();
    events.phaseEnd('rebuild-remsets');
    events.count('bytesMoved', result.wordsMoved * WORD_BYTES);
    events.count('regionsFreed', result.regionsFreed);
    events.count('humongousReclaimed', humongousFreed);
    events.emit(EV_EVACUATED);
    this.afterPause(false);
  }
}

export const REMSET_COLLECTOR_OPTIONS = {
  remsetRepresentation: { default: 'bitmap', choices: ['bitmap', 'sparse'], description: "remembered sets: 'bitmap' (per-source-region card bitmaps, the paper's) or 'sparse' (HotSpot's coarsening levels)" },
  budgetPercent: { default: 5, description: 'without a pause-time goal: the young generation (eden + survivors; rem: the regions allocated between pauses) as a share of the heap (G1NewSizePercent)' },
  minEdenPercent: { default: 5, description: 'smallest young generation (eden + survivors) with a pause-time goal (G1NewSizePercent)' },
  maxEdenPercent: { default: 60, description: 'largest eden with a pause-time goal (G1MaxNewSizePercent)' },
  reservePercent: { default: 10, description: 'free regions kept back as to-space (G1ReservePercent)' },
  tenuringThreshold: { default: 15, description: 'pauses a young object survives in survivor regions before it is promoted (MaxTenuringThreshold, 0-15; 0 promotes every survivor at once); the threshold adapts below it so survivors fill about half the survivor space (TargetSurvivorRatio 50)' },
  survivorRatio: { default: 8, description: 'survivor regions at most eden/this (SurvivorRatio)' },
  ihopPercent: { default: 45, description: 'start a marking when old + humongous occupancy passes this share of the heap (InitiatingHeapOccupancyPercent)' },
  liveThresholdPercent: { default: 85, description: 'old regions with less live data are mixed-collection candidates (G1MixedGCLiveThresholdPercent)' },
  heapWastePercent: { default: 5, description: 'stop mixed collections when candidates hold less reclaimable space (G1HeapWastePercent)' },
  mixedCountTarget: { default: 8, description: 'spread the candidates over this many mixed pauses (G1MixedGCCountTarget)' },
  oldCsetRegionThresholdPercent: { default: 10, description: 'at most this share of the heap in old regions per mixed pause (G1OldCSetRegionThresholdPercent)' },
  confidencePercent: { default: 50, description: 'prediction confidence: davg + (this/100) x stddev (G1ConfidencePercent)' },
  refinementThresholdCards: { default: 0, description: 'the mutator refines dirty cards itself once this many are queued (0: an eighth of the heap\'s cards)' },
  tlabWords: { default: DEFAULT_TLAB_WORDS, description: 'allocation buffer size in words' },
  gcThreads: { default: 2, description: 'GC threads that copy in evacuation pauses (ParallelGCThreads): 1, or 2 (the mutator thread + the evacuation worker)' },
  parallelMinKb: { default: 1024, description: 'evacuate in parallel only when the collection set holds at least this many KiB (a small pause is not worth the hand-off)' },
};

export function remsetOptions(o: Record<string, OptionValue>, fixed: { generational: boolean; pauseGoalMs: number }): RemsetCollectorOptions {
  return {
    concurrentMark: o.concurrentMark === true,
    markerPaceUs: Number(o.markerPaceUs ?? 0),
    generational: fixed.generational,
    remsetRepresentation: String(o.remsetRepresentation) === 'sparse' ? 'sparse' : 'bitmap',
    pauseGoalMs: fixed.pauseGoalMs,
    confidencePercent: Number(o.confidencePercent),
    budgetPercent: Number(o.budgetPercent),
    minEdenPercent: Number(o.minEdenPercent),
    maxEdenPercent: Number(o.maxEdenPercent),
    reservePercent: Number(o.reservePercent),
    tenuringThreshold: Number(o.tenuringThreshold),
    survivorRatio: Number(o.survivorRatio),
    ihopPercent: Number(o.ihopPercent),
    liveThresholdPercent: Number(o.liveThresholdPercent),
    heapWastePercent: Number(o.heapWastePercent),
    mixedCountTarget: Number(o.mixedCountTarget),
    oldCsetRegionThresholdPercent: Number(o.oldCsetRegionThresholdPercent),
    refinementThresholdCards: Number(o.refinementThresholdCards),
    tlabWords: Number(o.tlabWords),
    gcThreads: Number(o.gcThreads),
    parallelMinKb: Number(o.parallelMinKb),
  };
}
