/**
 * Stress mode (VmConfig.stressGc): a pause at every N-th allocation, and
 * released regions poisoned with 0xDEADBEEF, so a program that keeps a
 * reference outside a root slot across an allocation reads poison, and its
 * accessors fail loudly (StaleReferenceError) instead of silently reading a
 * stale copy.
 */
import { describe, expect, it } from 'vitest';
import { evac } from '../../collectors/region/region-collector.js';
import { POISON_WORD } from '../../vm-core/layout.js';
import { REGION_FREE } from '../../vm-core/region-table.js';
import { StaleReferenceError } from '../../vm-core/stress-mutator.js';
import { testVm } from '../kit/fixtures.js';

describe('stress mode', () => {
  it('pauses at every N-th allocation, with cause "stress"', () => {
    const { vm, m, t } = testVm({ collector: evac, stressGc: 4 });
    const causes: string[] = [];
    vm.events.subscribe({ pauseEvent: (n, _t, d) => { if (n === 'requested') causes.push(d.cause!); }, phaseEnd() {}, count() {}, reclassify() {}, concurrent() {} });
    for (let k = 0; k < 40; k++) m.alloc(t.leaf);
    expect(causes).toEqual(new Array(10).fill('stress'));
  });

  it('poisons every word of each region a pause releases', () => {
    const { vm, m, t } = testVm({ collector: evac, stressGc: 50, verify: 'debug' });
    const heap = vm.heap;
    expect(heap.poisonReleased).toBe(true);
    const usedAtStop = new Uint8Array(heap.regionCount);
    let releasedAndChecked = 0;
    vm.events.subscribe({
      pauseEvent: (name) => {
        if (name === 'mutators-stopped') for (let r = 0; r < heap.regionCount; r++) usedAtStop[r] = heap.regions.kind[r] !== REGION_FREE ? 1 : 0;
        if (name === 'mutators-resumed') {
          for (let r = 0; r < heap.regionCount; r++) {
            if (usedAtStop[r] === 0 || heap.regions.kind[r] !== REGION_FREE) continue;
            const bottom = heap.regions.bottom(r);
            const end = heap.regions.end(r);
            for (let w = bottom; w < end; w++) if (heap.words[w] !== POISON_WORD) throw new Error(`region ${r} word ${w} not poisoned`);
            releasedAndChecked++;
          }
        }
      },
      phaseEnd() {}, count() {}, reclassify() {}, concurrent() {},
    });
    for (let k = 0; k < 2000; k++) {
      const o = m.alloc(t.tri);
      if (k % 10 === 0) m.push(o);
      if (k % 100 === 99) m.popFrame(m.frame() - 5);
    }
    expect(releasedAndChecked).toBeGreaterThan(0);
  });

  it('a reference kept outside a root slot across an allocation reads poison and fails loudly', () => {
    const { vm, m, t } = testVm({ collector: evac, stressGc: 2 });
    const slot = m.push(m.alloc(t.leaf)); // allocation 1
    const off = vm.types.dataOffset(t.leaf, 0);
    m.setI32(m.get(slot), off, 42);
    const stale = m.get(slot); // breaks the contract: held across the next allocation
    m.alloc(t.leaf); // allocation 2: a pause first; the sparse region is evacuated and released
    expect(vm.gcCount).toBe(1);
    expect(m.get(slot)).not.toBe(stale);
    expect(m.getI32(m.get(slot), off)).toBe(42);
    expect(vm.heap.words[stale]).toBe(POISON_WORD);
    expect(() => m.getI32(stale, off)).toThrow(StaleReferenceError);
    expect(() => m.setRef(stale, 0, 0)).toThrow(/reference \d+ is in a free \(released\) region/);
  });

  it('is off by default: released regions keep their contents', () => {
    const { vm, m, t } = testVm({ collector: evac });
    expect(vm.heap.poisonReleased).toBe(false);
    const dead = m.alloc(t.leaf);
    vm.collect('explicit');
    expect(vm.heap.regions.kind[vm.heap.regionOf(dead)]).toBe(REGION_FREE);
    expect(vm.heap.words[dead]).not.toBe(POISON_WORD);
  });
});
