/**
 * Allocation (vm-core/mutator.ts, vm-core/region-allocator.ts, the VM's slow
 * path): bump-pointer allocation in a TLAB, zeroed fields even in recycled
 * memory, arrays, TLAB refill and retirement (tail given back or covered by a
 * filler), a struct that crosses a card boundary, and the usage errors of the
 * slow path.
 */
import { describe, expect, it } from 'vitest';
import { evac } from '../../collectors/region/region-collector.js';
import { UsageError } from '../../vm-core/errors.js';
import { ARRAY_BASE, CARD_WORDS, LOG_CARD_WORDS, REF_BASE } from '../../vm-core/layout.js';
import { FILLER_TYPE_ID } from '../../vm-core/type-registry.js';
import { testVm, walkObjects } from '../kit/fixtures.js';

describe('TLAB bump allocation', () => {
  it('places consecutive objects back to back inside the TLAB', () => {
    const { vm, m, t } = testVm();
    const a = m.alloc(t.cons);
    const b = m.alloc(t.tri);
    const c = m.alloc(t.leaf);
    expect(b).toBe(a + vm.types.sizeWords[t.cons]);
    expect(c).toBe(b + vm.types.sizeWords[t.tri]);
    expect(m.top).toBe(c + vm.types.sizeWords[t.leaf]);
    expect(m.limit).toBeGreaterThan(m.top);
    expect(vm.heap.regionOf(a)).toBe(vm.heap.regionOf(m.limit - 1));
  });

  it('writes the header: type id, and 0 (structs) or the length (arrays) in word 1', () => {
    const { vm, m, t } = testVm();
    const s = m.alloc(t.tri);
    const arr = m.allocArray(t.refs, 5);
    expect(vm.heap.words[s] >>> 8).toBe(t.tri);
    expect(vm.heap.words[s + 1]).toBe(0);
    expect(vm.heap.words[arr] >>> 8).toBe(t.refs);
    expect(m.arrayLength(arr)).toBe(5);
  });
});

describe('zeroed fields', () => {
  it('fresh structs and arrays read as null and 0', () => {
    const { vm, m, t } = testVm();
    const s = m.alloc(t.tri);
    for (let i = 0; i < 3; i++) expect(m.getRef(s, i)).toBe(0);
    for (let i = 0; i < 4; i++) expect(m.getI32(s, vm.types.dataOffset(t.tri, i))).toBe(0);
    const refs = m.allocArray(t.refs, 7);
    for (let i = 0; i < 7; i++) expect(m.getRef(refs, i)).toBe(0);
    const f64 = m.allocArray(t.f64s, 4);
    for (let i = 0; i < 4; i++) expect(m.getF64(f64, ARRAY_BASE + 2 * i)).toBe(0);
  });

  it('memory recycled by a collection is zeroed again before it holds new objects', () => {
    // pre-touched, so the mutator takes the lowest free regions, the ones just freed, not fresh ones (Heap: residency)
    const { vm, m, t } = testVm({ collector: evac, pretouch: true });
    // fill some regions with non-zero garbage
    const used = new Set<number>();
    for (let k = 0; k < 600; k++) {
      const o = m.alloc(t.tri);
      used.add(vm.heap.regionOf(o));
      for (let i = 0; i < 3; i++) vm.heap.words[o + REF_BASE + i] = -1;
      for (let i = 0; i < 4; i++) m.setI32(o, vm.types.dataOffset(t.tri, i), 0x5a5a5a5a);
    }
    vm.collect('explicit');
    let recycled = 0;
    for (let k = 0; k < 600; k++) {
      const o = m.alloc(t.tri);
      if (used.has(vm.heap.regionOf(o))) recycled++;
      for (let i = 0; i < 3; i++) expect(m.getRef(o, i)).toBe(0);
      for (let i = 0; i < 4; i++) expect(m.getI32(o, vm.types.dataOffset(t.tri, i))).toBe(0);
    }
    expect(recycled).toBeGreaterThan(0);
  });
});

describe('arrays', () => {
  it('allocates empty and non-empty arrays of every kind', () => {
    const { vm, m, t } = testVm();
    for (const [type, len, words] of [[t.refs, 0, 2], [t.refs, 3, 6], [t.i32s, 5, 8], [t.f64s, 3, 8]]) {
      const a = m.allocArray(type, len);
      expect(m.arrayLength(a)).toBe(len);
      expect(vm.heap.sizeOf(a)).toBe(words);
    }
    vm.verifyNow();
  });

  it('reports mixing up struct and array allocation as usage errors', () => {
    const { m, t } = testVm();
    expect(() => m.allocArray(t.cons, 3)).toThrow(UsageError);
    expect(() => m.alloc(t.refs)).toThrow(UsageError);
    expect(() => m.allocArray(t.refs, -1)).toThrow(UsageError);
    expect(() => m.allocArray(t.refs, 1.5)).toThrow(UsageError);
    expect(() => m.alloc(999)).toThrow(UsageError);
  });
});

describe('TLAB refill and retirement', () => {
  it('refills a small TLAB seamlessly: the exhausted TLAB\'s tail is given back, the next starts there', () => {
    const { vm, m, t } = testVm({ collectorOptions: { tlabWords: 64 } });
    const size = vm.types.sizeWords[t.cons]; // 6: 64 is not a multiple, so each TLAB leaves a tail
    let prev = m.alloc(t.cons);
    let limit = m.limit;
    let refills = 0;
    for (let k = 0; k < 100; k++) {
      const o = m.alloc(t.cons);
      if (m.limit !== limit) { refills++; limit = m.limit; }
      expect(o).toBe(prev + size);
      prev = o;
    }
    expect(refills).toBeGreaterThanOrEqual(8);
    vm.verifyNow();
    expect(vm.heap.accountedWords).toBe(vm.heap.usedWords());
  });

  it('covers a retired TLAB\'s tail with a filler when another TLAB follows it in the region', () => {
    const { vm, m, t } = testVm({ collectorOptions: { tlabWords: 64 } });
    const other = vm.newMutator();
    m.alloc(t.cons);
    const otherFirst = other.alloc(t.cons); // other's TLAB is carved after m's
    expect(otherFirst).toBe(m.limit);
    const firstLimit = m.limit;
    for (let k = 0; k < 20; k++) m.alloc(t.cons); // exhausts m's TLAB, whose end is not the region's top
    const tail = walkObjects(vm.heap).find(([obj, size]) => obj + size === firstLimit);
    expect(tail).toBeDefined();
    const [tailStart, tailWords] = tail!;
    expect(tailWords).toBe(64 % vm.types.sizeWords[t.cons]);
    expect(vm.heap.words[tailStart] >>> 8).toBe(FILLER_TYPE_ID);
    vm.verifyNow();
  });
});

describe('card boundaries', () => {
  it('a struct crossing a card boundary is recorded for the card it covers', () => {
    const { vm, m, t } = testVm();
    const size = vm.types.sizeWords[t.tri]; // 10 words: some land across a 128-word card boundary
    let crossing = 0;
    for (let k = 0; k < 200; k++) {
      const o = m.alloc(t.tri);
      const firstCard = (o + CARD_WORDS - 1) >> LOG_CARD_WORDS;
      const lastCard = (o + size - 1) >> LOG_CARD_WORDS;
      for (let c = firstCard; c <= lastCard; c++) {
        expect(vm.heap.objectCoveringCard(c)).toBe(o);
        crossing++;
      }
    }
    expect(crossing).toBeGreaterThan(5);
  });
});
