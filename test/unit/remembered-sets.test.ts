/**
 * Remembered sets (collectors/region/remembered-sets.ts) and the dirty-card
 * queue: both representations record cards per tracked target, ignore
 * untracked targets and same-region cards, are idempotent; the sparse one
 * moves from sparse arrays to card bitmaps to whole coarse source regions;
 * neither ever loses a card (a fast-check property against a plain Set); and
 * committed bytes are measured, grow with the sets and shrink when they are
 * cleared or untracked.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DirtyCardQueue } from '../../collectors/region/dirty-card-queue.js';
import {
  type RememberedSets, type RemsetRepresentation, createRememberedSets, remsetLevels,
} from '../../collectors/region/remembered-sets.js';
import { Heap } from '../../vm-core/heap.js';
import { heapGeometry } from '../../vm-core/sizes.js';

/** 256 KiB of 4 KiB regions: 64 regions of 8 cards. */
const smallHeap = () => new Heap(heapGeometry(256 * 1024, 4096));
/** 1 MiB of 64 KiB regions: 16 regions of 128 cards. */
const bigRegionHeap = () => new Heap(heapGeometry(1024 * 1024, 64 * 1024));

function cardsOf(rs: RememberedSets, target: number): number[] {
  const { cards, count } = rs.collectCards(target, new Int32Array(1));
  return Array.from(cards.subarray(0, count)).sort((a, b) => a - b);
}

describe.each<RemsetRepresentation>(['bitmap', 'sparse'])('%s remembered sets', (kind) => {
  it('record distinct cards of other regions for tracked targets only', () => {
    const heap = smallHeap(); // card c lies in region c >> 3
    const rs = createRememberedSets(kind, heap);
    expect(rs.representation).toBe(kind);
    rs.track(5);
    expect(rs.tracked[5]).toBe(1);
    expect(rs.isEmpty(5)).toBe(true);
    rs.add(5, 8 * 1 + 3);
    rs.add(5, 8 * 1 + 3); // idempotent
    rs.add(5, 8 * 9 + 0);
    rs.add(5, 8 * 9 + 7);
    rs.add(5, 8 * 5 + 2); // a card of the target itself: ignored
    rs.add(6, 8 * 1 + 3); // untracked target: ignored
    expect(rs.entryCount(5)).toBe(3);
    expect(rs.isEmpty(5)).toBe(false);
    expect(cardsOf(rs, 5)).toEqual([11, 72, 79]);
    expect(rs.contains(5, 11)).toBe(true);
    expect(rs.contains(5, 12)).toBe(false);
    expect(rs.contains(5, 42)).toBe(false);
    expect(rs.sourceRegionCount(5)).toBe(2);
    expect(rs.tracked[6]).toBe(0);
    expect(rs.entryCount(6)).toBe(0);
    rs.track(5); // already tracked: the set is kept
    expect(rs.entryCount(5)).toBe(3);
    rs.clear(5);
    expect(rs.isEmpty(5)).toBe(true);
    expect(cardsOf(rs, 5)).toEqual([]);
    expect(rs.tracked[5]).toBe(1);
    rs.add(5, 100);
    expect(cardsOf(rs, 5)).toEqual([100]);
    rs.untrack(5);
    expect(rs.tracked[5]).toBe(0);
    expect(rs.isEmpty(5)).toBe(true);
    rs.add(5, 100);
    expect(rs.isEmpty(5)).toBe(true);
  });

  it('collectCards grows the output array when it is too small, and reuses it when not', () => {
    const heap = bigRegionHeap();
    const rs = createRememberedSets(kind, heap);
    rs.track(0);
    for (let c = 128; c < 128 + 100; c++) rs.add(0, c);
    const small = new Int32Array(4);
    const grown = rs.collectCards(0, small);
    expect(grown.cards).not.toBe(small);
    expect(grown.count).toBe(100);
    const again = rs.collectCards(0, grown.cards);
    expect(again.cards).toBe(grown.cards);
    expect(Array.from(again.cards.subarray(0, again.count)).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => 128 + i));
    // a shared output array grows into a shared one
    const shared = rs.collectCards(0, new Int32Array(new SharedArrayBuffer(8)));
    expect(shared.cards.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.count).toBe(100);
  });

  it('committedBytes is measured: grows with the sets, shrinks back when they are cleared or untracked', () => {
    const heap = smallHeap();
    const rs = createRememberedSets(kind, heap);
    const base = rs.committedBytes();
    expect(base).toBe(64 + 64 * 4); // tracked (u8) + entry counts (i32) per region
    for (let t = 0; t < 8; t++) rs.track(t);
    expect(rs.committedBytes()).toBe(base); // tracking alone commits nothing
    for (let t = 0; t < 8; t++) for (let c = 8 * 8; c < 8 * 64; c += 3) rs.add(t, c);
    const full = rs.committedBytes();
    expect(full).toBeGreaterThan(base + 8 * 56 * 4);
    for (let t = 0; t < 4; t++) rs.clear(t);
    const half = rs.committedBytes();
    expect(half).toBeLessThan(full);
    expect(half - base).toBe((full - base) / 2);
    for (let t = 4; t < 8; t++) rs.untrack(t);
    expect(rs.committedBytes()).toBe(base);
    rs.add(0, 100);
    expect(rs.committedBytes()).toBeGreaterThan(base);
    rs.clearAll();
    expect(rs.committedBytes()).toBe(base);
    expect(rs.tracked[0]).toBe(1);
  });

  it('never loses a card: random adds, clears and untracks against a plain Set (fast-check)', () => {
    const geometries = [[256 * 1024, 4096], [1024 * 1024, 64 * 1024], [64 * 1024, 1024]] as const;
    const op = fc.oneof(
      { weight: 20, arbitrary: fc.record({ op: fc.constant('add' as const), target: fc.nat(15), card: fc.nat(1 << 20) }) },
      { weight: 20, arbitrary: fc.record({ op: fc.constant('run' as const), target: fc.nat(15), card: fc.nat(1 << 20), n: fc.integer({ min: 1, max: 40 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const), target: fc.nat(15) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('untrack' as const), target: fc.nat(15) }) },
    );
    let coarsenings = 0;
    let overflows = 0;
    fc.assert(fc.property(
      fc.constantFrom(...geometries), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 120 }),
      ([heapBytes, regionBytes], sparseCards, maxBitmaps, ops) => {
        const heap = new Heap(heapGeometry(heapBytes, regionBytes));
        const cardsTotal = heapBytes / 512;
        const cardsPerRegion = regionBytes / 512;
        const rs = createRememberedSets(kind, heap, { sparseCards, maxBitmaps });
        const oracle = new Map<number, Set<number>>();
        const regionCount = heap.regionCount;
        const track = (t: number) => { if (!oracle.has(t)) { rs.track(t); oracle.set(t, new Set()); } };
        const add = (t: number, card: number) => {
          rs.add(t, card);
          if (oracle.has(t) && Math.floor(card / cardsPerRegion) !== t) oracle.get(t)!.add(card);
        };
        for (const o of ops) {
          const t = o.target % regionCount;
          if (o.op === 'add') { track(t); add(t, o.card % cardsTotal); }
          else if (o.op === 'run') { track(t); for (let i = 0; i < o.n; i++) add(t, (o.card + i) % cardsTotal); }
          else if (o.op === 'clear') { rs.clear(t); if (oracle.has(t)) oracle.set(t, new Set()); }
          else { rs.untrack(t); oracle.delete(t); }
        }
        let out = new Int32Array(2);
        for (let t = 0; t < regionCount; t++) {
          const expected = oracle.get(t);
          expect(rs.tracked[t]).toBe(expected ? 1 : 0);
          const got = rs.collectCards(t, out);
          out = got.cards;
          const cards = Array.from(out.subarray(0, got.count));
          expect(new Set(cards).size).toBe(cards.length); // distinct
          expect(rs.entryCount(t)).toBe(cards.length);
          expect(rs.isEmpty(t)).toBe(cards.length === 0);
          if (!expected) { expect(cards.length).toBe(0); continue; }
          for (const c of expected) expect(rs.contains(t, c)).toBe(true);
          const got2 = new Set(cards);
          for (const c of expected) expect(got2.has(c)).toBe(true); // superset: never loses a card
          const sources = new Set([...expected].map((c) => Math.floor(c / cardsPerRegion)));
          for (const c of cards) {
            expect(Math.floor(c / cardsPerRegion)).not.toBe(t);
            // extra cards only come from coarsened source regions that really were recorded
            if (!expected.has(c)) expect(sources.has(Math.floor(c / cardsPerRegion))).toBe(true);
          }
          if (kind === 'bitmap' || rs.coarsenings === 0) expect(cards.length).toBe(expected.size); // exact
        }
        if (kind === 'bitmap') { expect(rs.coarsenings).toBe(0); expect(rs.sparseOverflows).toBe(0); }
        coarsenings += rs.coarsenings;
        overflows += rs.sparseOverflows;
      },
    ), { numRuns: 300 });
    if (kind === 'sparse') {
      // the runs really went through every level
      expect(overflows).toBeGreaterThan(0);
      expect(coarsenings).toBeGreaterThan(0);
    }
  });
});

describe('sparse remembered sets: levels and coarsening', () => {
  it('sparse array -> card bitmap on overflow -> whole source region past maxBitmaps', () => {
    const heap = bigRegionHeap(); // 16 regions of 128 cards
    const rs = createRememberedSets('sparse', heap, { sparseCards: 16, maxBitmaps: 2 });
    rs.track(0);
    const region = (r: number) => r * 128;
    for (let i = 0; i < 16; i++) rs.add(0, region(1) + i * 2);
    expect(remsetLevels(rs, 0)).toEqual({ sparse: 1, bitmaps: 0, coarse: 0 });
    expect(rs.sparseOverflows).toBe(0);
    rs.add(0, region(1) + 100); // 17th card
    expect(remsetLevels(rs, 0)).toEqual({ sparse: 0, bitmaps: 1, coarse: 0 });
    expect(rs.sparseOverflows).toBe(1);
    expect(rs.entryCount(0)).toBe(17);
    // a second bitmap with more cards
    for (let i = 0; i < 40; i++) rs.add(0, region(2) + i);
    expect(remsetLevels(rs, 0)).toEqual({ sparse: 0, bitmaps: 2, coarse: 0 });
    expect(rs.entryCount(0)).toBe(57);
    // a third source overflows: the fullest bitmap (region 2, 40 cards) becomes coarse
    for (let i = 0; i < 17; i++) rs.add(0, region(3) + 127 - i);
    expect(rs.coarsenings).toBe(1);
    expect(remsetLevels(rs, 0)).toEqual({ sparse: 0, bitmaps: 2, coarse: 1 });
    expect(rs.entryCount(0)).toBe(17 + 128 + 17);
    for (let c = region(2); c < region(3); c++) expect(rs.contains(0, c)).toBe(true);
    expect(cardsOf(rs, 0).length).toBe(17 + 128 + 17);
    // a fourth overflowing source with fewer cards than any bitmap is itself coarsened
    for (let i = 0; i < 17; i++) rs.add(0, region(4) + i);
    expect(rs.coarsenings).toBe(2);
    expect(remsetLevels(rs, 0)).toEqual({ sparse: 0, bitmaps: 2, coarse: 2 });
    expect(rs.entryCount(0)).toBe(17 + 128 + 17 + 128);
    rs.add(0, region(4) + 50); // already covered
    rs.add(0, region(2) + 3);
    expect(rs.entryCount(0)).toBe(17 + 128 + 17 + 128);
    expect(cardsOf(rs, 0)).toEqual([
      ...[...Array.from({ length: 16 }, (_, i) => region(1) + i * 2), region(1) + 100],
      ...Array.from({ length: 128 }, (_, i) => region(2) + i),
      ...Array.from({ length: 17 }, (_, i) => region(3) + 111 + i),
      ...Array.from({ length: 128 }, (_, i) => region(4) + i),
    ]);
  });

  it('the sparse level is cheaper than bitmaps for a few cards per source region', () => {
    const heap = new Heap(heapGeometry(64 * 1024 * 1024, 1024 * 1024)); // 64 regions of 2048 cards
    const sparse = createRememberedSets('sparse', heap);
    const bitmap = createRememberedSets('bitmap', heap);
    for (const rs of [sparse, bitmap]) {
      rs.track(0);
      for (let r = 1; r < 64; r++) rs.add(0, r * 2048 + r);
    }
    // 63 sources x 1 card: 63 sparse slots of 17 words against 63 bitmaps of 64 words (plus the same hash)
    expect(sparse.committedBytes()).toBeLessThan(bitmap.committedBytes() / 3);
  });
});

describe('dirty-card queue', () => {
  it('takes whole buffers, grows, pops every card once, -1 when empty', () => {
    const q = new DirtyCardQueue(16);
    expect(q.pop()).toBe(-1);
    const buffer = new Int32Array(256);
    for (let i = 0; i < 256; i++) buffer[i] = 1000 + i;
    q.push(buffer, 256);
    q.push(buffer, 10);
    q.pushOne(7);
    expect(q.length).toBe(267);
    expect(q.enqueued).toBe(267);
    const seen: number[] = [];
    for (let c = q.pop(); c >= 0; c = q.pop()) seen.push(c);
    expect(seen.length).toBe(267);
    expect(seen.sort((a, b) => a - b)).toEqual([7, ...Array.from({ length: 10 }, (_, i) => 1000 + i), ...Array.from({ length: 256 }, (_, i) => 1000 + i)].sort((a, b) => a - b));
    expect(q.length).toBe(0);
    q.push(buffer, 3);
    q.clear();
    expect(q.length).toBe(0);
    expect(q.pop()).toBe(-1);
  });
});
