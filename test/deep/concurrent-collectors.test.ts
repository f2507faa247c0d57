/**
 * The concurrent collectors (cre, g1) with real concurrent marking on the
 * marker worker thread:
 *
 *   1. property runs (test/kit checkCollector: random programs against the
 *      oracle, heap verifier at debug, which also checks the SATB invariant at
 *      every remark) on small heaps with ihopPercent 1, so that concurrent
 *      cycles start at almost every young pause; many seeds. The runs must
 *      have completed concurrent cycles on the worker (counted), not only
 *      fallen back to stop-the-world marking.
 *   2. a hiding driver: a long old chain, marking started, then while the
 *      worker is still walking the chain the mutator moves references out of
 *      its unscanned tail into fresh young objects (the classic SATB loss),
 *      allocating and pausing until remark and cleanup; the verifier (SATB
 *      invariant at remark, heap references after every pause) and a final
 *      walk check nothing was lost.
 *   3. planted bug: the same collector whose SATB barrier drops the overwritten
 *      reference instead of enqueueing it (withoutSatbEnqueue, satb-programs.ts)
 *      must fail (2).
 *
 * These programs run the marker at full speed; the SATB stress programs
 * (test/unit/concurrent-satb-programs.test.ts, satb-programs.ts) also pace it.
 * The worker is compiled JavaScript (dist/): build first (npm test does).
 * HEAPLAB_DEEP=1 runs many more programs and drivers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { concurrentMarkerReady } from '../../collectors/region/concurrent-marking.js';
import { cre, g1 } from '../../collectors/region/presets.js';
import type { CollectorPlugin } from '../../vm-core/collector.js';
import type { GcEventListener } from '../../vm-core/events.js';
import { TYPE_SHIFT } from '../../vm-core/layout.js';
import { Vm } from '../../vm-core/vm.js';
import { checkCollector, defaultSeed } from '../kit/index.js';
import { seededRandom } from '../kit/fixtures.js';
import { withoutSatbEnqueue } from './satb-programs.js';

const DEEP = process.env.HEAPLAB_DEEP === '1';
const PROGRAMS = DEEP ? 20_000 : 1500;
const DRIVERS = DEEP ? 60 : 6;
const SEED = defaultSeed();
const TIMEOUT_MS = DEEP ? 4 * 60 * 60 * 1000 : 180_000;

beforeAll(async () => {
  // spawn the process's marker worker and wait until it is ready (~40 ms), so runs really mark concurrently
  new Vm({ heapBytes: 1 << 20, regionBytes: 4096, collector: cre });
  const deadline = Date.now() + 10_000;
  while (!concurrentMarkerReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  expect(concurrentMarkerReady(), 'the marker worker started (is dist/ built?)').toBe(true);
  console.info(`concurrent collectors: seed ${SEED} (HEAPLAB_SEED=${SEED} repeats this run)`);
});

// ---- the hiding driver ---------------------------------------------------------------------------

class Counts implements GcEventListener {
  readonly counters: Record<string, number> = {};
  readonly kinds: Record<string, number> = {};
  pauseEvent(name: string, _t: number, detail: { kind?: string }): void {
    if (name === 'prepare' && detail.kind) { this.kinds[detail.kind] = (this.kinds[detail.kind] ?? 0) + 1; this.seq.push(detail.kind[0]); }
  }
  readonly seq: string[] = [];
  phaseEnd(): void {}
  count(name: string, value: number): void { this.counters[name] = (this.counters[name] ?? 0) + value; if (name === 'concurrentStart' || name === 'concurrentCyclesCompleted') this.seq.push(name === 'concurrentStart' ? 'S' : 'C'); }
  reclassify(): void {}
  concurrent(): void {}
}

interface DriverResult { hidden: number; cycles: number; lost: number; events: string }

/**
 * One driver run: an old chain of `length` nodes (each with a private side
 * object), marking started, then objects hidden from the chain's unscanned
 * tail in young objects reachable only from the roots. Throws (the verifier)
 * when the collector loses one; otherwise also checks every hidden object
 * itself at the end.
 */
function hideWhileMarking(plugin: CollectorPlugin, seed: number, length = 200_000): DriverResult {
  const rnd = seededRandom(seed);
  const vm = new Vm({
    heapBytes: 32 << 20,
    regionBytes: 256 << 10,
    collector: plugin,
    collectorOptions: { ihopPercent: 1, concurrentMark: true, ...('tenuringThreshold' in plugin.options ? { tenuringThreshold: 0 } : {}) },
    // verification off during the run, so nothing delays the mutator between concurrent start and the hiding;
    // the driver runs the verifier itself right after remark (the SATB invariant) and at the end
    verify: 'off',
    rootSlots: 1 << 14,
  });
  const counts = new Counts();
  vm.events.subscribe(counts);
  const m = vm.newMutator(1 << 14);
  const node = vm.types.struct('Node', 3, 1);
  const dataOffset = vm.types.info(node).dataOffset;

  // the chain: root -> n0 -> n1 -> ...; node i: slot 0 next, slot 1 side (tagged with i).
  // The last TAIL nodes are also held by root slots below the head's, so the marker marks them at the start
  // but, its gray stack being LIFO, scans them only after walking the whole chain from the head: meanwhile
  // the mutator reaches them in O(1) and moves their side objects into young objects
  const TAIL = 3000;
  for (let i = 0; i < TAIL; i++) m.push(0);
  const headSlot = m.push(m.alloc(node));
  let prev = m.get(headSlot);
  const tmp = m.push(0);
  for (let i = 1; i < length; i++) {
    m.set(tmp, prev);
    const side = m.alloc(node);
    vm.heap.words[side + dataOffset] = i;
    prev = m.get(tmp);
    m.setRef(prev, 1, side);
    const next = m.alloc(node);
    prev = m.get(tmp);
    m.setRef(prev, 0, next);
    prev = next;
  }
  m.pop(1);
  {
    const all: number[] = [];
    for (let n = m.get(headSlot); n !== 0; n = m.getRef(n, 0)) all.push(n);
    for (let i = 0; i < TAIL; i++) m.set(i, all[all.length - 1 - i]);
  }
  const holders = m.push(m.allocArray(vm.types.refArray('Holders'), TAIL));
  // promote it (g1: tenuring threshold 1) and get a concurrent cycle started by a young pause
  // (a cycle started while the chain was built may be running: finish it, then start a fresh one)
  const started = () => counts.counters.concurrentStart ?? 0;
  const before = started();
  const waitUntil = performance.now() + 20_000;
  while (started() === before && performance.now() < waitUntil) {
    // let a running cycle's worker finish (collectionRequired turns true), then pause
    const spin = performance.now() + 50;
    while (!vm.collector.collectionRequired() && performance.now() < spin);
    vm.collect();
  }
  expect(started(), 'a concurrent cycle started').toBeGreaterThan(before);
  const cycle0 = counts.counters.concurrentCyclesCompleted ?? 0;

  // the worker walks the chain from its head; hide side objects of the tail nodes right away
  let hidden = 0;
  const hiddenTags: number[] = [];
  for (let k = 0; k < TAIL; k += 1 + Math.floor(rnd() * 2)) {
    const tailNode = m.get(k);
    const side = m.getRef(tailNode, 1);
    if (side === 0) continue;
    const y = m.alloc(node); // young
    m.setRef(y, 0, side);
    m.setRef(tailNode, 1, 0); // the only old reference to side is gone: SATB must record it
    m.setRef(m.get(holders), hidden, y);
    hiddenTags.push(vm.heap.words[side + dataOffset]);
    hidden++;
  }
  // keep the mutator going (allocating garbage, pausing) until remark and cleanup have run
  const done = () => (counts.counters.concurrentCyclesCompleted ?? 0) > cycle0 && (counts.kinds.cleanup ?? 0) > 0;
  let remarks = counts.kinds.remark ?? 0;
  const verifyAfterRemark = () => {
    if ((counts.kinds.remark ?? 0) === remarks) return;
    remarks = counts.kinds.remark ?? 0;
    vm.verifyNow('after remark', 'debug');
  };
  const t0 = performance.now();
  for (let i = 0; !done() && (i % 1024 !== 0 || performance.now() - t0 < 20_000); i++) {
    m.alloc(node);
    verifyAfterRemark();
    if (i % 20_000 === 19_999) { vm.collect(); verifyAfterRemark(); }
  }
  vm.collect();
  vm.collect();
  // every hidden object is still there, with its tag
  let lost = 0;
  const h = m.get(holders);
  for (let i = 0; i < hidden; i++) {
    const y = m.getRef(h, i);
    const side = m.getRef(y, 0);
    if (side === 0 || vm.heap.words[side] >>> TYPE_SHIFT !== node || vm.heap.words[side + dataOffset] !== hiddenTags[i]) lost++;
  }
  vm.verifyNow('at the end of the driver', 'debug');
  return { hidden, cycles: (counts.counters.concurrentCyclesCompleted ?? 0) - cycle0, lost, events: JSON.stringify({ counters: counts.counters, kinds: counts.kinds }) + counts.seq.join('') };
}

// ---- the tests ---------------------------------------------------------------------------------------

for (const plugin of [cre, g1]) {
  describe(`${plugin.name}: real concurrent marking`, () => {
    it(`${PROGRAMS} random programs with a cycle starting at almost every young pause match the oracle; cycles complete on the worker`, { timeout: TIMEOUT_MS }, () => {
      const summary = checkCollector(plugin, {
        runs: PROGRAMS,
        seed: SEED,
        heapBytes: 96 * 1024,
        regionBytes: 4096,
        liveFraction: 0.5,
        maxOps: 150,
        gcWeight: 1,
        verify: 'debug',
        label: 'concurrent',
        collectorOptions: { ihopPercent: 1, concurrentMark: true, ...('tenuringThreshold' in plugin.options ? { tenuringThreshold: 1 } : {}) },
      });
      const c = summary.counters;
      console.info(`[${plugin.name}] ${summary.runs} programs: ${c.concurrentStart ?? 0} concurrent starts, ${c.concurrentCyclesCompleted ?? 0} completed `
        + `(${c.workerObjectsMarked ?? 0} objects marked by the worker), ${c.concurrentCyclesPreempted ?? 0} preempted, `
        + `${c.concurrentCyclesAborted ?? 0} aborted by full GCs, ${c.concurrentMarkFallbacks ?? 0} stop-the-world fallbacks; pauses ${JSON.stringify(summary.pauseKinds)}`);
      expect(c.concurrentStart ?? 0).toBeGreaterThan(0);
      expect(c.concurrentCyclesCompleted ?? 0).toBeGreaterThan(PROGRAMS / 20);
      expect(summary.pauseKinds.remark ?? 0).toBeGreaterThan(0);
      expect(summary.pauseKinds.cleanup ?? 0).toBeGreaterThan(0);
      expect(c.workerObjectsMarked ?? 0, 'the worker, not only remark, marked').toBeGreaterThan(0);
    });

    it(`${DRIVERS} hiding drivers: references moved out of the chain's unscanned tail while the worker marks are not lost`, { timeout: TIMEOUT_MS }, () => {
      let hidden = 0;
      for (let i = 0; i < DRIVERS; i++) {
        const r = hideWhileMarking(plugin, SEED + i);
        expect(r.lost).toBe(0);
        expect(r.cycles, `seed ${SEED + i}: ${r.events}`).toBeGreaterThan(0);
        hidden += r.hidden;
      }
      expect(hidden).toBeGreaterThan(DRIVERS * 100);
    });

    it('planted bug: without the SATB enqueue the hiding driver fails', { timeout: TIMEOUT_MS }, () => {
      const buggy = withoutSatbEnqueue(plugin);
      expect(() => {
        for (let i = 0; i < DRIVERS; i++) hideWhileMarking(buggy, SEED + i);
      }).toThrow(/SATB: object at \d+ .* is not marked at remark/);
    });
  });
}
