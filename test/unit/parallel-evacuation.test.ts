/**
 * Parallel evacuation (collectors/region/evacuation-closure.ts on the mutator
 * thread and the evacuation worker): once the worker is up, pauses of the gen
 * preset with gcThreads=2 really run on two threads (the worker copies a share
 * of the objects), and lru-cache's result, the heap verification before and
 * after every pause and the remembered-set completeness check all hold, as
 * they do with one thread. The property tests' `parallel` configuration runs
 * random programs the same way.
 */
import { describe, expect, it } from 'vitest';
import { EvacuationWorker } from '../../collectors/region/evacuation-threads.js';
import { warmUpEvacuation } from '../../collectors/region/evacuation-warmup.js';
import { gen } from '../../collectors/region/presets.js';
import type { GcEventListener } from '../../vm-core/events.js';
import { Vm } from '../../vm-core/vm.js';
import { findWorkload, resolveParams } from '../../workloads/registry.js';
import type { WorkloadResult } from '../../workloads/workload.js';

async function workerReady(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (EvacuationWorker.get() === null) {
    if (Date.now() > deadline) throw new Error('the evacuation worker did not start within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Evacuation pauses (young and mixed), and how many of them ran on two threads. */
function runLru(gcThreads: number): { result: WorkloadResult; pauses: number; parallelPauses: number; workerObjects: number; objects: number } {
  const vm = new Vm({
    heapBytes: 16 << 20,
    regionBytes: 64 << 10,
    collector: gen,
    collectorOptions: { gcThreads, parallelMinKb: 0, budgetPercent: 10 },
    verify: 'debug',
  });
  let pauses = 0;
  let parallelPauses = 0;
  let workerObjects = 0;
  let objects = 0;
  const listener: GcEventListener = {
    pauseEvent: (name, _t, detail) => { if (name === 'prepare' && (detail.kind === 'young' || detail.kind === 'mixed')) pauses++; },
    phaseEnd: () => {},
    count: (name, value) => {
      if (name === 'gcThreads' && value === 2) parallelPauses++;
      if (name === 'objectsCopiedByWorker') workerObjects += value;
      if (name === 'objectsCopied') objects += value;
    },
    reclassify: () => {},
    concurrent: () => {},
  };
  vm.events.subscribe(listener);
  const workload = findWorkload('lru-cache');
  const params = resolveParams(workload, { capacity: 20_000, ops: 200_000 });
  const mutator = vm.newMutator();
  const result = workload.run({ mutator, types: vm.types, params, collect: (cause) => vm.collect(cause) });
  return { result, pauses, parallelPauses, workerObjects, objects };
}

describe('parallel evacuation', () => {
  it("the JIT warm-up really evacuates its synthetic heap, the same way every time", () => {
    const copied = warmUpEvacuation();
    expect(copied).toBeGreaterThan(24 * 4000); // 24 rounds of 4 eden regions, most objects reachable
    expect(warmUpEvacuation()).toBe(copied);
  });

  it('copies on two threads and keeps the heap and the result exact', async () => {
    await workerReady();
    const serial = runLru(1);
    const parallel = runLru(2);
    expect(serial.parallelPauses).toBe(0);
    expect(parallel.pauses).toBeGreaterThan(3);
    expect(parallel.parallelPauses).toBe(parallel.pauses);
    // the worker did a real share of the copying
    expect(parallel.workerObjects).toBeGreaterThan(parallel.objects / 10);
    expect(parallel.result).toEqual(serial.result);
  }, 60_000);
});
