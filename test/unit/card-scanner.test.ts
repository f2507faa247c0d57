/**
 * Card scanning and refinement (collectors/region/card-scanner.ts) and the
 * remembered-set completeness check (collectors/region/remset-completeness.ts),
 * on a 256 KiB heap of 4 KiB regions (8 cards each) under epsilon with the card
 * post-write barrier on, its full dirty-card buffers going to a DirtyCardQueue:
 *
 *   - scanCardSlots visits exactly the non-null slots whose address lies in the
 *     card, for every card of a random heap (objects straddling card boundaries,
 *     a humongous ref array spanning three regions);
 *   - refinement records exactly the cross-region references into tracked
 *     regions (the oracle is a brute-force heap walk), cleans every card, leaves
 *     young cards YOUNG and unscanned, and skips free and collection-set regions;
 *   - the completeness check passes on a refined heap and on dirty (queued)
 *     cards, and catches a store that skipped the barrier.
 */
import { describe, expect, it } from 'vitest';
import { CardScanner, type CardSlotVisitor, scanCardSlots } from '../../collectors/region/card-scanner.js';
import { DirtyCardQueue } from '../../collectors/region/dirty-card-queue.js';
import { type RemsetRepresentation, createRememberedSets } from '../../collectors/region/remembered-sets.js';
import { checkRemsetCompleteness } from '../../collectors/region/remset-completeness.js';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import type { CollectorPlugin } from '../../vm-core/collector.js';
import type { Heap } from '../../vm-core/heap.js';
import { CARD_WORDS, HEADER_WORDS, LOG_CARD_WORDS } from '../../vm-core/layout.js';
import { REGION_EDEN, REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START } from '../../vm-core/region-table.js';
import { CARD_CLEAN, CARD_DIRTY, CARD_YOUNG } from '../../vm-core/side-metadata.js';
import { seededRandom, testVm, walkObjects, withBarriers } from '../kit/fixtures.js';

const CARD = { preWrite: 'none', postWrite: 'card', read: 'none' } as const;
const REGION_WORDS = 1024;

/** epsilon + card barrier on 256 KiB / 4 KiB regions, its dirty-card buffers pushed onto a queue. */
function cardVm(kind: RemsetRepresentation = 'bitmap') {
  const queue = new DirtyCardQueue();
  const base = withBarriers(epsilon, CARD);
  const plugin: CollectorPlugin = {
    ...base,
    create: (vm, options) => {
      const c = base.create(vm, options);
      c.onDirtyCards = (cards, n) => queue.push(cards, n);
      return c;
    },
  };
  const f = testVm({ heapBytes: 256 * 1024, regionBytes: 4096, collector: plugin });
  const heap = f.vm.heap;
  const remsets = createRememberedSets(kind, heap);
  const scanner = new CardScanner(heap, remsets);
  /** Flushes the mutator's dirty-card buffer onto the queue and refines everything. */
  const refineAll = () => {
    f.vm.dirtyCardBufferFull(f.m);
    return scanner.refine(queue, Number.MAX_SAFE_INTEGER);
  };
  return { ...f, heap, queue, remsets, scanner, refineAll };
}

/** Every non-null reference slot of the heap as [slot, ref, source object]. */
function allSlots(heap: Heap): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  for (const [obj] of walkObjects(heap)) {
    const n = heap.refCount(obj);
    for (let s = obj + HEADER_WORDS; s < obj + HEADER_WORDS + n; s++) if (heap.words[s] !== 0) out.push([s, heap.words[s], obj]);
  }
  return out;
}

/** Expected remembered sets: target -> sorted cards, from a brute-force walk. */
function expectedRemsets(heap: Heap, tracked: Uint8Array): Map<number, number[]> {
  const sets = new Map<number, Set<number>>();
  for (const [slot, ref, obj] of allSlots(heap)) {
    const t = heap.regionOf(ref);
    if (tracked[t] !== 1 || t === heap.regionOf(obj)) continue;
    if (!sets.has(t)) sets.set(t, new Set());
    sets.get(t)!.add(slot >> LOG_CARD_WORDS);
  }
  return new Map([...sets].map(([t, s]) => [t, [...s].sort((a, b) => a - b)]));
}

/** A random heap: ~3000 objects of every shape, a humongous ref array of 3 regions, ~2500 random stores (through the barrier). */
function randomHeap(f: ReturnType<typeof cardVm>, seed: number) {
  const { m, t, heap } = f;
  const rnd = seededRandom(seed);
  const objs: number[] = [];
  let humongous = 0;
  while (heap.usedWords() < 30_000) {
    const p = rnd();
    if (objs.length === 1500 && humongous === 0) {
      humongous = m.allocArray(t.refs, 2 * REGION_WORDS + 400);
      objs.push(humongous);
    } else if (p < 0.35) objs.push(m.alloc(t.tri));
    else if (p < 0.6) objs.push(m.alloc(t.cons));
    else if (p < 0.75) objs.push(m.allocArray(t.refs, 1 + Math.floor(rnd() * 60)));
    else if (p < 0.9) objs.push(m.alloc(t.leaf));
    else objs.push(m.allocArray(t.i32s, Math.floor(rnd() * 30)));
  }
  const withRefs = objs.filter((o) => heap.refCount(o) > 0);
  const pick = () => objs[Math.floor(rnd() * objs.length)];
  for (let i = 0; i < 2500; i++) {
    const o = i % 5 === 0 ? humongous : withRefs[Math.floor(rnd() * withRefs.length)];
    const slot = Math.floor(rnd() * heap.refCount(o));
    m.setRef(o, slot, rnd() < 0.1 ? 0 : i % 7 === 0 ? o : i % 41 === 1 ? humongous : pick());
  }
  return { objs, humongous };
}

class CollectingVisitor implements CardSlotVisitor {
  seen: Array<[number, number]> = [];
  visitSlot(slot: number, ref: number): void { this.seen.push([slot, ref]); }
}

describe('scanCardSlots', () => {
  it('visits exactly the non-null slots inside each card, for every card of a random heap', () => {
    const f = cardVm();
    const { humongous } = randomHeap(f, 1);
    const heap = f.heap;
    f.vm.verifyNow(); // retire the TLAB: every region parses to its top
    const bySlotCard = new Map<number, Array<[number, number]>>();
    for (const [slot, ref] of allSlots(heap)) {
      const c = slot >> LOG_CARD_WORDS;
      if (!bySlotCard.has(c)) bySlotCard.set(c, []);
      bySlotCard.get(c)!.push([slot, ref]);
    }
    const visitor = new CollectingVisitor();
    let straddlingCards = 0;
    let humongousCards = 0;
    for (let c = 0; c < heap.heapWords / CARD_WORDS; c++) {
      visitor.seen = [];
      const n = scanCardSlots(heap, c, visitor);
      expect(n).toBe(visitor.seen.length);
      expect(visitor.seen).toEqual(bySlotCard.get(c) ?? []);
      const kind = heap.regions.kind[heap.regionOf(c << LOG_CARD_WORDS)];
      if (kind === REGION_FREE) expect(n).toBe(0);
      if (kind === REGION_HUMONGOUS_CONT && n > 0) humongousCards++;
      if (n > 0 && heap.objectCoveringCard(c) < c << LOG_CARD_WORDS && visitor.seen[0][0] < heap.objectCoveringCard(c) + HEADER_WORDS + heap.refCount(heap.objectCoveringCard(c))) straddlingCards++;
    }
    expect(heap.regions.kind[heap.regionOf(humongous)]).toBe(REGION_HUMONGOUS_START);
    expect(humongousCards).toBeGreaterThan(4); // slots of the humongous array in its CONT regions
    expect(straddlingCards).toBeGreaterThan(10); // first visited slot belongs to an object begun on an earlier card
  });
});

describe.each<RemsetRepresentation>(['bitmap', 'sparse'])('refinement into %s remembered sets', (kind) => {
  it('records exactly the cross-region references into tracked regions, and cleans every card', () => {
    const f = cardVm(kind);
    const { heap, remsets, scanner } = f;
    const { humongous } = randomHeap(f, 7);
    const hRegion = heap.regionOf(humongous);
    for (let r = 0; r < heap.regionCount; r++) if (r % 3 === 0 || r === hRegion) remsets.track(r);
    expect(f.queue.length + f.m.dirtyCardCount).toBeGreaterThan(100);
    const refined = f.refineAll();
    expect(refined).toBe(scanner.cardsRefined);
    expect(f.queue.length).toBe(0);
    for (let c = 0; c < heap.meta.cards.length; c++) expect(heap.meta.cards[c]).toBe(CARD_CLEAN);
    const expected = expectedRemsets(heap, remsets.tracked);
    expect(expected.size).toBeGreaterThan(5);
    expect(expected.has(hRegion)).toBe(true); // references to the humongous array were recorded
    for (let r = 0; r < heap.regionCount; r++) {
      const { cards, count } = remsets.collectCards(r, new Int32Array(0));
      expect(Array.from(cards.subarray(0, count)).sort((a, b) => a - b)).toEqual(expected.get(r) ?? []);
    }
    let refs = 0;
    for (const [slot, ref, obj] of allSlots(heap)) {
      const t = heap.regionOf(ref);
      if (remsets.tracked[t] === 1 && t !== heap.regionOf(obj)) refs++;
      // the humongous array's self-references (from its CONT regions too) are never recorded for it
      if (obj === humongous && ref === humongous) expect(remsets.contains(hRegion, slot >> LOG_CARD_WORDS) && !expected.get(hRegion)!.includes(slot >> LOG_CARD_WORDS)).toBe(false);
    }
    expect(scanner.referencesFound).toBe(refs);
    expect(scanner.cardsScanned).toBe(refined);
    const problems: string[] = [];
    checkRemsetCompleteness(heap, remsets, problems);
    expect(problems).toEqual([]);
  });
});

describe('refineCard', () => {
  it('records the card holding the slot, also for objects straddling a card boundary and a humongous array', () => {
    const { m, t, heap, remsets, queue, scanner, refineAll } = cardVm('sparse');
    // a Tri (10 words, slots at +2..+4) whose slots straddle a card boundary: start 2 words before the boundary
    const first = m.alloc(t.leaf);
    while (m.top % CARD_WORDS !== CARD_WORDS - 2 || m.limit - m.top < 10) m.allocArray(t.i32s, 0); // 2 words each, until m.top = boundary - 2
    const tri = m.alloc(t.tri);
    const boundary = tri + 2;
    expect(boundary % CARD_WORDS).toBe(0);
    // targets in two other regions
    const a = heap.claimRegion(REGION_EDEN);
    const b = heap.claimRegion(REGION_EDEN);
    const aObj = heap.regions.bottom(a);
    const bObj = heap.regions.bottom(b);
    heap.writeFiller(aObj, 4);
    heap.writeFiller(bObj, 4); // object starts (the scanner does not look at targets)
    remsets.track(a);
    remsets.track(b);
    m.setRef(tri, 0, aObj); // word tri+2 = boundary: the NEXT card
    m.setRef(tri, 1, bObj); // word tri+3: next card too
    refineAll();
    const next = boundary >> LOG_CARD_WORDS;
    expect(heap.regionOf(tri)).toBe(heap.regionOf(first));
    expect(heap.objectCoveringCard(next)).toBe(tri);
    expect([...remsets.collectCards(a, new Int32Array(4)).cards.subarray(0, 1)]).toEqual([next]);
    expect(remsets.entryCount(a)).toBe(1);
    expect(remsets.contains(b, next)).toBe(true);
    expect(remsets.contains(a, next - 1)).toBe(false);
    // a humongous ref array of 3 regions: a slot in each region
    const h = m.allocArray(t.refs, 2 * REGION_WORDS + 100);
    const hr = heap.regionOf(h);
    const slots = [5, REGION_WORDS + 200, 2 * REGION_WORDS + 50];
    for (const i of slots) m.setRef(h, i, aObj);
    m.setRef(h, 3 * 128, h); // self-reference: not recorded even when h's region is tracked
    m.setRef(h, REGION_WORDS + 3 * 128, h); // the same from a CONT region
    remsets.track(hr);
    scanner.resetCounters();
    refineAll();
    expect(scanner.cardsRefined).toBe(4); // 3 slots + the CONT self-reference (the barrier filters the START one: same region)
    expect(scanner.referencesFound).toBe(3);
    for (const i of slots) expect(remsets.contains(a, (h + HEADER_WORDS + i) >> LOG_CARD_WORDS)).toBe(true);
    expect(remsets.entryCount(a)).toBe(4);
    expect(remsets.isEmpty(hr)).toBe(true);
    expect(heap.regions.kind[hr + 1]).toBe(REGION_HUMONGOUS_CONT);
    expect(queue.length).toBe(0);
  });

  it('young cards become YOUNG unscanned; free and collection-set cards are cleaned unscanned', () => {
    const { m, t, heap, remsets, queue, scanner } = cardVm();
    const o = m.alloc(t.tri);
    const target = heap.claimRegion(REGION_EDEN);
    heap.writeFiller(heap.regions.bottom(target), 4);
    remsets.track(target);
    const card = (o + HEADER_WORDS) >> LOG_CARD_WORDS;
    const src = heap.regionOf(o);
    m.setRef(o, 0, heap.regions.bottom(target));
    expect(heap.meta.cards[card]).toBe(CARD_DIRTY);
    // in the collection set: cleaned, not scanned
    heap.regions.inCset[src] = 1;
    scanner.refineCard(card);
    heap.regions.inCset[src] = 0;
    expect(heap.meta.cards[card]).toBe(CARD_CLEAN);
    expect(scanner.cardsScanned).toBe(0);
    expect(remsets.isEmpty(target)).toBe(true);
    // a young source region: YOUNG, not scanned
    heap.regions.kind[src] = REGION_EDEN;
    heap.meta.cards[card] = CARD_DIRTY;
    queue.pushOne(card);
    expect(scanner.refine(queue, 10)).toBe(1);
    expect(heap.meta.cards[card]).toBe(CARD_YOUNG);
    expect(scanner.cardsScanned).toBe(0);
    expect(remsets.isEmpty(target)).toBe(true);
    // a free region's card
    let free = heap.regionCount - 1;
    while (heap.regions.kind[free] !== REGION_FREE) free--;
    const freeCard = heap.regions.bottom(free) >> LOG_CARD_WORDS;
    heap.meta.cards[freeCard] = CARD_DIRTY;
    scanner.refineCard(freeCard);
    expect(heap.meta.cards[freeCard]).toBe(CARD_CLEAN);
    expect(scanner.cardsScanned).toBe(0);
    expect(scanner.cardsRefined).toBe(3);
    // refine(queue, max) stops at max
    for (let i = 0; i < 5; i++) queue.pushOne(freeCard);
    expect(scanner.refine(queue, 3)).toBe(3);
    expect(queue.length).toBe(2);
  });
});

describe('remembered-set completeness', () => {
  it('passes on a refined heap and with dirty queued cards; catches a store that skipped the barrier', () => {
    const f = cardVm('bitmap');
    const { heap, remsets } = f;
    const { objs } = randomHeap(f, 3);
    for (let r = 0; r < heap.regionCount; r++) if (r % 2 === 1) remsets.track(r);
    // before refinement: every cross-region store lies on a dirty card
    const before: string[] = [];
    checkRemsetCompleteness(heap, remsets, before);
    expect(before).toEqual([]);
    f.refineAll();
    const after: string[] = [];
    checkRemsetCompleteness(heap, remsets, after);
    expect(after).toEqual([]);

    // a store that skips the barrier: from an old object into a tracked region, onto a card not in its set
    let bad: { slot: number; target: number } | null = null;
    for (const o of objs) {
      const r = heap.regionOf(o);
      if (heap.refCount(o) === 0 || heap.regions.kind[r] === REGION_HUMONGOUS_START) continue;
      const slot = o + HEADER_WORDS;
      const target = objs.find((x) => remsets.tracked[heap.regionOf(x)] === 1 && heap.regionOf(x) !== r && !remsets.contains(heap.regionOf(x), slot >> LOG_CARD_WORDS));
      if (target !== undefined) { heap.words[slot] = target; bad = { slot, target }; break; }
    }
    expect(bad).not.toBeNull();
    const problems: string[] = [];
    checkRemsetCompleteness(heap, remsets, problems);
    expect(problems.length).toBe(1);
    expect(problems[0]).toContain(`(word ${bad!.slot}, card ${bad!.slot >> LOG_CARD_WORDS}`);
    expect(problems[0]).toContain(`points to ${bad!.target} in tracked region ${heap.regionOf(bad!.target)}`);

    // exempt: the store's card is dirty (still queued), or its source is young, or in the collection set, or the objects are not live
    const card = bad!.slot >> LOG_CARD_WORDS;
    const src = heap.regionOf(bad!.slot);
    const check = (options = {}) => { const p: string[] = []; checkRemsetCompleteness(heap, remsets, p, options); return p; };
    heap.meta.cards[card] = CARD_DIRTY;
    expect(check()).toEqual([]);
    heap.meta.cards[card] = CARD_CLEAN;
    heap.regions.inCset[src] = 1;
    expect(check()).toEqual([]);
    heap.regions.inCset[src] = 0;
    const kind = heap.regions.kind[src];
    heap.regions.kind[src] = REGION_EDEN;
    expect(check()).toEqual([]);
    heap.regions.kind[src] = kind;
    expect(check({ isLive: (obj: number) => obj !== bad!.slot - HEADER_WORDS })).toEqual([]);
    expect(check().length).toBe(1);
    // refining the card repairs it
    heap.meta.cards[card] = CARD_DIRTY;
    f.queue.pushOne(card);
    f.scanner.refine(f.queue, 1);
    expect(check()).toEqual([]);
    expect(remsets.contains(heap.regionOf(bad!.target), card)).toBe(true);
  });

  it('caps the report', () => {
    const f = cardVm('sparse');
    const { heap, remsets, m, t } = f;
    const objs = Array.from({ length: 200 }, () => m.alloc(t.cons));
    const target = heap.claimRegion(REGION_EDEN);
    heap.writeFiller(heap.regions.bottom(target), 4);
    remsets.track(target);
    for (const o of objs) heap.words[o + HEADER_WORDS] = heap.regions.bottom(target);
    const problems: string[] = [];
    checkRemsetCompleteness(heap, remsets, problems);
    expect(problems.length).toBe(20);
  });
});
