/**
 * The concurrent remembered-set rebuild and scrub (vm-core/concurrent/
 * rebuild-scrub.ts) on the real marker worker, against the stop-the-world
 * cleanup it replaces (marking-cycle.ts: scrubRegion, then
 * rebuildRememberedSets), on the same marked heap:
 *
 *   heap      epsilon (nothing moves), old regions of random Nodes and reference arrays
 *             (humongous ones too), a random graph, a few roots; TAMS put at a random
 *             object boundary of each region (objects above it count as allocated after
 *             the snapshot: implicitly live); the Tracer marks from the roots
 *   targets   a random third of the regions
 *   STW       on a copy of the heap: scrubRegion for every region, then
 *             rebuildRememberedSets into a recording remembered-set stand-in
 *   worker    beginRebuild with the same task; while it runs, the test suspends and
 *             resumes it at random (as pauses do), drains pairs at random; a pair ring
 *             of 64 entries makes it wait for room; some runs call finishRebuild before
 *             it is done, so this thread finishes the walk from where the worker stopped
 *
 * Both must give the same heap as a parser sees it (object starts, headers,
 * sizes, every live object's words, the block offsets of every card) and the
 * same set of (target, card) pairs. Not timed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rebuildRememberedSets, scrubRegion } from '../../collectors/region/marking-cycle.js';
import type { RememberedSets } from '../../collectors/region/remembered-sets.js';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import { ConcurrentMarker, rebuildTask } from '../../vm-core/concurrent/concurrent-marker.js';
import { TASK_CLEAR, TASK_COUNT, TASK_WALK, taskFlagsBase, taskLimitBase, taskTargetBase } from '../../vm-core/concurrent/rebuild-scrub.js';
import { REB_INDEX, REB_PASS, REB_POS } from '../../vm-core/concurrent/shared-work-list.js';
import type { Heap } from '../../vm-core/heap.js';
import { LOG_CARD_WORDS, TYPE_SHIFT } from '../../vm-core/layout.js';
import { FILLER_TYPE_ID } from '../../vm-core/type-registry.js';
import { REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START } from '../../vm-core/region-table.js';
import { Tracer } from '../../vm-core/tracer.js';
import { Vm } from '../../vm-core/vm.js';
import { ensureMarkerBuilt } from '../deep/marker-build.js';
import { seededRandom } from '../kit/fixtures.js';

const DEEP = process.env.HEAPLAB_DEEP === '1';
const HEAPS = DEEP ? 400 : 16;

interface Case { vm: Vm; heap: Heap; used: number[]; targets: Uint8Array }

/** A marked epsilon heap with TAMS at a random object boundary of each used region. */
function markedHeap(seed: number): Case {
  const rnd = seededRandom(seed);
  const vm = new Vm({ heapBytes: 2 << 20, regionBytes: 16 << 10, collector: epsilon, rootSlots: 256 });
  const heap = vm.heap;
  const m = vm.newMutator(256);
  const node = vm.types.struct('Node', 3, 2);
  const refs = vm.types.refArray('Refs');
  const all: number[] = [];
  for (let i = 0, n = 2000 + Math.floor(rnd() * 6000); i < n; i++) {
    const r = rnd();
    all.push(r < 0.02 ? m.allocArray(refs, 100 + Math.floor(rnd() * 3000)) : r < 0.1 ? m.allocArray(refs, Math.floor(rnd() * 40)) : m.alloc(node));
  }
  for (const o of all) for (let s = 0, k = heap.refCount(o); s < k; s++) if (rnd() < 0.5) m.setRef(o, s, all[Math.floor(rnd() * all.length)]);
  for (let i = 0; i < 3; i++) m.push(all[Math.floor(rnd() * all.length)]);
  vm.collector.retireTlab(m);
  const regions = heap.regions;
  const used: number[] = [];
  for (let r = 0; r < heap.regionCount; r++) {
    const kind = regions.kind[r];
    if (kind === REGION_FREE || kind === REGION_HUMONGOUS_CONT) continue;
    used.push(r);
    if (kind === REGION_HUMONGOUS_START) { regions.tams[r] = regions.top[r]; continue; }
    // TAMS at a random object boundary: objects above it were "allocated during the cycle"
    const starts: number[] = [];
    for (let o = r === 0 ? 2 : regions.bottom(r); o < regions.top[r]; o += heap.sizeOf(o)) starts.push(o);
    starts.push(regions.top[r]);
    regions.tams[r] = rnd() < 0.7 ? regions.top[r] : starts[Math.floor(rnd() * starts.length)];
  }
  const tracer = new Tracer(heap);
  tracer.reset();
  tracer.markRoots([m]);
  tracer.drain();
  const targets = new Uint8Array(heap.regionCount);
  for (const r of used) if (rnd() < 0.33) targets[r] = 1;
  return { vm, heap, used, targets };
}

/** Dead below TAMS: what the rebuild clears and scrubs. */
function deadHumongous(heap: Heap, r: number): boolean {
  const obj = heap.regions.bottom(r);
  return obj < heap.regions.tams[r] && ((heap.meta.markBitmap[obj >> 6] >>> ((obj >> 1) & 31)) & 1) === 0;
}

/** The stop-the-world cleanup's scrub: every region but dead humongous ones (those it frees). */
function stwScrub(heap: Heap, used: number[]): void {
  for (const r of used) if (heap.regions.kind[r] !== REGION_HUMONGOUS_START) scrubRegion(heap, r);
}

/** The stop-the-world rebuild, recorded: (target, card) pairs, those from dead humongous objects left out (freed, not scanned). */
function stwRebuild(heap: Heap, targets: Uint8Array): Set<number> {
  const pairs = new Set<number>();
  const cardsPerRegionLog = heap.logRegionWords - LOG_CARD_WORDS;
  const recorder = {
    tracked: targets,
    add(t: number, card: number) {
      const source = card >> cardsPerRegionLog;
      if (heap.regions.kind[source] === REGION_HUMONGOUS_START && deadHumongous(heap, source)) return;
      pairs.add(t * 0x1000000 + card);
    },
  } as unknown as RememberedSets;
  rebuildRememberedSets(heap, recorder);
  return pairs;
}

/** The heap as a parser sees it: [start, header, size, live words...] per object, fillers as [start, header, size]. */
function parsed(heap: Heap, used: number[]): string[] {
  const out: string[] = [];
  for (const r of used) {
    const kind = heap.regions.kind[r];
    if (kind === REGION_HUMONGOUS_START) {
      if (deadHumongous(heap, r)) continue; // STW frees it; the rebuild only clears it
      const o = heap.regions.bottom(r);
      out.push(`${o}:${heap.words.subarray(o, o + heap.sizeOf(o)).join(',')}`);
      continue;
    }
    for (let o = r === 0 ? 0 : heap.regions.bottom(r); o < heap.regions.top[r]; o += heap.sizeOf(o)) {
      const filler = heap.words[o] >>> TYPE_SHIFT === FILLER_TYPE_ID;
      out.push(filler ? `${o}:filler:${heap.sizeOf(o)}` : `${o}:${heap.words.subarray(o, o + heap.sizeOf(o)).join(',')}`);
    }
  }
  return out;
}

describe('concurrent remembered-set rebuild and scrub (real worker) = the stop-the-world cleanup', () => {
  let marker: ConcurrentMarker;

  beforeAll(async () => {
    ensureMarkerBuilt();
    marker = await ConcurrentMarker.start(markedHeap(1).heap, { pairCapacity: 64, ackTimeoutMs: 10_000 });
  });

  afterAll(async () => { await marker?.terminate(); });

  it(`gives the same heap and the same (target, card) pairs on ${HEAPS} marked heaps, suspended and resumed at random`, { timeout: DEEP ? 3_600_000 : 120_000 }, async () => {
    let pairsTotal = 0;
    let suspensions = 0;
    let finishedEarly = 0;
    for (let seed = 1; seed <= HEAPS; seed++) {
      const rnd = seededRandom(seed * 7919);
      const { heap, used, targets } = markedHeap(seed);
      const words0 = heap.words.slice();
      const bot0 = heap.meta.blockOffsets.slice();

      // stop-the-world: scrub every region below TAMS, then rebuild from every object left
      stwScrub(heap, used);
      const stw = stwRebuild(heap, targets);
      const stwParsed = parsed(heap, used);
      const stwBot = heap.meta.blockOffsets.slice();
      heap.words.set(words0);
      heap.meta.blockOffsets.set(bot0);

      // the worker, with the same task
      marker.attach(heap);
      const task = rebuildTask(heap);
      task.fill(0);
      const limitBase = taskLimitBase(heap.regionCount);
      const targetBase = taskTargetBase(heap.regionCount);
      const flagsBase = taskFlagsBase(heap.regionCount);
      let n = 0;
      for (const r of used) {
        const humongous = heap.regions.kind[r] === REGION_HUMONGOUS_START;
        const flags = humongous ? (deadHumongous(heap, r) ? TASK_CLEAR : TASK_WALK) : TASK_CLEAR | TASK_WALK;
        task[1 + n++] = r;
        task[flagsBase + r] = flags;
        task[limitBase + r] = heap.regions.top[r];
        task[targetBase + r] = targets[r];
      }
      task[TASK_COUNT] = n;
      const pairs = new Set<number>();
      const add = (t: number, card: number) => { pairs.add(t * 0x1000000 + card); };
      marker.beginRebuild();
      marker.resume();
      const early = rnd() < 0.25;
      // suspensions at random points of the walk (a bounded number: a worker stopped right after each
      // resume would make no progress), then it runs to the end
      let suspensionsLeft = 20 + Math.floor(rnd() * 60);
      for (let step = 0; !marker.idle && !(early && step > 3); step++) {
        const r = rnd();
        if (r < 0.3 && suspensionsLeft > 0) {
          suspensionsLeft--;
          marker.suspend();
          // stopped part-way: some of the walk done, some left (the position is in the control words)
          const c = (marker as unknown as { control: Int32Array }).control;
          if ((c[REB_PASS] === 2 || c[REB_INDEX] > 0 || c[REB_POS] > 0) && !(c[REB_PASS] === 2 && c[REB_INDEX] >= task[TASK_COUNT])) suspensions++;
          marker.drainPairs(add);
          marker.resume();
        }
        else if (r < 0.6) marker.drainPairs(add);
        else await new Promise((res) => setImmediate(res));
      }
      if (!marker.idle) finishedEarly++;
      const result = marker.finishRebuild(add);
      expect(parsed(heap, used)).toEqual(stwParsed);
      expect(heap.meta.blockOffsets).toEqual(stwBot);
      expect([...pairs].sort((a, b) => a - b)).toEqual([...stw].sort((a, b) => a - b));
      expect(result.pairs).toBeGreaterThanOrEqual(pairs.size);
      pairsTotal += pairs.size;
    }
    console.info(`[rebuild] ${HEAPS} heaps: ${pairsTotal} (target, card) pairs, ${suspensions} suspensions part-way through the walk, ${finishedEarly} finished by the pause`);
    expect(pairsTotal).toBeGreaterThan(0);
    expect(suspensions).toBeGreaterThan(0);
  });
});
