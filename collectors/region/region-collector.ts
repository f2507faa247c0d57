/**
 * The region-evacuating collector, in the SIM configuration of Zhao &
 * Blackburn, "Deconstructing the Garbage-First Collector" (VEE 2020):
 * stop-the-world, non-generational, full-heap marking, region evacuation.
 *
 * A pause:
 *   1. prepare      retire the allocation region
 *   2. mark         trace from the roots with the mark bitmap, counting live
 *                   words per region                        (roots-traced, heap-traced)
 *   3. select       release dead regions and dead humongous objects; choose the
 *                   sparse regions (live < 85%) most-garbage first  (collection-set.ts)
 *   4. copy         evacuate their marked objects into free regions, forwarding
 *                   them; an object that finds no to-space stays (evacuation failure)
 *   5. fix          one full-heap pass fixes every reference to a forwarded object,
 *                   roots included, and fills dead objects    (reference-fixer.ts)
 *   6. release      free the evacuated regions (poisoned in stress mode); scrub
 *                   the regions whose evacuation failed and keep them   (evacuated)
 *
 * When to collect: after the mutators have allocated `budgetPercent` of the
 * heap since the last pause (as often as G1 with its smallest young generation,
 * G1NewSizePercent = 5), or earlier when allocation would eat into the
 * to-space reserve (`reservePercent`, as G1ReservePercent), or when the heap is
 * full. Later issues switch on remembered sets, generations and concurrent
 * marking in this folder; this file is the SIM baseline they build on.
 */
import type { Collector, CollectorPlugin, OptionValue } from '../../vm-core/collector.js';
import { Compactor } from '../../vm-core/compactor.js';
import { EV_EVACUATED, EV_PREPARE } from '../../vm-core/events.js';
import { Evacuator } from '../../vm-core/evacuator.js';
import * as layout from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import { DEFAULT_TLAB_WORDS, RegionAllocator } from '../../vm-core/region-allocator.js';
import * as regionTable from '../../vm-core/region-table.js';
import { markFromRoots } from '../../vm-core/stw-marking.js';
import { Tracer } from '../../vm-core/tracer.js';
import type { Vm } from '../../vm-core/vm.js';
import { chooseCollectionSet } from './collection-set.js';
import { ReferenceFixer } from './reference-fixer.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { WORD_BYTES } = layout;
const { REGION_OLD } = regionTable;

export interface RegionCollectorOptions {
  liveThresholdPercent: number;
  budgetPercent: number;
  reservePercent: number;
  limitCsetToFreeSpace: boolean;
  tlabWords: number;
}

export class RegionCollector implements Collector {
  private readonly allocator: RegionAllocator;
  private readonly tracer: Tracer;
  private readonly evacuator: Evacuator;
  private readonly fixer: ReferenceFixer;
  /** For the last-ditch full collection; made on first use. */
  private compactor: Compactor | undefined;
  /** Allocation (words) after which the next pause is due; recomputed after every pause. */
  private triggerWords: number;

  constructor(private readonly vm: Vm, private readonly options: RegionCollectorOptions) {
    const heap = vm.heap;
    this.allocator = new RegionAllocator(heap, REGION_OLD, options.tlabWords);
    this.tracer = new Tracer(heap);
    this.evacuator = new Evacuator(heap, REGION_OLD);
    this.fixer = new ReferenceFixer(heap);
    this.triggerWords = this.computeTrigger();
  }

  refillTlab(m: Mutator, minWords: number): boolean {
    return this.allocator.refill(m, minWords);
  }

  allocHumongous(words: number): number {
    return this.allocator.allocHumongous(words);
  }

  retireTlab(m: Mutator): void {
    this.allocator.retire(m);
  }

  collectionRequired(): boolean {
    return this.allocator.allocatedWords >= this.triggerWords;
  }

  usedWords(): number {
    return this.vm.heap.accountedWords;
  }

  get allocatedWords(): number {
    return this.allocator.totalAllocatedWords;
  }

  collect(cause: string): void {
    if (cause === 'last-ditch') {
      this.fullCollect();
      return;
    }
    const vm = this.vm;
    const heap = vm.heap;
    const events = vm.events;
    const regions = heap.regions;
    events.emit(EV_PREPARE, { kind: 'evacuation' });
    this.allocator.retireRegion();
    const usedBefore = heap.accountedWords;

    // 2. mark
    const tracer = this.tracer;
    markFromRoots(vm, tracer);

    // 3. select
    const choice = chooseCollectionSet(heap, (ref) => tracer.isMarked(ref), this.options.liveThresholdPercent, this.options.limitCsetToFreeSpace);
    events.phaseEnd('select-cset');
    events.count('regionsInCset', choice.cset.length);
    events.count('regionsReclaimedDead', choice.regionsReleasedDead);
    events.count('humongousReclaimed', choice.humongousReleased);

    // 4. copy
    const evacuator = this.evacuator;
    evacuator.resetCounters();
    let failedRegions = 0;
    for (const r of choice.cset) if (!evacuator.evacuateRegion(r)) failedRegions++;
    evacuator.retire();
    events.phaseEnd('copy');
    events.count('objectsCopied', evacuator.objectsCopied);
    events.count('bytesCopied', evacuator.wordsCopied * WORD_BYTES);

    // 5. fix every reference, roots included, with one pass over the heap
    const fixer = this.fixer;
    fixer.resetCounters();
    fixer.fixRoots(vm.mutators);
    fixer.fixHeap();
    events.phaseEnd('fix-references');
    events.count('referencesFixed', fixer.referencesFixed);

    // 6. release evacuated regions; keep and scrub those that failed
    for (const r of choice.cset) {
      if (regions.evacFailed[r] !== 0) fixer.scrubFailedRegion(r);
      else heap.releaseRegion(r);
    }
    events.phaseEnd('release');
    if (failedRegions > 0) {
      events.reclassify('evacuation-failure');
      events.count('evacuationFailedObjects', evacuator.failedObjects);
      events.count('evacuationFailedRegions', failedRegions);
    }
    events.count('bytesReclaimed', Math.max(0, usedBefore - heap.accountedWords) * WORD_BYTES);
    events.emit(EV_EVACUATED);
    this.allocator.resetBudget();
    this.triggerWords = this.computeTrigger();
  }

  /**
   * The last-ditch full collection (the VM's final attempt before out of
   * memory): mark, release dead humongous runs and dead regions, then slide
   * every eden/survivor/old region's live objects down (vm-core/compactor.ts),
   * which frees space even when no region is free to evacuate into.
   */
  private fullCollect(): void {
    const vm = this.vm;
    const heap = vm.heap;
    const events = vm.events;
    events.emit(EV_PREPARE, { kind: 'full' });
    this.allocator.retireRegion();
    const usedBefore = heap.accountedWords;
    const tracer = this.tracer;
    markFromRoots(vm, tracer);
    // a live threshold of 0 chooses no collection set: this only releases the dead
    const dead = chooseCollectionSet(heap, (ref) => tracer.isMarked(ref), 0, true);
    events.phaseEnd('release-dead');
    events.count('regionsReclaimedDead', dead.regionsReleasedDead);
    events.count('humongousReclaimed', dead.humongousReleased);
    this.compactor ??= new Compactor(heap);
    const result = this.compactor.compact(vm.mutators);
    events.phaseEnd('compact');
    events.count('bytesMoved', result.wordsMoved * WORD_BYTES);
    events.count('objectsMoved', result.objectsMoved);
    events.count('regionsCompacted', result.regionsBefore);
    events.count('regionsFreedByCompaction', result.regionsFreed);
    events.count('referencesFixed', this.compactor.referencesFixed);
    events.count('bytesReclaimed', Math.max(0, usedBefore - heap.accountedWords) * WORD_BYTES);
    events.emit(EV_EVACUATED);
    this.allocator.resetBudget();
    this.triggerWords = this.computeTrigger();
  }

  /** The allocation budget until the next pause: budgetPercent of the heap, less what would eat the reserve. */
  private computeTrigger(): number {
    const heap = this.vm.heap;
    const budget = Math.floor((heap.heapWords * this.options.budgetPercent) / 100);
    const reserveRegions = Math.ceil((heap.regionCount * this.options.reservePercent) / 100);
    const beforeReserve = (heap.free.length - reserveRegions) * heap.regionWords;
    return Math.max(heap.regionWords, Math.min(budget, beforeReserve));
  }
}

export const REGION_COLLECTOR_OPTIONS = {
  liveThresholdPercent: { default: 85, description: 'regions with less live data than this are evacuated (G1MixedGCLiveThresholdPercent)' },
  budgetPercent: { default: 5, description: 'collect after the mutators allocate this share of the heap (cf. G1NewSizePercent)' },
  reservePercent: { default: 10, description: 'free regions kept back as to-space (G1ReservePercent)' },
  limitCsetToFreeSpace: { default: true, description: 'take only as many regions as the free regions can receive (off: let evacuation fail)' },
  tlabWords: { default: DEFAULT_TLAB_WORDS, description: 'allocation buffer size in words' },
};

export function regionOptions(o: Record<string, OptionValue>): RegionCollectorOptions {
  return {
    liveThresholdPercent: Number(o.liveThresholdPercent),
    budgetPercent: Number(o.budgetPercent),
    reservePercent: Number(o.reservePercent),
    limitCsetToFreeSpace: Boolean(o.limitCsetToFreeSpace),
    tlabWords: Number(o.tlabWords),
  };
}

export const evac: CollectorPlugin = {
  name: 'evac',
  description: 'stop-the-world full-heap marking + region evacuation, non-generational (SIM in Zhao & Blackburn 2020)',
  constraints: {
    moves: true,
    collects: true,
    generational: false,
    needsRemsets: false,
    concurrent: false,
    barriers: { preWrite: 'none', postWrite: 'none', read: 'none' },
  },
  options: REGION_COLLECTOR_OPTIONS,
  create: (vm, options) => new RegionCollector(vm, regionOptions(options)),
};
