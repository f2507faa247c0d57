/**
 * Mutator allocation regions and the allocation buffers (TLABs) carved from
 * them. A collector owns one RegionAllocator per kind of allocation region
 * (eden for generational collectors, old for single-space ones).
 *
 *   region r:  [bottom ....... TLAB of m1 ......][TLAB of m2 .....)    top   end
 *                               ^ m1.top   m1.limit ^                   ^
 *
 * A TLAB is handed out zeroed, so the mutator's fast path writes only headers.
 * Retiring a TLAB gives back its unused tail: by lowering the region's top when
 * the TLAB is the region's last one, otherwise by covering it with a filler,
 * so the region stays parseable.
 */
import type { Heap } from './heap.js';
import type { Mutator } from './mutator.js';

export const DEFAULT_TLAB_WORDS = 8 * 1024;

export class RegionAllocator {
  /** Region TLABs are carved from; -1 when none. */
  current = -1;
  /** Words handed to mutators (TLABs and humongous objects) since the last reset. */
  allocatedWords = 0;
  /** Words handed out since the VM started. */
  totalAllocatedWords = 0;
  regionsClaimed = 0;

  constructor(
    private readonly heap: Heap,
    readonly kind: number,
    readonly tlabWords = DEFAULT_TLAB_WORDS,
    /** Called once for every region this allocator claims (e.g. to track an eden region's remembered set). */
    private readonly onClaim?: (region: number) => void,
  ) {}

  /** Gives m a fresh zeroed TLAB of at least minWords; false when no region can be had. */
  refill(m: Mutator, minWords: number): boolean {
    this.retire(m);
    const heap = this.heap;
    const regions = heap.regions;
    let r = this.current;
    if (r < 0 || regions.end(r) - regions.top[r] < minWords) {
      r = heap.claimMutatorRegion(this.kind);
      if (r < 0) return false;
      this.current = r;
      this.regionsClaimed++;
      this.onClaim?.(r);
    }
    const start = regions.top[r];
    const size = Math.min(Math.max(this.tlabWords, minWords), regions.end(r) - start);
    regions.top[r] = start + size;
    heap.accountedWords += size;
    heap.words.fill(0, start, start + size);
    m.top = start;
    m.limit = start + size;
    this.allocatedWords += size;
    this.totalAllocatedWords += size;
    return true;
  }

  /** Gives back the unused tail of m's TLAB. */
  retire(m: Mutator): void {
    const unused = m.limit - m.top;
    if (unused > 0) {
      const regions = this.heap.regions;
      const r = this.heap.regionOf(m.top);
      if (regions.top[r] === m.limit) {
        regions.top[r] = m.top;
        this.heap.accountedWords -= unused;
      } else this.heap.writeFiller(m.top, unused);
      this.allocatedWords -= unused;
      this.totalAllocatedWords -= unused;
    }
    m.top = 0;
    m.limit = 0;
  }

  /** Claims a run of free regions for a humongous object and counts it as allocation; 0 when no run is free. */
  allocHumongous(words: number): number {
    const obj = this.heap.claimHumongous(words);
    if (obj !== 0) {
      this.allocatedWords += words;
      this.totalAllocatedWords += words;
    }
    return obj;
  }

  /** Stops carving from the current region (at a pause: it becomes an ordinary region). */
  retireRegion(): void {
    this.current = -1;
  }

  resetBudget(): void {
    this.allocatedWords = 0;
  }
}
