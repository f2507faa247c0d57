/**
 * Redirtied cards (G1's "redirty cards" after evacuation): a slot of a
 * promoted copy that points into a survivor region made by the same pause
 * dirties its card again, and the next pause must scan that card. The card
 * lies in a copy destination, a region that was free when the pause began;
 * the pause's own card-table scan (in address order) may reach that region
 * after the card was dirtied, and must leave it for the next pause (a scan
 * that took it then would clean it and skip it: the region's top is not
 * published until the copying ends, so the slot would be forgotten and the
 * survivor's next move would leave it dangling).
 *
 * The program: a humongous array at the bottom of the heap gets young
 * objects on 20 cards (dirty cards scanned first: the copying after their
 * chunk drains the roots' copies), and a rooted object that already survived once (promoted now)
 * points at a new object (copied to a survivor region now).
 */
import { describe, expect, it } from 'vitest';
import { gen } from '../../collectors/region/presets.js';
import { REGION_HUMONGOUS_START, REGION_OLD, REGION_SURVIVOR } from '../../vm-core/region-table.js';
import { CARD_DIRTY } from '../../vm-core/side-metadata.js';
import { LOG_CARD_WORDS, REF_BASE } from '../../vm-core/layout.js';
import { testVm } from '../kit/fixtures.js';

describe('cards dirtied again by an evacuation', () => {
  for (const gcThreads of [1, 2]) {
    it(`survive to the next pause (${gcThreads} GC thread${gcThreads > 1 ? 's' : ''})`, () => {
      const { vm, m, t } = testVm({
        collector: gen,
        heapBytes: 256 * 1024,
        verify: 'debug',
        collectorOptions: { tenuringThreshold: 1, survivorRatio: 1, gcThreads, parallelMinKb: 0 },
      });
      const heap = vm.heap;
      const regionOf = (obj: number) => obj >> heap.logRegionWords;
      const value = t.leaf;
      const valueWord = vm.types.dataOffset(value, 0);
      // the humongous array first: the lowest regions
      const array = m.push(m.allocArray(t.refs, 3000));
      expect(heap.regions.kind[regionOf(m.get(array))]).toBe(REGION_HUMONGOUS_START);
      // an object that survives once (to a survivor region) ...
      const holder = m.push(m.alloc(t.cons));
      vm.collect('test');
      expect(heap.regions.kind[regionOf(m.get(holder))]).toBe(REGION_SURVIVOR);
      // ... then points at a new object, while the array gets a young one
      const target = m.alloc(value);
      m.setI32(target, valueWord, 4242);
      m.setRef(m.get(holder), 0, target);
      for (let card = 0; card < 20; card++) m.setRef(m.get(array), card * 128, m.alloc(value)); // a chunk of dirty cards
      vm.collect('test'); // holder promoted, target to a survivor region: the holder's card is dirtied again
      const promoted = m.get(holder);
      expect(heap.regions.kind[regionOf(promoted)]).toBe(REGION_OLD);
      expect(heap.regions.kind[regionOf(m.getRef(promoted, 0))]).toBe(REGION_SURVIVOR);
      expect(heap.meta.cards[(promoted + REF_BASE) >> LOG_CARD_WORDS]).toBe(CARD_DIRTY);
      // the next pauses move the target again (to old): the holder's slot must follow it
      vm.collect('test');
      vm.collect('test');
      expect(m.getI32(m.getRef(m.get(holder), 0), valueWord)).toBe(4242);
      vm.verifyNow('after the pauses', 'extreme');
    });
  }
});
