/**
 * Reference-object starts (vm-core/side-metadata.ts, "ref-starts"): an
 * evacuation pause keeps a bit at the start of every object with reference
 * slots that it copies into an old region, and later pauses scan the cards of
 * such a region by those bits instead of walking every object. These tests
 * pin who keeps the bits, that the verifier checks them, and that a pause
 * really finds a card's slots through them: a missing bit loses a referent.
 */
import { describe, expect, it } from 'vitest';
import { gen } from '../../collectors/region/presets.js';
import { HEADER_WORDS } from '../../vm-core/layout.js';
import { REGION_OLD } from '../../vm-core/region-table.js';
import { countMarks, isMarked } from '../../vm-core/side-metadata.js';
import { testVm, walkObjects } from '../kit/fixtures.js';

/** A gen VM whose old regions hold a promoted list of Tri objects (3 refs), each with a Leaf beside it. */
function promotedList(gcThreads: number) {
  const fixture = testVm({ collector: gen, heapBytes: 1024 * 1024, regionBytes: 4096, collectorOptions: { gcThreads, parallelMinKb: 0, tenuringThreshold: 0 } });
  const { vm, m, t } = fixture;
  const head = m.push(0);
  for (let i = 0; i < 400; i++) {
    const node = m.alloc(t.tri);
    m.setRef(node, 0, m.get(head));
    m.set(head, node);
    m.setRef(m.get(head), 1, m.alloc(t.leaf));
  }
  vm.collect('test');
  vm.collect('test');
  const heap = vm.heap;
  const kept = [...Array(heap.regionCount).keys()].filter((r) => heap.regions.refStartsKept[r] !== 0);
  return { ...fixture, head, kept };
}

/** The list's nodes, head first. */
function nodesOf(fixture: ReturnType<typeof promotedList>): number[] {
  const { m, head } = fixture;
  const nodes: number[] = [];
  for (let n = m.get(head); n !== 0; n = m.getRef(n, 0)) nodes.push(n);
  return nodes;
}

describe('ref-starts bits', () => {
  for (const gcThreads of [1, 2]) {
    it(`gen (gcThreads ${gcThreads}): old copy destinations keep a bit on exactly the objects with slots`, () => {
      const fixture = promotedList(gcThreads);
      const { vm, t, kept } = fixture;
      const heap = vm.heap;
      expect(kept.length).toBeGreaterThan(0);
      for (const r of kept) expect(heap.regions.kind[r]).toBe(REGION_OLD);
      let withSlots = 0;
      for (const [obj] of walkObjects(heap)) {
        const r = obj >> heap.logRegionWords;
        if (heap.regions.refStartsKept[r] === 0) continue;
        const type = heap.words[obj] >>> 8;
        expect(isMarked(heap.meta.refStarts, obj), `object at ${obj}`).toBe(type === t.tri);
        if (type === t.tri) withSlots++;
      }
      expect(withSlots).toBe(400);
      expect(vm.verifier.check('debug')).toEqual([]);
    });
  }

  it('a pause finds an old-to-young slot through the bits, and loses it when the bit is missing', () => {
    for (const plantBug of [false, true]) {
      const fixture = promotedList(1);
      const { vm, m, t } = fixture;
      const heap = vm.heap;
      const nodes = nodesOf(fixture);
      // a node in the middle of a kept region (not the first object of a card: found by its bit alone)
      const node = nodes.find((n) => heap.regions.refStartsKept[n >> heap.logRegionWords] !== 0 && (n & 127) !== 0 && (n & 127) < 100)!;
      expect(node).toBeDefined();
      const young = m.alloc(t.leaf);
      m.setF64(young, HEADER_WORDS, 42);
      m.setRef(node, 2, young); // an old-to-young store: the barrier dirties the node's card
      if (plantBug) heap.meta.refStarts[node >> 6] &= ~(1 << ((node >> 1) & 31));
      vm.collect('test');
      const moved = m.getRef(node, 2);
      if (!plantBug) {
        expect(moved).not.toBe(young);
        expect(m.getF64(moved, HEADER_WORDS)).toBe(42);
        expect(vm.verifier.check('debug')).toEqual([]);
      } else {
        // the slot was never visited: it still names the young object's old place, in a freed region
        expect(moved).toBe(young);
        expect(vm.verifier.check('debug').join('\n')).toMatch(/free region|ref-starts/);
      }
    }
  });

  it('the verifier reports a missing and a stray bit', () => {
    const fixture = promotedList(1);
    const { vm } = fixture;
    const heap = vm.heap;
    const nodes = nodesOf(fixture);
    const node = nodes.find((n) => heap.regions.refStartsKept[n >> heap.logRegionWords] !== 0)!;
    const bit = 1 << ((node >> 1) & 31);
    heap.meta.refStarts[node >> 6] &= ~bit;
    expect(vm.verifier.check('debug').join('\n')).toMatch(/has slots but no ref-starts bit/);
    heap.meta.refStarts[node >> 6] |= bit;
    expect(vm.verifier.check('debug')).toEqual([]);
    // a bit on a word inside the node (no object starts there)
    const inside = node + 2;
    heap.meta.refStarts[inside >> 6] |= 1 << ((inside >> 1) & 31);
    expect(vm.verifier.check('debug').join('\n')).toMatch(/ref-starts bits for/);
  });

  it('a filler in a kept region clears the bits it covers; a region claimed again is not kept', () => {
    const fixture = promotedList(1);
    const { vm } = fixture;
    const heap = vm.heap;
    const r = fixture.kept[0];
    const bottom = heap.regions.bottom(r);
    const top = heap.regions.top[r];
    expect(countMarks(heap.meta.refStarts, r << heap.logRegionWords, heap.regions.end(r))).toBeGreaterThan(0);
    heap.writeFiller(bottom, top - bottom);
    expect(countMarks(heap.meta.refStarts, r << heap.logRegionWords, heap.regions.end(r))).toBe(0);
    heap.releaseRegion(r);
    expect(heap.regions.refStartsKept[r]).toBe(0);
  });
});
