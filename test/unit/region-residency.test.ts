/**
 * Region residency (vm-core/heap.ts, "Residency"): the OS backs a page the
 * first time it is written, so copy destinations inside a pause take regions
 * that were claimed before (resident) and mutator allocation regions take
 * never-claimed (fresh) ones while any are left. A collector that let a pause
 * copy into fresh memory would pay the first touch inside the pause; these
 * tests pin which regions each side gets (the free list's own preferences are
 * in free-region-list.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { gen } from '../../collectors/region/presets.js';
import { REGION_EDEN, REGION_OLD, REGION_SURVIVOR } from '../../vm-core/region-table.js';
import { testVm } from '../kit/fixtures.js';

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
    it(`gen (gcThreads ${gcThreads}): every young pause copies into regions resident when it began, the first one too`, () => {
      const { vm, m, t } = testVm({ collector: gen, heapBytes: 1024 * 1024, regionBytes: 4096, collectorOptions: { gcThreads, parallelMinKb: 0, tenuringThreshold: 1 } });
      const heap = vm.heap;
      const regions = heap.regions;
      // residency, free regions and kinds as each pause begins
      let residentAtPause = new Uint8Array(0);
      let freeAtPause = new Uint8Array(0);
      vm.events.subscribe({
        pauseEvent(name) {
          if (name !== 'requested') return;
          residentAtPause = Uint8Array.from(heap.resident);
          freeAtPause = Uint8Array.from({ length: heap.regionCount }, (_, r) => (heap.free.has(r) ? 1 : 0));
        },
        phaseEnd() {},
        count() {},
        reclassify() {},
        concurrent() {},
      });
      const list = m.push(0);
      /** Allocates until the collector has paused once more, keeping every fourth object. */
      const allocateThroughPause = () => {
        const target = vm.gcCount + 1;
        for (let i = 0; vm.gcCount < target; i++) {
          const obj = m.alloc(t.cons);
          if ((i & 3) === 0) {
            m.setRef(obj, 0, m.get(list));
            m.set(list, obj);
          }
        }
      };
      const regionsOf = (kinds: number[]) => [...Array(heap.regionCount).keys()].filter((r) => kinds.includes(regions.kind[r]));
      for (let pause = 1; pause <= 3; pause++) {
        allocateThroughPause();
        const destinations = regionsOf([REGION_SURVIVOR, REGION_OLD]).filter((r) => freeAtPause[r] === 1);
        expect(destinations.length, `pause ${pause}`).toBeGreaterThan(0);
        for (const r of destinations) expect(residentAtPause[r], `pause ${pause}: destination region ${r} was fresh when the pause began`).toBe(1);
      }
      // the first pause found no region freed before it: the mutator pre-faulted its destinations
      expect(heap.prefaultedRegions).toBeGreaterThan(0);
      // the mutator's next eden region is a fresh one (the heap has plenty left)
      const residentBefore = Uint8Array.from(heap.resident);
      const edenNow = new Set(regionsOf([REGION_EDEN]));
      let claimed: number[] = [];
      while (claimed.length === 0) {
        m.alloc(t.cons);
        claimed = regionsOf([REGION_EDEN]).filter((r) => !edenNow.has(r));
      }
      expect(residentBefore[claimed[0]]).toBe(0);
    });
  }
});
