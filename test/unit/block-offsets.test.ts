/**
 * The block-offset table (vm-core/heap.ts): heap.objectCoveringCard(card) is
 * the start of the object covering the card's first word, for every card of
 * used memory: after many allocations of mixed sizes (TLAB refills, region
 * changes, humongous objects, TLAB fillers) and after collections that
 * evacuate objects and fill dead space.
 */
import { describe, expect, it } from 'vitest';
import { evac } from '../../collectors/region/region-collector.js';
import type { Heap } from '../../vm-core/heap.js';
import { CARD_WORDS, LOG_CARD_WORDS } from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import { type TestTypes, seededRandom, testVm, walkObjects } from '../kit/fixtures.js';

/** Checks every card whose first word lies in used memory; returns how many were checked. */
function checkEveryCard(heap: Heap): number {
  let cards = 0;
  for (const [obj, size] of walkObjects(heap)) {
    for (let c = (obj + CARD_WORDS - 1) >> LOG_CARD_WORDS, last = (obj + size - 1) >> LOG_CARD_WORDS; c <= last; c++) {
      if (heap.objectCoveringCard(c) !== obj) throw new Error(`card ${c}: block offset ${heap.objectCoveringCard(c)}, expected ${obj} (size ${size})`);
      cards++;
    }
  }
  return cards;
}

/** Allocates n objects of mixed kinds and sizes; roots every keepEvery-th. */
function allocateMixed(m: Mutator, t: TestTypes, n: number, seed: number, keepEvery: number): void {
  const random = seededRandom(seed);
  for (let k = 0; k < n; k++) {
    const pick = random();
    let obj: number;
    if (pick < 0.3) obj = m.alloc(t.tri);
    else if (pick < 0.5) obj = m.alloc(t.cons);
    else if (pick < 0.6) obj = m.alloc(t.leaf);
    else if (pick < 0.8) obj = m.allocArray(t.refs, Math.floor(random() * 40));
    else if (pick < 0.95) obj = m.allocArray(t.f64s, Math.floor(random() * 300));
    else obj = m.allocArray(t.i32s, 400 + Math.floor(random() * 1500)); // some humongous
    if (k % keepEvery === 0) m.push(obj);
  }
}

describe('block-offset table', () => {
  it('names the covering object of every card after many mixed allocations', () => {
    const { vm, m, t } = testVm({ heapBytes: 2 * 1024 * 1024, collectorOptions: { tlabWords: 300 } });
    allocateMixed(m, t, 1500, 1, 10);
    vm.verifyNow('after allocation', 'extreme');
    expect(checkEveryCard(vm.heap)).toBeGreaterThan(500);
  });

  it('still does after collections that evacuate, fill dead space and release regions', () => {
    const { vm, m, t } = testVm({ collector: evac, heapBytes: 512 * 1024, verify: 'extreme', collectorOptions: { tlabWords: 500 } });
    let copied = 0;
    vm.events.subscribe({ pauseEvent() {}, phaseEnd() {}, count(name, v) { if (name === 'objectsCopied') copied += v; }, reclassify() {}, concurrent() {} });
    for (let round = 0; round < 6; round++) {
      allocateMixed(m, t, 800, 10 + round, 3);
      if (round % 2 === 1) m.popFrame(Math.floor(m.frame() / 2)); // drop half of the roots
      vm.collect('explicit');
      expect(checkEveryCard(vm.heap)).toBeGreaterThan(0);
    }
    expect(copied).toBeGreaterThan(0);
    vm.verifyNow('at the end', 'extreme');
  });
});
