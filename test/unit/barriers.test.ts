/**
 * Barriers (barriers/): the VM picks one mutator class from the collector's
 * barrier constraints; the card-marking post-write barrier dirties the slot's
 * card and enqueues it once, filtering null and same-region stores; the SATB
 * pre-write barrier enqueues the overwritten reference only while marking;
 * G1 does both; full buffers go to the collector; fast/slow/filtered outcomes
 * are counted in vm.barrierCounters (barriers/counters.ts).
 */
import { describe, expect, it } from 'vitest';
import { CardMarkingMutator, CountedCardMarkingMutator } from '../../barriers/card-marking.js';
import {
  CARD_FAST, CARD_FILTERED, CARD_SLOW, SATB_FAST, SATB_FILTERED, SATB_SLOW, readBarrierCounters,
} from '../../barriers/counters.js';
import { CountedG1Mutator, G1Mutator } from '../../barriers/g1.js';
import { CountedSatbMutator, SatbMutator } from '../../barriers/satb.js';
import { mutatorClassFor } from '../../barriers/select.js';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import type { CollectorPlugin } from '../../vm-core/collector.js';
import { LOG_CARD_WORDS, REF_BASE } from '../../vm-core/layout.js';
import { DIRTY_CARD_BUFFER_ENTRIES, Mutator, SATB_BUFFER_ENTRIES } from '../../vm-core/mutator.js';
import { CARD_CLEAN, CARD_DIRTY } from '../../vm-core/side-metadata.js';
import { testVm, withBarriers } from '../kit/fixtures.js';

const CARD = { preWrite: 'none', postWrite: 'card', read: 'none' } as const;
const SATB = { preWrite: 'satb', postWrite: 'none', read: 'none' } as const;
const G1 = { preWrite: 'satb', postWrite: 'card', read: 'none' } as const;
const NONE = { preWrite: 'none', postWrite: 'none', read: 'none' } as const;

/** epsilon with other barriers, whose collector records the buffers handed to it. */
function recordingPlugin(barriers: typeof CARD | typeof SATB | typeof G1): { plugin: CollectorPlugin; cardBatches: number[][]; satbBatches: number[][] } {
  const cardBatches: number[][] = [];
  const satbBatches: number[][] = [];
  const base = withBarriers(epsilon, barriers);
  const plugin: CollectorPlugin = {
    ...base,
    create: (vm, options) => {
      const collector = base.create(vm, options);
      collector.onDirtyCards = (cards, n) => { cardBatches.push(Array.from(cards.subarray(0, n))); };
      collector.onSatbBuffer = (refs, n) => { satbBatches.push(Array.from(refs.subarray(0, n))); };
      return collector;
    },
  };
  return { plugin, cardBatches, satbBatches };
}

describe('barrier selection', () => {
  it('one class per barrier combination, counted or not', () => {
    expect(mutatorClassFor(NONE, true)).toBe(Mutator);
    expect(mutatorClassFor(CARD, true)).toBe(CountedCardMarkingMutator);
    expect(mutatorClassFor(CARD, false)).toBe(CardMarkingMutator);
    expect(mutatorClassFor(SATB, true)).toBe(CountedSatbMutator);
    expect(mutatorClassFor(SATB, false)).toBe(SatbMutator);
    expect(mutatorClassFor(G1, true)).toBe(CountedG1Mutator);
    expect(mutatorClassFor(G1, false)).toBe(G1Mutator);
  });

  it('the VM gives its mutators the class its collector asks for', () => {
    expect(testVm({ collector: withBarriers(epsilon, CARD) }).m).toBeInstanceOf(CountedCardMarkingMutator);
    expect(testVm({ collector: withBarriers(epsilon, CARD), countBarriers: false }).m.constructor).toBe(CardMarkingMutator);
    expect(testVm({ collector: epsilon }).m.constructor).toBe(Mutator);
  });
});

describe('card-marking post-write barrier', () => {
  /** A struct in one region and a humongous ref array in another. */
  function crossRegionPair(countBarriers = true) {
    const { plugin, cardBatches } = recordingPlugin(CARD);
    const { vm, m, t } = testVm({ collector: plugin, heapBytes: 256 * 1024, countBarriers });
    const a = m.alloc(t.cons);
    const b = m.alloc(t.cons);
    const far = m.allocArray(t.refs, 600);
    expect(vm.heap.regionOf(far)).not.toBe(vm.heap.regionOf(a));
    return { vm, m, t, a, b, far, cardBatches };
  }

  it('a cross-region store dirties the slot\'s card and enqueues it once', () => {
    const { vm, m, a, far } = crossRegionPair();
    const card = (a + REF_BASE) >> LOG_CARD_WORDS;
    expect(vm.heap.meta.cards[card]).toBe(CARD_CLEAN);
    m.setRef(a, 0, far);
    expect(m.getRef(a, 0)).toBe(far);
    expect(vm.heap.meta.cards[card]).toBe(CARD_DIRTY);
    expect(m.dirtyCardCount).toBe(1);
    expect(m.dirtyCards[0]).toBe(card);
    expect(vm.barrierCounters[CARD_SLOW]).toBe(1);
    m.setRef(a, 0, far); // same card, already dirty: fast path, no second entry
    m.setRef(a, 0, far);
    expect(m.dirtyCardCount).toBe(1);
    expect(vm.barrierCounters[CARD_FAST]).toBe(2);
    expect(vm.barrierCounters[CARD_SLOW]).toBe(1);
  });

  it('null and same-region stores are filtered: stored, but no card and no queue entry', () => {
    const { vm, m, a, b } = crossRegionPair();
    m.setRef(a, 0, 0);
    m.setRef(a, 0, b);
    expect(m.getRef(a, 0)).toBe(b);
    expect(vm.heap.meta.cards[(a + REF_BASE) >> LOG_CARD_WORDS]).toBe(CARD_CLEAN);
    expect(m.dirtyCardCount).toBe(0);
    expect(vm.barrierCounters[CARD_FILTERED]).toBe(2);
    expect(readBarrierCounters(vm.barrierCounters)).toEqual({ card: { fast: 0, slow: 0, filtered: 2 } });
  });

  it('a store from a humongous object into another region dirties the humongous object\'s card', () => {
    const { vm, m, a, far } = crossRegionPair();
    m.setRef(far, 300, a);
    const card = (far + REF_BASE + 300) >> LOG_CARD_WORDS;
    expect(vm.heap.meta.cards[card]).toBe(CARD_DIRTY);
    expect(m.dirtyCards[0]).toBe(card);
  });

  it('a full dirty-card buffer goes to the collector and starts empty again', () => {
    const { plugin, cardBatches } = recordingPlugin(CARD);
    const { vm, m, t } = testVm({ collector: plugin, heapBytes: 1024 * 1024 });
    const target = m.alloc(t.leaf);
    const big = m.allocArray(t.refs, (DIRTY_CARD_BUFFER_ENTRIES + 10) * 128); // one slot per card
    for (let k = 0; k < DIRTY_CARD_BUFFER_ENTRIES; k++) m.setRef(big, k * 128, target);
    expect(cardBatches).toHaveLength(1);
    expect(cardBatches[0]).toHaveLength(DIRTY_CARD_BUFFER_ENTRIES);
    expect(new Set(cardBatches[0]).size).toBe(DIRTY_CARD_BUFFER_ENTRIES);
    expect(m.dirtyCardCount).toBe(0);
    m.setRef(big, DIRTY_CARD_BUFFER_ENTRIES * 128, target);
    expect(m.dirtyCardCount).toBe(1);
    vm.dirtyCardBufferFull(m); // what a pause does: flush what is buffered
    expect(cardBatches).toHaveLength(2);
    expect(m.dirtyCardCount).toBe(0);
  });

  it('the uncounted class dirties cards the same way and leaves the counters alone', () => {
    const { vm, m, a, far } = crossRegionPair(false);
    m.setRef(a, 0, far);
    expect(vm.heap.meta.cards[(a + REF_BASE) >> LOG_CARD_WORDS]).toBe(CARD_DIRTY);
    expect(m.dirtyCardCount).toBe(1);
    expect(Array.from(vm.barrierCounters).every((c) => c === 0)).toBe(true);
  });
});

describe('SATB pre-write barrier', () => {
  it('enqueues the overwritten reference only while marking', () => {
    const { vm, m, t } = testVm({ collector: withBarriers(epsilon, SATB) });
    const a = m.alloc(t.cons);
    const x = m.alloc(t.leaf);
    const y = m.alloc(t.leaf);
    m.setRef(a, 0, x); // not marking: fast path
    m.setRef(a, 0, y);
    expect(m.satbCount).toBe(0);
    expect(vm.barrierCounters[SATB_FAST]).toBe(2);
    m.marking = true;
    m.setRef(a, 0, x); // old value y is enqueued
    expect(m.getRef(a, 0)).toBe(x);
    expect(m.satbCount).toBe(1);
    expect(m.satbBuffer[0]).toBe(y);
    expect(vm.barrierCounters[SATB_SLOW]).toBe(1);
    m.setRef(a, 0, 0); // old value x
    m.setRef(a, 0, y); // old value null: filtered
    expect(Array.from(m.satbBuffer.subarray(0, m.satbCount))).toEqual([y, x]);
    expect(vm.barrierCounters[SATB_FILTERED]).toBe(1);
    m.marking = false;
    m.setRef(a, 0, x);
    expect(m.satbCount).toBe(2);
    expect(readBarrierCounters(vm.barrierCounters)).toEqual({ satb: { fast: 3, slow: 2, filtered: 1 } });
  });

  it('a full SATB buffer goes to the collector', () => {
    const { plugin, satbBatches } = recordingPlugin(SATB);
    const { m, t } = testVm({ collector: plugin });
    const a = m.alloc(t.cons);
    const x = m.alloc(t.leaf);
    m.setRef(a, 0, x);
    m.marking = true;
    for (let k = 0; k < SATB_BUFFER_ENTRIES; k++) m.setRef(a, 0, x);
    expect(satbBatches).toHaveLength(1);
    expect(satbBatches[0]).toHaveLength(SATB_BUFFER_ENTRIES);
    expect(m.satbCount).toBe(0);
  });
});

describe('G1 barrier pair', () => {
  it('one store runs both halves: SATB while marking, then card marking', () => {
    const { vm, m, t } = testVm({ collector: withBarriers(epsilon, G1), heapBytes: 256 * 1024 });
    expect(m).toBeInstanceOf(CountedG1Mutator);
    const a = m.alloc(t.cons);
    const near = m.alloc(t.leaf);
    const far = m.allocArray(t.refs, 600);
    m.setRef(a, 0, near);
    m.marking = true;
    m.setRef(a, 0, far);
    expect(Array.from(m.satbBuffer.subarray(0, m.satbCount))).toEqual([near]);
    expect(m.dirtyCards[0]).toBe((a + REF_BASE) >> LOG_CARD_WORDS);
    expect(readBarrierCounters(vm.barrierCounters)).toEqual({
      satb: { fast: 1, slow: 1, filtered: 0 },
      card: { fast: 0, slow: 1, filtered: 1 },
    });
  });
});

describe('no barrier', () => {
  it('the base mutator stores plainly and counts nothing', () => {
    const { vm, m, t } = testVm({ collector: epsilon });
    const a = m.alloc(t.cons);
    const far = m.allocArray(t.refs, 600);
    m.setRef(a, 0, far);
    expect(m.getRef(a, 0)).toBe(far);
    expect(m.dirtyCardCount).toBe(0);
    expect(Array.from(vm.heap.meta.cards).every((c) => c === CARD_CLEAN)).toBe(true);
    expect(readBarrierCounters(vm.barrierCounters)).toEqual({});
  });
});
