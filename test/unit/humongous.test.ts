/**
 * Humongous objects (vm-core/heap.ts, the VM slow path): an object of at
 * least half a region takes a contiguous run of regions, HUMONGOUS_START then
 * HUMONGOUS_CONT, zeroed, and its run is released whole when it dies.
 */
import { describe, expect, it } from 'vitest';
import { evac } from '../../collectors/region/region-collector.js';
import { Heap } from '../../vm-core/heap.js';
import { ARRAY_BASE } from '../../vm-core/layout.js';
import { REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD } from '../../vm-core/region-table.js';
import { heapGeometry } from '../../vm-core/sizes.js';
import { testVm } from '../kit/fixtures.js';

const REGION_WORDS = 1024; // 4 KiB regions

describe('humongous allocation', () => {
  it('an object of exactly half a region is humongous; one word-pair less is not', () => {
    const { vm, m, t } = testVm();
    const half = m.allocArray(t.i32s, REGION_WORDS / 2 - ARRAY_BASE); // 512 words
    expect(vm.heap.regions.kind[vm.heap.regionOf(half)]).toBe(REGION_HUMONGOUS_START);
    expect(half).toBe(vm.heap.regions.bottom(vm.heap.regionOf(half)));
    const small = m.allocArray(t.i32s, REGION_WORDS / 2 - ARRAY_BASE - 2); // 510 words
    expect(vm.heap.regions.kind[vm.heap.regionOf(small)]).toBe(REGION_OLD);
  });

  it('takes a contiguous run: START then CONT regions naming their start, tops covering the object', () => {
    const { vm, m, t } = testVm();
    m.alloc(t.leaf);
    const length = 2 * REGION_WORDS + 100; // 3 regions
    const obj = m.allocArray(t.refs, length);
    const heap = vm.heap;
    const regions = heap.regions;
    const first = heap.regionOf(obj);
    const size = heap.sizeOf(obj);
    expect(obj).toBe(regions.bottom(first));
    expect(heap.humongousRegionCount(first)).toBe(3);
    expect(regions.kind[first]).toBe(REGION_HUMONGOUS_START);
    expect(regions.kind[first + 1]).toBe(REGION_HUMONGOUS_CONT);
    expect(regions.kind[first + 2]).toBe(REGION_HUMONGOUS_CONT);
    expect(regions.humongousStart[first + 1]).toBe(first);
    expect(regions.humongousStart[first + 2]).toBe(first);
    expect(regions.top[first]).toBe(regions.end(first));
    expect(regions.top[first + 1]).toBe(regions.end(first + 1));
    expect(regions.top[first + 2]).toBe(obj + size);
    expect(m.arrayLength(obj)).toBe(length);
    for (let i = 0; i < length; i += 97) expect(m.getRef(obj, i)).toBe(0);
    // usable end to end
    m.setRef(obj, length - 1, obj);
    expect(m.getRef(obj, length - 1)).toBe(obj);
    vm.verifyNow('after humongous allocation', 'extreme');
  });

  it('needs contiguous free regions: scattered free regions do not make a run', () => {
    const heap = new Heap(heapGeometry(32 * 1024, 4096)); // 8 regions
    const claimed = [];
    for (let r = heap.claimRegion(REGION_OLD); r >= 0; r = heap.claimRegion(REGION_OLD)) claimed.push(r);
    expect(claimed).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const r of [1, 3, 4, 6]) heap.releaseRegion(r);
    const two = heap.claimHumongous(REGION_WORDS + 10);
    expect(two).toBe(heap.regions.bottom(3));
    expect(heap.free.has(3) || heap.free.has(4)).toBe(false);
    expect(heap.claimHumongous(REGION_WORDS + 10)).toBe(0); // only 1 and 6 are left, apart
  });

  it('is released whole when it dies, and its regions go back on the free list', () => {
    const { vm, m, t } = testVm({ collector: evac, verify: 'debug' });
    const heap = vm.heap;
    const keep = m.push(m.allocArray(t.f64s, REGION_WORDS)); // 2050 words: 3 regions
    const dead = m.allocArray(t.i32s, REGION_WORDS + 100); // 2 regions, never rooted
    const keptFirst = heap.regionOf(m.get(keep));
    const deadFirst = heap.regionOf(dead);
    expect(heap.humongousRegionCount(deadFirst)).toBe(2);
    const freeBefore = heap.free.length;
    vm.collect('explicit');
    expect(heap.regions.kind[deadFirst]).toBe(REGION_FREE);
    expect(heap.regions.kind[deadFirst + 1]).toBe(REGION_FREE);
    expect(heap.free.has(deadFirst) && heap.free.has(deadFirst + 1)).toBe(true);
    expect(heap.free.length).toBeGreaterThanOrEqual(freeBefore + 2);
    // the live one did not move (humongous objects are never copied) and is intact
    expect(m.get(keep)).toBe(heap.regions.bottom(keptFirst));
    expect(heap.regions.kind[keptFirst]).toBe(REGION_HUMONGOUS_START);
    expect(heap.humongousRegionCount(keptFirst)).toBe(3);
    m.pop();
    vm.collect('explicit');
    expect([0, 1, 2].map((k) => heap.regions.kind[keptFirst + k])).toEqual([REGION_FREE, REGION_FREE, REGION_FREE]);
  });

  it('releasing its regions takes its words out of the heap\'s accounting', () => {
    const heap = new Heap(heapGeometry(32 * 1024, 4096));
    const words = 2 * REGION_WORDS + 2;
    const obj = heap.claimHumongous(words);
    const first = heap.regionOf(obj);
    expect(heap.accountedWords).toBe(words);
    expect(heap.usedWords()).toBe(words);
    for (let k = heap.humongousRegionCount(first) - 1; k >= 0; k--) heap.releaseRegion(first + k);
    expect(heap.accountedWords).toBe(0);
    expect(heap.usedWords()).toBe(0);
    expect(heap.free.length).toBe(8);
  });
});
