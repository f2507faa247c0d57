/**
 * epsilon (collectors/epsilon/epsilon.ts): allocates, never collects, and
 * stops with an OutOfMemoryError naming the heap, what is used, and that it
 * never collects, when the heap is exhausted.
 */
import { describe, expect, it } from 'vitest';
import { OutOfMemoryError } from '../../vm-core/errors.js';
import { testVm } from '../kit/fixtures.js';

describe('epsilon', () => {
  it('throws OutOfMemoryError (exit code 3) once every region is used', () => {
    const { vm, m, t } = testVm({ heapBytes: 16 * 1024 });
    let allocated = 0;
    let error: unknown;
    try {
      for (;;) { m.alloc(t.tri); allocated++; }
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutOfMemoryError);
    expect((error as OutOfMemoryError).exitCode).toBe(3);
    expect((error as Error).message).toMatch(/out of memory: heap 16 KiB, used .*; could not allocate 40 B \(epsilon never collects\)/);
    // 4 regions of 1024 words, 10-word objects (region 0 loses its 2 reserved words)
    expect(allocated).toBe(4 * 102);
    expect(vm.gcCount).toBe(0);
  });

  it('throws OutOfMemoryError for a humongous object larger than what is free', () => {
    const { m, t } = testVm({ heapBytes: 16 * 1024 });
    m.allocArray(t.i32s, 1500); // 2 regions
    m.alloc(t.leaf); // a third
    expect(() => m.allocArray(t.i32s, 1500)).toThrow(OutOfMemoryError);
    expect(() => m.allocArray(t.i32s, 100_000)).toThrow(OutOfMemoryError);
  });

  it('never moves or frees anything: objects keep their addresses and data', () => {
    const { vm, m, t } = testVm();
    const objs = [];
    for (let k = 0; k < 100; k++) {
      const o = m.alloc(t.cons);
      m.setI32(o, vm.types.dataOffset(t.cons, 1), k);
      objs.push(o);
    }
    vm.collect('explicit');
    objs.forEach((o, k) => expect(m.getI32(o, vm.types.dataOffset(t.cons, 1))).toBe(k));
    expect(vm.collector.collectionRequired()).toBe(false);
  });
});
