/**
 * Region residency (vm-core/heap.ts, "Residency"): the OS backs a page the
 * first time it is written, so copy destinations inside a pause take regions
 * that were claimed before (resident) and mutator allocation regions take
 * never-claimed (fresh) ones while any are left. A collector that let a pause
 * copy into fresh memory would pay the first touch inside the pause; these
 * tests pin which regions each side gets.
 */
import { describe, expect, it } from 'vitest';
import { gen } from '../../collectors/region/presets.js';
import { FreeRegionList } from '../../vm-core/free-region-list.js';
import { REGION_EDEN, REGION_OLD, REGION_SURVIVOR } from '../../vm-core/region-table.js';
import { testVm } from '../kit/fixtures.js';

function listOf(count: number, regions: number[]): FreeRegionList {
  const list = new FreeRegionList(count);
  for (const r of regions) list.add(r);
  return list;
}

describe('FreeRegionList preferences', () => {
  it('takePreferring hands out the lowest region with the wanted flag, else the lowest of all', () => {
    const list = listOf(8, [7, 6, 5, 4, 3, 2, 1]);
    const flags = Uint8Array.from([0, 0, 1, 0, 1, 0, 0, 0]);
    expect(list.takePreferring(flags, 1)).toBe(2);
    expect(list.takePreferring(flags, 1)).toBe(4);
    expect(list.takePreferring(flags, 1)).toBe(1);
    expect(list.has(1) || list.has(2) || list.has(4)).toBe(false);
    expect(list.takePreferring(flags, 0)).toBe(3);
    const rest = [];
    for (let r = list.take(); r >= 0; r = list.take()) rest.push(r);
    expect(rest).toEqual([5, 6, 7]);
  });

  it('takeAllPreferring empties the list, flagged regions first, each group low-first', () => {
    const list = listOf(8, [7, 6, 5, 3, 2, 0]);
    const flags = Uint8Array.from([0, 0, 0, 1, 0, 0, 1, 1]);
    const into = new Int32Array(8);
    expect(list.takeAllPreferring(into, flags, 1)).toBe(6);
    expect([...into.subarray(0, 6)]).toEqual([3, 6, 7, 0, 2, 5]);
    expect(list.length).toBe(0);
    expect(list.has(3)).toBe(false);
    list.add(3);
    expect(list.take()).toBe(3);
  });
});

describe('heap residency', () => {
  it('mutator regions are fresh while fresh ones last; copy destinations are resident ones', () => {
    const { vm } = testVm({ heapBytes: 64 * 1024, regionBytes: 4096 });
    const heap = vm.heap;
    const first = heap.claimMutatorRegion(REGION_EDEN);
    expect(first).toBe(0);
    expect(heap.resident[first]).toBe(1);
    heap.releaseRegion(first);
    heap.endPause();
    // the released region is resident now: a destination gets it, a mutator region does not
    const mutatorRegion = heap.claimMutatorRegion(REGION_EDEN);
    expect(mutatorRegion).not.toBe(first);
    expect(heap.resident[mutatorRegion]).toBe(1);
    expect(heap.claimRegion(REGION_OLD)).toBe(first);
  });

  it('pretouch makes every region resident, and mutator regions go back to lowest-first', () => {
    const { vm } = testVm({ heapBytes: 64 * 1024, regionBytes: 4096, pretouch: true });
    const heap = vm.heap;
    expect(heap.resident.every((b) => b === 1)).toBe(true);
    const a = heap.claimMutatorRegion(REGION_EDEN);
    const b = heap.claimMutatorRegion(REGION_EDEN);
    expect(b).toBe(a + 1);
  });

  for (const gcThreads of [1, 2]) {
    it(`gen (gcThreads ${gcThreads}): a young pause copies into regions the previous cycle's eden left resident`, () => {
      const { vm, m, t } = testVm({ collector: gen, heapBytes: 1024 * 1024, regionBytes: 4096, collectorOptions: { gcThreads, parallelMinKb: 0, tenuringThreshold: 1 } });
      const heap = vm.heap;
      const regions = heap.regions;
      const list = m.push(0);
      /** Allocates until the collector has paused `n` more times, keeping every fourth object. */
      const allocateThrough = (n: number) => {
        const target = vm.gcCount + n;
        for (let i = 0; vm.gcCount < target; i++) {
          const obj = m.alloc(t.cons);
          if ((i & 3) === 0) {
            m.setRef(obj, 0, m.get(list));
            m.set(list, obj);
          }
        }
      };
      // the top regions were used before (as by a humongous object since freed): the first pause copies there, not into lower fresh ones
      for (let r = heap.regionCount - 8; r < heap.regionCount; r++) heap.noteResident(r);
      const residentAtStart = Uint8Array.from(heap.resident);
      const freeAtStart = Uint8Array.from({ length: heap.regionCount }, (_, r) => (heap.free.has(r) ? 1 : 0));
      allocateThrough(1);
      const firstDestinations = [...Array(heap.regionCount).keys()].filter((r) => (regions.kind[r] === REGION_SURVIVOR || regions.kind[r] === REGION_OLD) && freeAtStart[r] === 1);
      expect(firstDestinations.length).toBeGreaterThan(0);
      for (const r of firstDestinations) expect(residentAtStart[r], `first pause: destination region ${r} was fresh`).toBe(1);
      const residentBefore = Uint8Array.from(heap.resident);
      const freeResidentBefore = [...Array(heap.regionCount).keys()].filter((r) => heap.free.has(r) && residentBefore[r] === 1).length;
      expect(freeResidentBefore).toBeGreaterThan(0);
      // the next eden region the mutator claims in this cycle is a fresh one (the heap has plenty left)
      const edenRegions = () => [...Array(heap.regionCount).keys()].filter((r) => regions.kind[r] === REGION_EDEN);
      const edenAtStart = new Set(edenRegions());
      const gcCount = vm.gcCount;
      let claimed: number[] = [];
      while (claimed.length === 0) {
        m.alloc(t.cons);
        claimed = edenRegions().filter((r) => !edenAtStart.has(r));
      }
      expect(vm.gcCount).toBe(gcCount);
      expect(residentBefore[claimed[0]]).toBe(0);
      // the second pause's destinations are regions that were resident before the cycle began
      const kindsBefore = Uint8Array.from(regions.kind);
      allocateThrough(1);
      const destinations = [...Array(heap.regionCount).keys()].filter((r) => (regions.kind[r] === REGION_SURVIVOR || regions.kind[r] === REGION_OLD) && kindsBefore[r] !== regions.kind[r]);
      expect(destinations.length).toBeGreaterThan(0);
      expect(destinations.length).toBeLessThanOrEqual(freeResidentBefore);
      for (const r of destinations) expect(residentBefore[r], `destination region ${r} was fresh`).toBe(1);
    });
  }
});
