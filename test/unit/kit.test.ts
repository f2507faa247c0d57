/**
 * The property-test kit itself (test/kit): programs print as readable
 * listings with root slots resolved; hand-written programs pass on every
 * registered collector; the graph comparison catches each kind of difference
 * (data, null, type, length, sharing, aliasing, root count); the live budget
 * skips allocations instead of running a collector out of memory; runs are
 * reproducible from their seed.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import { listCollectors } from '../../collectors/registry.js';
import { evac } from '../../collectors/region/region-collector.js';
import { Vm } from '../../vm-core/vm.js';
import { type Op, GraphMismatch, checkCollector, defaultSeed, programArbitrary, programOf, runProgram } from '../kit/index.js';

const LISTED: Op[] = [
  { op: 'new', type: 2 },
  { op: 'newArray', kind: 'ref', length: 3 },
  { op: 'setRef', obj: 1, slot: 4, val: 0 },
  { op: 'setRef', obj: 0, slot: 0, val: null },
  { op: 'getRef', obj: 1, slot: 1 },
  { op: 'setI32', obj: 0, index: 3, value: -7 },
  { op: 'setF64', obj: 0, index: 0, value: -0 },
  { op: 'push', src: 2 },
  { op: 'chain', type: 0, count: 3 },
  { op: 'newArray', kind: 'f64', length: 600 },
  { op: 'gc' },
  { op: 'setRoot', dst: 7, src: 1 },
  { op: 'pop', count: 2 },
  { op: 'setRef', obj: 4, slot: 0, val: 1 },
  { op: 'setI32', obj: 1, index: 0, value: 1 },
];

describe('program listings', () => {
  it('resolve root slots, indices and no-ops, and mark humongous objects', () => {
    const program = programOf(evac, LISTED, { heapBytes: 64 * 1024, regionBytes: 4096, label: 'demo' });
    expect(program.toString()).toBe([
      'demo: evac on heap 64 KiB (regions of 4 KiB), verify debug; 15 ops:',
      '    0  r0 = new Cons',
      '    1  r1 = new RefArray[3]',
      '    2  r1.ref[1] = r0',
      '    3  r0.ref[0] = null',
      '    4  r2 = r1.ref[1]',
      '    5  r0.i32[1] = -7',
      '    6  r0.f64[0] = -0',
      '    7  r3 = r2',
      '    8  r4 = chain of 3 Empty (all but the last garbage)',
      '    9  r5 = new F64Array[600]   (humongous, 1202 words)',
      '   10  gc',
      '   11  r1 = r1',
      '   12  pop r4..r5',
      '   13  r0.ref[0] = r1',
      '   14  (no-op: r1 (RefArray[3]#1) has no int32 data)',
    ].join('\n'));
  });

  it('fast-check prints generated programs as listings', () => {
    const [program] = fc.sample(programArbitrary(evac, { maxOps: 5 }), { numRuns: 1, seed: 3 });
    expect(fc.stringify(program)).toMatch(/^evac on heap 64 KiB \(regions of 4 KiB\), verify debug; \d ops:/);
  });
});

describe('hand-written programs', () => {
  for (const plugin of listCollectors()) {
    it(`${plugin.name}: the listed program runs and matches the oracle`, () => {
      const stats = runProgram(programOf(plugin, LISTED, { heapBytes: 64 * 1024 }));
      expect(stats.allocations).toBe(4);
      expect(stats.humongousAllocations).toBe(1);
      if (plugin.constraints.collects) expect(stats.pauses).toBeGreaterThanOrEqual(1);
    });
  }

  it('a collector that never collects gets a heap large enough for the program', () => {
    const ops: Op[] = Array.from({ length: 40 }, () => ({ op: 'newArray', kind: 'i32', length: 1500 }));
    const program = programOf(epsilon, ops, { heapBytes: 64 * 1024 });
    expect(program.heapBytes).toBeGreaterThanOrEqual(80 * 4096);
    expect(runProgram(program).allocations).toBe(40);
  });

  it('allocations past the live budget are skipped, shown as such, and never run the heap out of memory', () => {
    const ops: Op[] = Array.from({ length: 12 }, () => ({ op: 'newArray', kind: 'f64', length: 600 }));
    const program = programOf(evac, ops, { heapBytes: 32 * 1024, liveFraction: 0.5 });
    expect(program.toString()).toContain('    2  (skipped: new F64Array[600]; live 4096 + 2048 words > budget 4096)');
    const stats = runProgram(program);
    expect(stats.allocations).toBe(2);
    expect(stats.skippedAllocations).toBe(10);
  });
});

describe('graph comparison', () => {
  /** Runs ops on both sides, then lets `tamper` change the heap side, then compares. */
  function compareAfter(ops: Op[], tamper: (vm: Vm, m: ReturnType<Vm['newMutator']>) => void): () => void {
    const program = programOf(epsilon, ops);
    const vm = new Vm({ heapBytes: program.heapBytes, regionBytes: 4096, collector: epsilon, rootSlots: 64 });
    const interp = program.newInterpreter(vm.types);
    const m = vm.newMutator(64);
    for (const op of ops) { const step = interp.resolve(op); step.heap(m, vm); step.oracle(); }
    interp.compare(m, vm, 'before tampering');
    tamper(vm, m);
    return () => interp.compare(m, vm, 'after tampering');
  }
  const PAIR: Op[] = [{ op: 'new', type: 3 }, { op: 'new', type: 1 }, { op: 'setRef', obj: 0, slot: 1, val: 1 }, { op: 'setI32', obj: 0, index: 0, value: 5 }];

  it('catches changed data', () => {
    expect(compareAfter(PAIR, (vm, m) => { vm.heap.words[m.get(0) + 4] = 6; })).toThrow(/r0 \(Pair#0, heap object \d+\): data word 0 is 6, expected 5/);
  });

  it('catches a reference nulled in the heap', () => {
    expect(compareAfter(PAIR, (_vm, m) => { m.setRef(m.get(0), 1, 0); })).toThrow(/r0.ref\[1\] is Leaf#1 in the oracle but null in the heap/);
  });

  it('catches a reference where the oracle has null', () => {
    expect(compareAfter(PAIR, (_vm, m) => { m.setRef(m.get(0), 0, m.get(1)); })).toThrow(GraphMismatch);
  });

  it('catches lost sharing: one oracle node reached as two heap objects', () => {
    expect(compareAfter(PAIR, (vm, m) => {
      const copy = m.alloc(vm.types.idOf('kit.Leaf')!);
      m.set(1, copy);
    })).toThrow(/sharing lost/);
  });

  it('catches false aliasing: two oracle nodes reached as one heap object', () => {
    const twoLeaves: Op[] = [{ op: 'new', type: 1 }, { op: 'new', type: 1 }];
    expect(compareAfter(twoLeaves, (_vm, m) => { m.set(1, m.get(0)); })).toThrow(/aliasing differs/);
  });

  it('catches a changed type or array length', () => {
    expect(compareAfter(PAIR, (vm, m) => { vm.heap.words[m.get(1)] = vm.types.idOf('kit.Empty')! << 8; })).toThrow(/heap type id/);
    const arr: Op[] = [{ op: 'newArray', kind: 'ref', length: 4 }];
    expect(compareAfter(arr, (vm, m) => { vm.heap.words[m.get(0) + 1] = 3; })).toThrow(/header word 1 is 3, expected length 4/);
  });

  it('catches a root-stack depth that differs', () => {
    expect(compareAfter(PAIR, (_vm, m) => { m.push(0); })).toThrow(/the mutator has 3 root slots, the oracle 2/);
  });
});

describe('reproducibility', () => {
  const saved = process.env.HEAPLAB_SEED;
  afterEach(() => { if (saved === undefined) delete process.env.HEAPLAB_SEED; else process.env.HEAPLAB_SEED = saved; });

  it('the same seed runs the same programs', () => {
    const a = checkCollector(evac, { runs: 40, seed: 123, heapBytes: 32 * 1024 });
    const b = checkCollector(evac, { runs: 40, seed: 123, heapBytes: 32 * 1024 });
    expect(b).toEqual(a);
  });

  it('HEAPLAB_SEED chooses the default seed', () => {
    process.env.HEAPLAB_SEED = '4242';
    expect(defaultSeed()).toBe(4242);
    expect(checkCollector(epsilon, { runs: 3 }).seed).toBe(4242);
    process.env.HEAPLAB_SEED = 'x';
    expect(() => defaultSeed()).toThrow(/HEAPLAB_SEED=x is not an integer/);
  });
});
