/**
 * Parallel evacuation (collectors/region/evacuation-closure.ts on the mutator
 * thread and the evacuation worker): once the worker is up, pauses of the gen
 * preset with gcThreads=2 really run on two threads (the worker copies a share
 * of the objects), and lru-cache's result, the heap verification before and
 * after every pause and the remembered-set completeness check all hold, as
 * they do with one thread. An object reached from many slots found by both
 * threads at once is still copied once (every slot ends up at the same copy),
 * which a pause that let both threads copy it would break. The property tests'
 * `parallel` configuration runs random programs the same way.
 */
import { describe, expect, it } from 'vitest';
import { computeSlotTargets, evacuationViews, newEvacuationBuffers, OWNER_SHIFT, TARGET_OWNER } from '../../collectors/region/evacuation-shared.js';
import { EvacuationWorker } from '../../collectors/region/evacuation-threads.js';
import { warmUpEvacuation } from '../../collectors/region/evacuation-warmup.js';
import { gen } from '../../collectors/region/presets.js';
import type { GcEventListener } from '../../vm-core/events.js';
import { Vm } from '../../vm-core/vm.js';
import { findWorkload, resolveParams } from '../../workloads/registry.js';
import type { WorkloadResult } from '../../workloads/workload.js';
import { testVm } from '../kit/fixtures.js';

async function workerReady(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (EvacuationWorker.get() === null) {
    if (Date.now() > deadline) throw new Error('the evacuation worker did not start within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Evacuation pauses (young and mixed), and how many of them ran on two threads. */
function runLru(gcThreads: number): { result: WorkloadResult; pauses: number; parallelPauses: number; workerObjects: number; objects: number; handedOver: number } {
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
  let handedOver = 0;
  const listener: GcEventListener = {
    pauseEvent: (name, _t, detail) => { if (name === 'prepare' && (detail.kind === 'young' || detail.kind === 'mixed')) pauses++; },
    phaseEnd: () => {},
    count: (name, value) => {
      if (name === 'gcThreads' && value === 2) parallelPauses++;
      if (name === 'objectsCopiedByWorker') workerObjects += value;
      if (name === 'objectsCopied') objects += value;
      if (name === 'slotsHandedOver') handedOver += value;
    },
    reclassify: () => {},
    concurrent: () => {},
  };
  vm.events.subscribe(listener);
  const workload = findWorkload('lru-cache');
  const params = resolveParams(workload, { capacity: 20_000, ops: 200_000 });
  const mutator = vm.newMutator();
  const result = workload.run({ mutator, types: vm.types, params, collect: (cause) => vm.collect(cause) });
  return { result, pauses, parallelPauses, workerObjects, objects, handedOver };
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
    // objects belong to the thread that owns their region: slots found by the other thread were handed over
    expect(parallel.handedOver).toBeGreaterThan(parallel.objects / 10);
    expect(parallel.result).toEqual(serial.result);
  }, 60_000);

  it('copies an object reached from slots on both threads exactly once: every slot ends at one copy', async () => {
    await workerReady();
    const { vm, m, t } = testVm({
      heapBytes: 16 << 20,
      regionBytes: 64 << 10,
      collector: gen,
      collectorOptions: { gcThreads: 2, parallelMinKb: 0, budgetPercent: 20, tenuringThreshold: 0 },
      verify: 'debug',
    });
    // holder i points at shared object i % SHARED: the threads claim the table's cards 16 at a time
    // (2048 slots), so while one scans holders i.. the other scans holders i + 2048.., meeting the
    // same shared objects at about the same moment
    const SHARED = 2048;
    const HOLDERS = 24_576;
    // an old array of holders (promoted by the first pause)
    const table = m.push(m.allocArray(t.refs, HOLDERS));
    vm.collect('test');
    let pausesChecked = 0;
    for (let round = 0; round < 12; round++) {
      // SHARED young objects, and young holders all over eden, each pointing at one of them
      const shared = m.push(m.allocArray(t.refs, SHARED));
      for (let k = 0; k < SHARED; k++) m.setRef(m.get(shared), k, m.alloc(t.leaf));
      for (let i = 0; i < HOLDERS; i++) {
        const holder = m.alloc(t.cons);
        m.setRef(holder, 0, m.getRef(m.get(shared), i % SHARED));
        m.setRef(m.get(table), i, holder);
      }
      vm.collect('test');
      // after the pause each holder must point at the same copy as the shared array's slot
      const sharedNow = m.get(shared);
      const tableNow = m.get(table);
      for (let i = 0; i < HOLDERS; i++) {
        const expected = m.getRef(sharedNow, i % SHARED);
        const got = m.getRef(m.getRef(tableNow, i), 0);
        if (got !== expected) throw new Error(`round ${round}: holder ${i} points at ${got}, the shared object is at ${expected}`);
      }
      pausesChecked++;
      m.pop();
    }
    expect(pausesChecked).toBe(12);
  }, 60_000);
});

describe('collection-set ownership', () => {
  it('deals the collection set to the two threads alternately in address order, however it lies in the heap', () => {
    const regionCount = 16;
    const shared = evacuationViews(newEvacuationBuffers(regionCount * 8, regionCount));
    // eden in every other region (a parity rule would give all of it to thread 1)
    const inCset = Uint8Array.from({ length: regionCount }, (_, r) => (r % 2 === 1 && r < 12 ? 1 : 0));
    computeSlotTargets(shared, inCset, new Uint8Array(regionCount), regionCount);
    const owners = [...inCset.keys()].filter((r) => inCset[r] !== 0).map((r) => (shared.slotTarget[r] >>> OWNER_SHIFT) & 1);
    expect(owners).toEqual([0, 1, 0, 1, 0, 1]);
    for (let r = 0; r < regionCount; r++) if (inCset[r] === 0) expect(shared.slotTarget[r] & TARGET_OWNER).toBe(0);
  });
});
