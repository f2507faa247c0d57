/**
 * The property kit catches broken collectors. Each plug-in here is evac with
 * one planted bug; checkCollector must reject it and shrink the failure to a
 * short program:
 *
 *   stale root      collect() forgets to fix one root that pointed to a moved
 *                   object (caught by the verifier after the pause)
 *   short copy      every root-referenced object that moved loses its last
 *                   data word (caught only by the oracle: verification is off)
 *   lost subgraph   the tracer never scans reference arrays, so their elements
 *                   can be freed while reachable (caught by the verifier)
 *   leak            dead humongous objects are never released (caught as an
 *                   out-of-memory error on a tight heap)
 */
import { describe, expect, it } from 'vitest';
import { type RegionCollectorOptions, RegionCollector, evac, regionOptions } from '../../collectors/region/region-collector.js';
import type { CollectorPlugin } from '../../vm-core/collector.js';
import { ARRAY_BASE, TYPE_SHIFT } from '../../vm-core/layout.js';
import { REGION_HUMONGOUS_START } from '../../vm-core/region-table.js';
import { TYPE_DATA_ARRAY, TYPE_REF_ARRAY, TYPE_STRUCT } from '../../vm-core/type-registry.js';
import type { Vm } from '../../vm-core/vm.js';
import { checkCollector } from '../kit/index.js';

function planted(name: string, make: (vm: Vm, options: RegionCollectorOptions) => RegionCollector): CollectorPlugin {
  return { ...evac, name, create: (vm, options) => make(vm, regionOptions(options)) };
}

/** Compares mutator 0's roots before and after a correct pause, then lets corrupt() break something. */
abstract class AfterCollect extends RegionCollector {
  protected readonly theVm: Vm;
  constructor(vm: Vm, options: RegionCollectorOptions) { super(vm, options); this.theVm = vm; }
  override collect(cause: string): void {
    const m = this.theVm.mutators[0];
    const before = m.roots.slice(0, m.sp);
    super.collect(cause);
    const moved: number[] = [];
    for (let i = 0; i < before.length; i++) if (m.roots[i] !== before[i]) moved.push(i);
    this.corrupt(before, moved);
  }
  abstract corrupt(before: Int32Array, moved: number[]): void;
}

class StaleRootCollector extends AfterCollect {
  corrupt(before: Int32Array, moved: number[]): void {
    if (moved.length > 0) this.theVm.mutators[0].roots[moved[0]] = before[moved[0]];
  }
}

class ShortCopyCollector extends AfterCollect {
  corrupt(_before: Int32Array, moved: number[]): void {
    const m = this.theVm.mutators[0];
    const heap = this.theVm.heap;
    for (const slot of moved) {
      const obj = m.roots[slot];
      const type = heap.words[obj] >>> TYPE_SHIFT;
      const kind = heap.types.kind[type];
      const dataWords = kind === TYPE_STRUCT ? heap.types.info(type).dataWords : kind === TYPE_REF_ARRAY ? 0 : heap.words[obj + 1] * heap.types.elementWords[type];
      if (dataWords === 0) continue;
      const firstData = kind === TYPE_STRUCT ? heap.types.info(type).dataOffset : ARRAY_BASE;
      heap.words[obj + firstData + dataWords - 1] = 0;
    }
  }
}

/** Its tracer does not scan reference arrays (they look like data arrays while it drains). */
class LostSubgraphCollector extends RegionCollector {
  constructor(vm: Vm, options: RegionCollectorOptions) {
    super(vm, options);
    const types = vm.heap.types;
    const tracer = (this as unknown as { tracer: { drain(): void } }).tracer;
    const drain = tracer.drain.bind(tracer);
    tracer.drain = () => {
      const saved = Int32Array.from(types.kind);
      for (let id = 0; id < types.count; id++) if (types.kind[id] === TYPE_REF_ARRAY) types.kind[id] = TYPE_DATA_ARRAY;
      try { drain(); } finally { types.kind.set(saved); }
    };
  }
}

/** Its collection-set chooser is told every humongous object is live, so none is ever released. */
class LeakingCollector extends RegionCollector {
  constructor(vm: Vm, options: RegionCollectorOptions) {
    super(vm, options);
    const tracer = (this as unknown as { tracer: { isMarked(ref: number): boolean } }).tracer;
    const regions = vm.heap.regions;
    const isMarked = tracer.isMarked.bind(tracer);
    tracer.isMarked = (ref: number) => regions.kind[ref >> vm.heap.logRegionWords] === REGION_HUMONGOUS_START || isMarked(ref);
  }
}

/** Runs checkCollector expecting a failure; returns the failure message. */
function failureOf(plugin: CollectorPlugin, options: Parameters<typeof checkCollector>[1]): string {
  let message = '';
  expect(() => {
    try {
      checkCollector(plugin, options);
    } catch (e) {
      message = (e as Error).message + '\n' + String((e as Error).cause ?? '');
      throw e;
    }
  }).toThrow();
  return message;
}

/** The op count of the shrunk program in a failure message (`...; N ops:`). */
function shrunkOps(message: string): number {
  const m = /Counterexample: \[.*?; (\d+) ops:/s.exec(message);
  expect(m, `no counterexample listing in:\n${message}`).not.toBeNull();
  return Number(m![1]);
}

const TIGHT = { heapBytes: 32 * 1024, regionBytes: 4096, liveFraction: 0.45 };

describe('planted collector bugs are caught and shrunk', () => {
  it('stale root: the verifier rejects it after the pause', () => {
    const plugin = planted('evac-stale-root', (vm, o) => new StaleRootCollector(vm, o));
    const message = failureOf(plugin, { ...TIGHT, runs: 300, seed: 7 });
    expect(message).toMatch(/VerificationError|heap verification failed after GC/);
    expect(message).toMatch(/root slot/);
    expect(shrunkOps(message)).toBeLessThanOrEqual(4);
  });

  it('short copy: the oracle rejects it with verification off', () => {
    const plugin = planted('evac-short-copy', (vm, o) => new ShortCopyCollector(vm, o));
    const message = failureOf(plugin, { ...TIGHT, verify: 'off', runs: 300, seed: 7 });
    expect(message).toMatch(/GraphMismatch|data word \d+ is 0, expected|f64\[\d+\] is/);
    expect(shrunkOps(message)).toBeLessThanOrEqual(4);
  });

  it('lost subgraph: reference-array elements freed while reachable', () => {
    const plugin = planted('evac-lost-subgraph', (vm, o) => new LostSubgraphCollector(vm, o));
    const message = failureOf(plugin, { ...TIGHT, runs: 300, seed: 7 });
    expect(message).toMatch(/heap verification failed|GraphMismatch/);
    expect(shrunkOps(message)).toBeLessThanOrEqual(6);
  });

  it('leak: dead humongous objects never released: the heap runs out, or a leaked array keeps dangling references', () => {
    const plugin = planted('evac-leak', (vm, o) => new LeakingCollector(vm, o));
    const message = failureOf(plugin, { ...TIGHT, runs: 300, seed: 7 });
    // The last-ditch full compaction gets past the shortage, so the verifier finds the
    // leaked (dead, unreleased) array still pointing into regions the pause freed.
    expect(message).toMatch(/OutOfMemoryError.*the collector failed to reclaim garbage|VerificationError.*into free region/s);
  });

  it('the shrunk program is printed as a readable numbered listing', () => {
    const plugin = planted('evac-stale-root', (vm, o) => new StaleRootCollector(vm, o));
    const message = failureOf(plugin, { ...TIGHT, runs: 300, seed: 7 });
    expect(message).toMatch(/Counterexample: \[evac-stale-root on heap 32 KiB \(regions of 4 KiB\), verify debug; \d+ ops:\n\s+0 {2}r0 = /);
    expect(message).toMatch(/seed: 7, path: "[\d:]+"/);
  });
});
