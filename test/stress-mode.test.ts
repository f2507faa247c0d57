/**
 * Stress mode (--stress-gc N) must make a broken workload fail loudly: one that
 * keeps a reference outside a root slot across an allocation (it reads a moved,
 * poisoned object), and one that writes through such a reference into memory
 * a pause released (the poison check when the quarantine ends).
 */
import { describe, expect, it } from 'vitest';
import { evac } from '../collectors/region/region-collector.js';
import { VerificationError } from '../vm-core/errors.js';
import { POISON_WORD } from '../vm-core/layout.js';
import { REGION_FREE } from '../vm-core/region-table.js';
import { StaleReferenceError } from '../vm-core/stress-mutator.js';
import { Vm } from '../vm-core/vm.js';

function newVm(stressGc: number) {
  const vm = new Vm({ heapBytes: 1 << 20, regionBytes: 16 << 10, collector: evac, verify: 'debug', stressGc });
  const m = vm.newMutator();
  const Cell = vm.types.struct('Cell', 1, 1);
  return { vm, m, Cell, VALUE: vm.types.dataOffset(Cell, 0) };
}

describe('stress mode', () => {
  it('runs a correct program (references kept in root slots) to the end', () => {
    const { vm, m, Cell, VALUE } = newVm(3);
    const list = m.push(0);
    for (let i = 0; i < 2000; i++) {
      const c = m.alloc(Cell);
      m.setI32(c, VALUE, i);
      m.setRef(c, 0, m.get(list));
      m.set(list, c);
    }
    let sum = 0;
    for (let c = m.get(list); c !== 0; c = m.getRef(c, 0)) sum += m.getI32(c, VALUE);
    expect(sum).toBe((1999 * 2000) / 2);
    expect(vm.gcCount).toBeGreaterThan(600);
  });

  it('fails a program that keeps a reference in a local across an allocation', () => {
    const { m, Cell, VALUE } = newVm(3);
    const keep = m.push(0);
    expect(() => {
      for (let i = 0; i < 100; i++) {
        const stale = m.alloc(Cell);        // held in a local, not a root slot...
        m.set(keep, stale);
        m.alloc(Cell);                      // ...across an allocation that may move it
        m.setI32(stale, VALUE, i);          // use of the old address
      }
    }).toThrow(StaleReferenceError);
  });

  it('poisons released regions and detects a write into one when its quarantine ends', () => {
    const { vm, m, Cell } = newVm(1_000_000);
    const keep = m.push(0);
    for (let i = 0; i < 3000; i++) m.set(keep, m.alloc(Cell));
    vm.collect('explicit');
    const released: number[] = [];
    for (let r = 0; r < vm.heap.regionCount; r++) {
      if (vm.heap.regions.kind[r] === REGION_FREE && vm.heap.isQuarantined(r)) released.push(r);
    }
    expect(released.length).toBeGreaterThan(0);
    const word = vm.heap.regions.bottom(released[0]) + 10;
    expect(vm.heap.words[word]).toBe(POISON_WORD);
    vm.heap.words[word] = 12345;            // a stale write through an old address
    expect(() => vm.collect('explicit')).toThrow(VerificationError);
  });
});
