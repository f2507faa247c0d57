/**
 * epsilon: allocates and never collects, the zero-GC baseline (as HotSpot's
 * Epsilon, JEP 318). Mutators bump-allocate TLABs out of regions until no free
 * region is left; then the run stops with an out-of-memory error naming the
 * heap and used sizes. Its pauses are zero and its barrier is none, so any
 * other collector's cost is measured against it.
 */
import type { Collector, CollectorPlugin } from '../../vm-core/collector.js';
import type { Mutator } from '../../vm-core/mutator.js';
import { DEFAULT_TLAB_WORDS, RegionAllocator } from '../../vm-core/region-allocator.js';
import * as regionTable from '../../vm-core/region-table.js';
import type { Vm } from '../../vm-core/vm.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { REGION_OLD } = regionTable;

class EpsilonCollector implements Collector {
  private readonly allocator: RegionAllocator;

  constructor(private readonly vm: Vm, tlabWords: number) {
    this.allocator = new RegionAllocator(vm.heap, REGION_OLD, tlabWords);
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
    return false;
  }

  collect(): void {
    // never collects
  }

  usedWords(): number {
    return this.vm.heap.accountedWords;
  }

  get allocatedWords(): number {
    return this.allocator.totalAllocatedWords;
  }
}

export const epsilon: CollectorPlugin = {
  name: 'epsilon',
  description: 'allocates, never collects: the zero-GC baseline (HotSpot Epsilon)',
  constraints: {
    moves: false,
    collects: false,
    generational: false,
    needsRemsets: false,
    concurrent: false,
    barriers: { preWrite: 'none', postWrite: 'none', read: 'none' },
  },
  options: {
    tlabWords: { default: DEFAULT_TLAB_WORDS, description: 'allocation buffer size in words' },
  },
  create: (vm, options) => new EpsilonCollector(vm, Number(options.tlabWords)),
};
