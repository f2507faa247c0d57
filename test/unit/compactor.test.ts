/**
 * The sliding compactor (vm-core/compactor.ts) and evac's last-ditch full GC:
 * fragmented heaps (interleaved garbage, arrays of mixed sizes, float64 data,
 * humongous ref arrays pointing at small objects) are marked, their dead
 * humongous runs released, and compacted; then the heap verifies at 'extreme',
 * the reachable graph is the same (shapes, data, sharing), fewer regions are
 * used and the used words are exactly the live words.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseCollectionSet } from '../../collectors/region/collection-set.js';
import { evac } from '../../collectors/region/region-collector.js';
import { Compactor } from '../../vm-core/compactor.js';
import { EV_PREPARE } from '../../vm-core/events.js';
import type { Mutator } from '../../vm-core/mutator.js';
import type { RegionAllocator } from '../../vm-core/region-allocator.js';
import { REGION_EDEN, REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD } from '../../vm-core/region-table.js';
import { Tracer } from '../../vm-core/tracer.js';
import { TYPE_DATA_ARRAY, TYPE_REF_ARRAY, TYPE_STRUCT } from '../../vm-core/type-registry.js';
import type { Vm } from '../../vm-core/vm.js';
import { seededRandom, type TestTypes, testVm } from '../kit/fixtures.js';

/** A VM under evac that never collects on its own (the tests build fragmented heaps and compact by hand). */
function quietVm(heapBytes: number) {
  return testVm({ collector: evac, heapBytes, rootSlots: 4096, collectorOptions: { budgetPercent: 100, reservePercent: 0 } });
}

interface NodeShape { type: string; length: number; refs: number[]; data: number[] }

/** The graph reachable from the roots as plain JS: nodes numbered in discovery order, so equal snapshots mean equal shape, data and sharing. */
function snapshot(vm: Vm, m: Mutator): { roots: number[]; nodes: NodeShape[] } {
  const heap = vm.heap;
  const words = heap.words;
  const ids = new Map<number, number>();
  const nodes: NodeShape[] = [];
  const queue: number[] = [];
  const id = (ref: number): number => {
    if (ref === 0) return -1;
    let i = ids.get(ref);
    if (i === undefined) { i = ids.size; ids.set(ref, i); queue.push(ref); }
    return i;
  };
  const roots: number[] = [];
  for (let s = 0; s < m.sp; s++) roots.push(id(m.get(s)));
  while (queue.length > 0) {
    const obj = queue.shift()!;
    const info = heap.types.info(words[obj] >>> 8);
    const node: NodeShape = { type: info.name, length: info.kind === TYPE_STRUCT ? -1 : words[obj + 1], refs: [], data: [] };
    nodes.push(node);
    if (info.kind === TYPE_STRUCT) {
      for (let i = 0; i < info.refs; i++) node.refs.push(words[obj + 2 + i]);
      for (let i = 0; i < info.dataWords; i++) node.data.push(words[obj + info.dataOffset + i]);
    } else if (info.kind === TYPE_REF_ARRAY) {
      for (let i = 0; i < node.length; i++) node.refs.push(words[obj + 2 + i]);
    } else if (info.elementWords === 2) {
      for (let i = 0; i < node.length; i++) node.data.push(heap.f64[(obj + 2 + 2 * i) >> 1]);
    } else {
      for (let i = 0; i < node.length; i++) node.data.push(words[obj + 2 + i]);
    }
    node.refs = node.refs.map(id);
  }
  return { roots, nodes };
}

/** Regions of the compacted kinds holding objects. */
function smallObjectRegions(vm: Vm): number {
  const regions = vm.heap.regions;
  let n = 0;
  for (let r = 0; r < vm.heap.regionCount; r++) {
    const k = regions.kind[r];
    if (k !== REGION_FREE && k !== REGION_HUMONGOUS_START && k !== REGION_HUMONGOUS_CONT && regions.top[r] > regions.bottom(r)) n++;
  }
  return n;
}

/** What a full GC does around the compactor: retire TLABs, mark, release the dead, compact. */
function markAndCompact(vm: Vm, kinds?: number[]) {
  const heap = vm.heap;
  for (const m of vm.mutators) vm.collector.retireTlab(m);
  // as a pause does: the collector stops carving TLABs from its current region (the compactor may free it)
  (vm.collector as unknown as { allocator: RegionAllocator }).allocator.retireRegion();
  const tracer = new Tracer(heap);
  tracer.reset();
  tracer.markRoots(vm.mutators);
  tracer.drain();
  chooseCollectionSet(heap, (ref) => tracer.isMarked(ref), 0, true); // releases dead regions and humongous runs only
  const compactor = new Compactor(heap);
  const result = compactor.compact(vm.mutators, kinds);
  return { result, liveWords: tracer.wordsMarked, compactor };
}

/** Allocates a fragmented graph: live nodes interleaved with garbage, arrays of mixed sizes, float64 data, humongous ref arrays. */
function buildFragmented(m: Mutator, t: TestTypes, vm: Vm, seed: number, count: number) {
  const rnd = seededRandom(seed);
  const dataOf = (ty: number, i: number) => vm.types.dataOffset(ty, i);
  const live = m.push(m.allocArray(t.refs, 0)); // replaced below
  const slots: number[] = [];
  for (let i = 0; i < count; i++) {
    const pick = rnd();
    let obj: number;
    if (pick < 0.3) { obj = m.alloc(t.cons); m.setI32(obj, dataOf(t.cons, 0), i); }
    else if (pick < 0.45) { obj = m.alloc(t.tri); m.setI32(obj, dataOf(t.tri, 3), -i); }
    else if (pick < 0.55) { obj = m.alloc(t.leaf); m.setI32(obj, dataOf(t.leaf, 1), i * 7); }
    else if (pick < 0.7) {
      const n = Math.floor(rnd() * 60);
      obj = m.allocArray(t.f64s, n);
      for (let k = 0; k < n; k++) m.setF64(obj, 2 + 2 * k, i + k / 8);
    } else if (pick < 0.85) {
      const n = Math.floor(rnd() * 200);
      obj = m.allocArray(t.i32s, n);
      for (let k = 0; k < n; k++) m.setI32(obj, 2 + k, i ^ k);
    } else obj = m.allocArray(t.refs, Math.floor(rnd() * 40));
    const slot = m.push(obj);
    if (rnd() < 0.45) slots.push(slot); // live; the rest is garbage once its root is cleared
  }
  // humongous ref arrays (a dead one too) pointing at small live objects
  const hugeLive = m.push(m.allocArray(t.refs, 700));
  m.push(m.allocArray(t.refs, 600)); // dead after the roots are cleared
  for (const s of slots) {
    const obj = m.get(s);
    const refs = vm.heap.refCount(obj);
    for (let k = 0; k < refs; k++) if (rnd() < 0.7) m.setRef(obj, k, m.get(slots[Math.floor(rnd() * slots.length)]));
  }
  for (let k = 0; k < 700; k += 3) m.setRef(m.get(hugeLive), k, m.get(slots[Math.floor(rnd() * slots.length)]));
  // keep: the huge array, and every live node through one ref array held by the first root
  const keep = m.allocArray(t.refs, slots.length);
  for (let k = 0; k < slots.length; k++) m.setRef(keep, k, m.get(slots[k]));
  m.set(live, keep);
  const huge = m.get(hugeLive);
  m.popFrame(live + 1);
  m.push(huge);
  m.push(0);
  m.push(m.getRef(keep, 0));
}

describe('Compactor', () => {
  it('compacts a fragmented heap: verifies at extreme, same graph, fewer regions, used words = live words', () => {
    const { vm, m, t } = quietVm(512 * 1024);
    buildFragmented(m, t, vm, 7, 1500);
    vm.verifyNow('before compaction', 'extreme');
    const before = snapshot(vm, m);
    const regionsBefore = smallObjectRegions(vm);
    const { result, liveWords, compactor } = markAndCompact(vm);
    vm.verifyNow('after compaction', 'extreme');
    expect(snapshot(vm, m)).toEqual(before);
    expect(result.objectsMoved).toBeGreaterThan(0);
    expect(result.regionsBefore).toBe(regionsBefore);
    expect(smallObjectRegions(vm)).toBe(result.regionsAfter);
    expect(result.regionsAfter).toBeLessThan(regionsBefore);
    expect(result.regionsFreed).toBe(regionsBefore - result.regionsAfter);
    expect(vm.heap.usedWords()).toBe(liveWords);
    expect(vm.heap.accountedWords).toBe(liveWords);
    expect(compactor.referencesFixed).toBeGreaterThan(0);
    // region 0 (bottom 2) is the first destination and holds objects
    expect(vm.heap.regions.kind[0]).toBe(REGION_OLD);
    expect(vm.heap.regions.top[0]).toBeGreaterThan(2);
    // the mark bitmap now marks the objects at their new addresses
    const tracer = new Tracer(vm.heap);
    for (let r = 0; r < vm.heap.regionCount; r++) {
      if (vm.heap.regions.kind[r] !== REGION_OLD) continue;
      for (let obj = vm.heap.regions.bottom(r); obj < vm.heap.regions.top[r]; obj += vm.heap.sizeOf(obj)) expect(tracer.isMarked(obj)).toBe(true);
    }
    // the collector carries on from the compacted heap
    const slot = m.push(m.alloc(t.cons));
    vm.collect('explicit');
    expect(vm.heap.words[m.get(slot)] >>> 8).toBe(t.cons);
    vm.verifyNow('after a pause', 'extreme');
  });

  it('region 0 holding objects at its bottom (word 2) slides in place and stays the first region', () => {
    const { vm, m, t } = quietVm(64 * 1024);
    const a = m.push(m.alloc(t.cons));
    expect(m.get(a)).toBe(2);
    m.push(m.alloc(t.leaf)); // becomes garbage
    const b = m.push(m.alloc(t.cons));
    m.setRef(m.get(b), 0, m.get(a));
    m.setI32(m.get(b), vm.types.dataOffset(t.cons, 1), 42);
    m.set(1, 0);
    const before = snapshot(vm, m);
    const { result } = markAndCompact(vm);
    vm.verifyNow('after compaction', 'extreme');
    expect(m.get(a)).toBe(2);
    expect(m.get(b)).toBe(8); // slid over the dead leaf
    expect(result.objectsMoved).toBe(1);
    expect(vm.heap.regions.top[0]).toBe(14);
    expect(snapshot(vm, m)).toEqual(before);
  });

  it('compacts only the kinds given, fixing references from the regions it keeps and filling their dead objects', () => {
    const { vm, m, t } = quietVm(128 * 1024);
    buildFragmented(m, t, vm, 11, 800);
    vm.verifyNow('before', 'extreme');
    const before = snapshot(vm, m);
    // retag every other used region as eden; only those are compacted
    const heap = vm.heap;
    const eden: number[] = [];
    let n = 0;
    for (let r = 0; r < heap.regionCount; r++) {
      if (heap.regions.kind[r] === REGION_OLD && n++ % 2 === 1) { heap.regions.kind[r] = REGION_EDEN; eden.push(r); }
    }
    expect(eden.length).toBeGreaterThan(2);
    const { result } = markAndCompact(vm, [REGION_EDEN]);
    vm.verifyNow('after', 'extreme');
    expect(snapshot(vm, m)).toEqual(before);
    expect(result.regionsBefore).toBe(eden.length);
    expect(result.regionsAfter).toBeLessThan(eden.length);
    expect(result.regionsAfter).toBeGreaterThan(0);
    for (let r = 0; r < heap.regionCount; r++) expect(heap.regions.kind[r]).not.toBe(REGION_EDEN);
  });

  it('a heap with nothing live releases every compacted region', () => {
    const { vm, m, t } = quietVm(64 * 1024);
    for (let i = 0; i < 500; i++) m.alloc(t.tri);
    const { result } = markAndCompact(vm);
    vm.verifyNow('after', 'extreme');
    expect(result.regionsAfter).toBe(0);
    expect(vm.heap.usedWords()).toBe(0);
    expect(vm.heap.free.length).toBe(vm.heap.regionCount);
  });

  it('property: random graphs keep their shape, data and sharing, and use only their live words (200 runs)', () => {
    const nodeArb = fc.record({
      kind: fc.integer({ min: 0, max: 20 }), // 20: a humongous ref array, else kind % 6
      length: fc.integer({ min: 0, max: 90 }),
      live: fc.boolean(),
      edges: fc.array(fc.nat(), { maxLength: 6 }),
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 160 }), fc.array(fc.nat(), { maxLength: 8 }), (nodes, rootPicks) => {
        const { vm, m, t } = quietVm(512 * 1024);
        const typeOf = [t.leaf, t.cons, t.tri, t.refs, t.i32s, t.f64s];
        const base = m.sp;
        nodes.forEach((nd, i) => {
          const ty = nd.kind === 20 ? t.refs : typeOf[nd.kind % 6];
          const kind = vm.types.kind[ty];
          const length = nd.kind === 20 ? 520 + nd.length : nd.length;
          const obj = kind === TYPE_STRUCT ? m.alloc(ty) : m.allocArray(ty, length);
          if (kind === TYPE_STRUCT) {
            const info = vm.types.info(ty);
            for (let k = 0; k < info.dataWords; k++) m.setI32(obj, info.dataOffset + k, nd.seed ^ (k * 31 + i));
          } else if (kind === TYPE_DATA_ARRAY) {
            for (let k = 0; k < length; k++) {
              if (vm.types.elementWords[ty] === 2) m.setF64(obj, 2 + 2 * k, nd.seed / 3 + k);
              else m.setI32(obj, 2 + k, nd.seed + k);
            }
          }
          m.push(obj);
        });
        nodes.forEach((nd, i) => {
          const obj = m.get(base + i);
          const refs = vm.heap.refCount(obj);
          nd.edges.forEach((e, k) => { if (refs > 0) m.setRef(obj, (k * 7 + e) % refs, m.get(base + (e % nodes.length))); });
        });
        nodes.forEach((nd, i) => { if (!nd.live) m.set(base + i, 0); });
        for (const p of rootPicks) m.push(m.get(base + (p % nodes.length)));
        const before = snapshot(vm, m);
        const regionsBefore = smallObjectRegions(vm);
        const { result, liveWords } = markAndCompact(vm);
        vm.verifyNow('after compaction', 'extreme');
        expect(snapshot(vm, m)).toEqual(before);
        expect(vm.heap.usedWords()).toBe(liveWords);
        expect(result.regionsAfter).toBeLessThanOrEqual(regionsBefore);
      }),
      { numRuns: 200 },
    );
  });
});

describe('evac last-ditch full GC', () => {
  it('a heap of 60%-live regions with no free region gets its allocation through only by compacting', () => {
    const { vm, m, t } = testVm({ collector: evac, heapBytes: 64 * 1024, verify: 'debug', collectorOptions: { budgetPercent: 100, reservePercent: 0 } });
    const kinds: Array<{ cause?: string; kind?: string }> = [];
    let cause = '';
    const counts: Record<string, number> = {};
    vm.events.subscribe({
      pauseEvent: (name, _t, detail) => {
        if (name === 'requested') cause = detail.cause ?? '';
        if (name === EV_PREPARE) kinds.push({ cause, kind: detail.kind });
      },
      phaseEnd() {},
      count: (n, v) => { counts[n] = (counts[n] ?? 0) + v; },
      reclassify() {},
      concurrent() {},
    });
    // 16 regions of 170 six-word conses each: 3 of every 5 stay live on a chain
    const head = m.push(0);
    const perRegion = 170;
    const total = Math.floor(1022 / 6) + 15 * perRegion;
    let live = 0;
    for (let i = 0; i < total; i++) {
      const o = m.alloc(t.cons);
      m.setI32(o, vm.types.dataOffset(t.cons, 0), i);
      if (i % 5 < 3) { m.setRef(o, 0, m.get(head)); m.set(head, o); live++; }
    }
    expect(kinds).toEqual([]);
    expect(vm.heap.free.length).toBe(0);
    const extra = m.alloc(t.cons); // no room: evacuation finds no to-space; only the full GC makes room
    m.setRef(extra, 0, m.get(head));
    m.set(head, extra);
    expect(kinds.map((k) => k.kind)).toContain('full');
    expect(kinds.find((k) => k.kind === 'full')!.cause).toBe('last-ditch');
    expect(kinds[0].kind).toBe('evacuation');
    expect(counts.bytesMoved).toBeGreaterThan(0);
    expect(vm.heap.free.length).toBeGreaterThan(4);
    vm.verifyNow('after the full GC', 'extreme');
    // the chain is intact: newest first, values i with i % 5 < 3
    let n = 0;
    let expected = total - 1;
    for (let o = m.getRef(m.get(head), 0); o !== 0; o = m.getRef(o, 0)) {
      while (expected % 5 >= 3) expected--;
      expect(m.getI32(o, vm.types.dataOffset(t.cons, 0))).toBe(expected);
      expected--;
      n++;
    }
    expect(n).toBe(live);
  });
});
