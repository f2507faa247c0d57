/**
 * Small VMs and heap walks for unit tests: a VM with 4 KiB regions and a
 * handful of registered types, a plug-in copy with other barriers, and a walk
 * that lists every object (and filler) of the used regions.
 */
import type { BarrierChoice } from '../../barriers/select.js';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import type { CollectorPlugin } from '../../vm-core/collector.js';
import type { Heap } from '../../vm-core/heap.js';
import type { Mutator } from '../../vm-core/mutator.js';
import { REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START } from '../../vm-core/region-table.js';
import { type VmConfig, Vm } from '../../vm-core/vm.js';

export interface TestTypes {
  /** 0 refs, 2 data words: 4 words. */
  leaf: number;
  /** 1 ref (then a pad word), 2 data words: 6 words. */
  cons: number;
  /** 3 refs (then a pad word), 4 data words: 10 words. */
  tri: number;
  refs: number;
  i32s: number;
  f64s: number;
}

export interface TestVm { vm: Vm; m: Mutator; t: TestTypes }

/** A VM (epsilon unless given) on a 64 KiB heap of 4 KiB regions, with types registered and one mutator. */
export function testVm(config: Partial<VmConfig> = {}): TestVm {
  const vm = new Vm({ heapBytes: 64 * 1024, regionBytes: 4096, collector: epsilon, rootSlots: 1024, ...config });
  const types = vm.types;
  const t: TestTypes = {
    leaf: types.struct('Leaf', 0, 2),
    cons: types.struct('Cons', 1, 2),
    tri: types.struct('Tri', 3, 4),
    refs: types.refArray('Refs'),
    i32s: types.dataArray('I32s', 1),
    f64s: types.dataArray('F64s', 2),
  };
  return { vm, m: vm.newMutator(), t };
}

/** A copy of a plug-in that asks for other barriers. */
export function withBarriers(plugin: CollectorPlugin, barriers: BarrierChoice): CollectorPlugin {
  return { ...plugin, name: `${plugin.name}+barriers`, constraints: { ...plugin.constraints, barriers } };
}

/** Every object and filler in the used regions, as [start, size] pairs, walking each region from its first word. */
export function walkObjects(heap: Heap): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const regions = heap.regions;
  for (let r = 0; r < heap.regionCount; r++) {
    const kind = regions.kind[r];
    if (kind === REGION_FREE || kind === REGION_HUMONGOUS_CONT) continue;
    if (kind === REGION_HUMONGOUS_START) {
      out.push([regions.bottom(r), heap.sizeOf(regions.bottom(r))]);
      continue;
    }
    for (let obj = r << heap.logRegionWords; obj < regions.top[r];) {
      const size = heap.sizeOf(obj);
      if (size < 2) throw new Error(`walkObjects: bad object at ${obj}`);
      out.push([obj, size]);
      obj += size;
    }
  }
  return out;
}

/** A small deterministic pseudo-random generator (mulberry32), so unit tests need no seeds from outside. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
