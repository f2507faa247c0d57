/**
 * The concurrent SATB marker (vm-core/concurrent/) on its real worker thread.
 *
 * Random programs on an epsilon heap (nothing moves) with the SATB pre-write
 * barrier on: build a random graph, snapshot what is reachable (plain JS walk),
 * beginCycle from the roots, then mutate the graph heavily while the worker
 * marks (move references, hide them from unscanned objects, drop and replace
 * roots, allocate and link new objects), flush the SATB buffer, remark with the
 * final roots, and check:
 *   (a) everything reachable from the final roots is marked or above TAMS
 *   (b) everything reachable at the snapshot is marked
 *   (c) the mark bitmap, the live-word counts and the reported counts agree
 *   (d) with the SATB enqueue removed (planted bug) some program loses an object
 * 200 programs by default; HEAPLAB_DEEP=1 runs 3000. One worker serves them all.
 *
 * The worker is compiled JavaScript (dist/); when dist is missing or older than
 * the marker's sources, the test builds it first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epsilon } from '../collectors/epsilon/epsilon.js';
import type { Collector, CollectorPlugin } from '../vm-core/collector.js';
import { ConcurrentMarker } from '../vm-core/concurrent/concurrent-marker.js';
import type { Heap } from '../vm-core/heap.js';
import type { Mutator } from '../vm-core/mutator.js';
import { Tracer } from '../vm-core/tracer.js';
import { Vm } from '../vm-core/vm.js';
import { ensureMarkerBuilt } from './deep/marker-build.js';
import { seededRandom } from './kit/fixtures.js';

const DEEP = process.env.HEAPLAB_DEEP === '1';
const PROGRAMS = DEEP ? 3000 : 200;

// ---- a VM whose (epsilon) collector hands SATB buffers to the marker ------------------------

interface Sink { marker: ConcurrentMarker | null; dropSatb: boolean }

class SatbForwardingCollector implements Collector {
  constructor(private readonly inner: Collector, private readonly sink: Sink) {}
  refillTlab(m: Mutator, minWords: number): boolean { return this.inner.refillTlab(m, minWords); }
  allocHumongous(words: number): number { return this.inner.allocHumongous(words); }
  retireTlab(m: Mutator): void { this.inner.retireTlab(m); }
  collectionRequired(): boolean { return false; }
  collect(cause: string): void { this.inner.collect(cause); }
  usedWords(): number { return this.inner.usedWords(); }
  get allocatedWords(): number { return this.inner.allocatedWords; }
  onSatbBuffer(refs: Int32Array, n: number): void {
    if (!this.sink.dropSatb) this.sink.marker?.enqueueSatb(refs, n); // dropSatb: the planted bug
  }
}

function satbPlugin(sink: Sink): CollectorPlugin {
  return {
    ...epsilon,
    name: 'epsilon+satb-marker',
    constraints: { ...epsilon.constraints, barriers: { ...epsilon.constraints.barriers, preWrite: 'satb' } },
    create: (vm, options) => new SatbForwardingCollector(epsilon.create(vm, options), sink),
  };
}

interface Env { vm: Vm; m: Mutator; node: number; refs: number; leaf: number }

function newEnv(sink: Sink, heapBytes = 32 << 20): Env {
  const vm = new Vm({ heapBytes, regionBytes: 64 << 10, collector: satbPlugin(sink), rootSlots: 4096 });
  return {
    vm,
    m: vm.newMutator(),
    node: vm.types.struct('Node', 3, 1),
    refs: vm.types.refArray('Refs'),
    leaf: vm.types.dataArray('Bytes', 1),
  };
}

/** Every object reachable from roots[0..n) (a plain walk over the heap words). */
function reachable(heap: Heap, roots: ArrayLike<number>, n: number): number[] {
  const seen = new Set<number>();
  const stack: number[] = [];
  for (let i = 0; i < n; i++) if (roots[i] !== 0 && !seen.has(roots[i])) { seen.add(roots[i]); stack.push(roots[i]); }
  while (stack.length > 0) {
    const obj = stack.pop()!;
    for (let i = 0, k = heap.refCount(obj); i < k; i++) {
      const c = heap.words[obj + 2 + i];
      if (c !== 0 && !seen.has(c)) { seen.add(c); stack.push(c); }
    }
  }
  return [...seen];
}

interface Outcome { lost: string[]; workerObjects: number; objects: number; concurrentMs: number; remarkMs: number }

/** One random program: graph, snapshot, beginCycle, heavy mutation with SATB, remark, checks. */
function runProgram(seed: number, env: Env, marker: ConcurrentMarker): Outcome {
  const { vm, m } = env;
  const heap = vm.heap;
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  m.popFrame(0);
  // the graph
  const n = 50 + Math.floor(rnd() * (rnd() < 0.2 ? 6000 : 1500));
  const pool: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    pool.push(r < 0.1 ? m.allocArray(env.refs, Math.floor(rnd() * 40)) : r < 0.15 ? m.allocArray(env.leaf, Math.floor(rnd() * 10)) : m.alloc(env.node));
  }
  const density = 0.3 + rnd() * 0.6;
  for (const o of pool) for (let i = 0, k = heap.refCount(o); i < k; i++) if (rnd() < density) m.setRef(o, i, pick(pool));
  for (let i = 0, r = 1 + Math.floor(rnd() * 6); i < r; i++) m.push(pick(pool));
  // some programs also hang a long chain off a root: the worker walks it one object at a time, so a cut
  // made right after beginCycle lands in its unscanned part and the tail survives only through SATB
  const chain: number[] = [];
  if (rnd() < 0.3) {
    const head = m.push(m.alloc(env.node));
    chain.push(m.get(head));
    for (let i = 1, len = 2000 + Math.floor(rnd() * 8000); i < len; i++) {
      const next = m.alloc(env.node);
      m.setRef(chain[i - 1], 0, next);
      if (rnd() < 0.1) m.setRef(next, 1, pick(pool));
      chain.push(next);
    }
  }
  const snapshot = reachable(heap, m.roots, m.sp);
  // from here on the mutator only uses what it could reach: objects reachable at the snapshot (SATB
  // keeps them all, even once dropped) and objects it allocates; never garbage from before the snapshot
  // (the chain is left alone but for one cut, so nothing re-links its tail)
  const inChain = new Set(chain);
  pool.length = 0;
  for (const o of snapshot) if (!inChain.has(o)) pool.push(o);

  // concurrent start (a pause: TLABs retired, as the VM's stopMutators does)
  vm.collector.retireTlab(m);
  marker.beginCycle(m.roots, m.sp);
  m.marking = true;

  // the mutator runs while the worker marks; every overwritten reference goes through the SATB barrier
  if (chain.length > 0) m.setRef(chain[chain.length >> 1], 0, 0); // cut the chain in its middle
  const ops = Math.floor(n * (0.2 + rnd() * 3));
  const slotOf = (o: number) => { const k = heap.refCount(o); return k === 0 ? -1 : Math.floor(rnd() * k); };
  for (let op = 0; op < ops; op++) {
    const r = rnd();
    if (r < 0.35) { // move a reference around
      const o = pick(pool); const s = slotOf(o);
      if (s >= 0) m.setRef(o, s, rnd() < 0.15 ? 0 : pick(pool));
    } else if (r < 0.55) { // hide: copy a reference from one object into another, clear the source
      const x = pick(pool); const sx = slotOf(x); const y = pick(pool); const sy = slotOf(y);
      if (sx >= 0 && sy >= 0) { const v = m.getRef(x, sx); m.setRef(y, sy, v); m.setRef(x, sx, 0); }
    } else if (r < 0.7) { // allocate, link to old objects, publish in an old object or a root
      const fresh = rnd() < 0.1 ? m.allocArray(env.refs, 1 + Math.floor(rnd() * 8)) : m.alloc(env.node);
      m.setRef(fresh, 0, pick(pool));
      pool.push(fresh);
      const o = pick(pool); const s = slotOf(o);
      if (s >= 0 && rnd() < 0.7) m.setRef(o, s, fresh);
      else if (m.sp < 64) m.push(fresh);
    } else if (r < 0.8) { // drop or replace a root
      if (m.sp > 0) m.set(Math.floor(rnd() * m.sp), rnd() < 0.4 ? 0 : pick(pool));
    } else if (r < 0.9) { // load a reference from the heap into a root, then clear it in the heap
      if (m.sp > 0 && m.sp < 64) {
        const o = m.get(Math.floor(rnd() * m.sp));
        const s = o === 0 ? -1 : slotOf(o);
        if (s >= 0) { m.push(m.getRef(o, s)); m.setRef(o, s, 0); }
      }
    } else if (r < 0.93) { // a safepoint: the SATB buffer is handed over early
      vm.satbBufferFull(m);
    } else if (r < 0.935) { // let the worker run ahead for a moment
      const until = performance.now() + rnd() * 0.05;
      while (performance.now() < until);
    }
  }

  // remark (a pause: SATB buffers flushed, marking off)
  vm.satbBufferFull(m);
  m.marking = false;
  vm.collector.retireTlab(m);
  const result = marker.remark(m.roots, m.sp);

  const lost: string[] = [];
  for (const o of reachable(heap, m.roots, m.sp)) if (!marker.isMarked(o)) lost.push(`seed ${seed}: object ${o} reachable from the final roots is not marked`);
  for (const o of snapshot) if (!marker.isMarked(o)) lost.push(`seed ${seed}: object ${o} reachable at the snapshot is not marked`);
  checkAccounting(heap, marker, result.objectsMarked, result.wordsMarked, lost, seed);
  return { lost, workerObjects: result.workerObjectsMarked, objects: result.objectsMarked, concurrentMs: result.concurrentMs, remarkMs: result.remarkMs };
}

/** (c) the bitmap below TAMS, the per-region live words and the reported totals agree: each object marked exactly once. */
function checkAccounting(heap: Heap, marker: ConcurrentMarker, objects: number, words: number, problems: string[], seed: number): void {
  const bitmap = heap.meta.markBitmap;
  let count = 0;
  let total = 0;
  for (let r = 0; r < heap.regionCount; r++) {
    let live = 0;
    const tams = heap.regions.tams[r];
    for (let w = heap.regions.bottom(r); w < tams; w += 2) {
      if (((bitmap[w >> 6] >>> ((w >> 1) & 31)) & 1) !== 0) { count++; live += heap.sizeOf(w); }
    }
    total += live;
    if (live !== marker.liveWords(r)) problems.push(`seed ${seed}: region ${r} live words ${marker.liveWords(r)}, marked objects hold ${live}`);
  }
  if (count !== objects || total !== words) problems.push(`seed ${seed}: reported ${objects} objects / ${words} words, bitmap has ${count} / ${total}`);
}

/** Runs programs [first, first + count) reusing the environment until its heap fills up, then a fresh one (marker.attach). */
function runMany(sink: Sink, marker: ConcurrentMarker, first: number, count: number, stopAtFirstLoss = false): { lost: string[]; workerObjects: number; objects: number; failingSeeds: number } {
  let env = newEnv(sink);
  marker.attach(env.vm.heap);
  const lost: string[] = [];
  let workerObjects = 0;
  let objects = 0;
  let failingSeeds = 0;
  for (let seed = first; seed < first + count; seed++) {
    if (env.vm.heap.usedWords() > env.vm.heap.heapWords * 0.6) { env = newEnv(sink); marker.attach(env.vm.heap); }
    const out = runProgram(seed, env, marker);
    if (out.lost.length > 0) failingSeeds++;
    lost.push(...out.lost.slice(0, 3));
    workerObjects += out.workerObjects;
    objects += out.objects;
    if (stopAtFirstLoss && out.lost.length > 0) break;
  }
  return { lost, workerObjects, objects, failingSeeds };
}

describe('concurrent SATB marker (real worker thread)', () => {
  const sink: Sink = { marker: null, dropSatb: false };
  let marker: ConcurrentMarker;

  beforeAll(async () => {
    ensureMarkerBuilt();
    marker = await ConcurrentMarker.start(newEnv(sink).vm.heap);
    sink.marker = marker;
  });

  afterAll(async () => { await marker?.terminate(); });

  it(`loses no object over ${PROGRAMS} programs that mutate the graph while the worker marks`, () => {
    const { lost, workerObjects, objects } = runMany(sink, marker, 1, PROGRAMS);
    expect(lost.slice(0, 10)).toEqual([]);
    // the worker, not only the remark pause, did marking
    expect(workerObjects).toBeGreaterThan(0);
    expect(objects).toBeGreaterThan(workerObjects);
  });

  it('planted bug: without the SATB enqueue some program loses an object', () => {
    sink.dropSatb = true;
    try {
      const programs = DEEP ? 400 : PROGRAMS;
      const { lost, failingSeeds } = runMany(sink, marker, 1, programs);
      console.log(`[concurrent-marker] planted bug (no SATB enqueue): ${failingSeeds} of ${programs} programs lost objects`);
      expect(failingSeeds).toBeGreaterThan(0);
      expect(lost[0]).toMatch(/is not marked/);
    } finally {
      sink.dropSatb = false;
    }
  });

  it('marks exactly what the stop-the-world Tracer marks when nothing mutates, and reports both rates', async () => {
    const env = newEnv(sink, 128 << 20);
    const { vm, m } = env;
    const heap = vm.heap;
    const rnd = seededRandom(7);
    const pool: number[] = [];
    for (let i = 0; i < 600_000; i++) pool.push(rnd() < 0.05 ? m.allocArray(env.refs, 16) : m.alloc(env.node));
    for (const o of pool) for (let i = 0, k = heap.refCount(o); i < k; i++) if (rnd() < 0.6) m.setRef(o, i, pool[Math.floor(rnd() * pool.length)]);
    for (let i = 0; i < 32; i++) m.push(pool[Math.floor(rnd() * pool.length)]);
    vm.collector.retireTlab(m);

    const tracer = new Tracer(heap);
    let stw = { ms: Infinity, objects: 0, words: 0 };
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      tracer.reset();
      tracer.markRoots([m]);
      tracer.drain();
      const ms = performance.now() - t0;
      if (ms < stw.ms) stw = { ms, objects: tracer.objectsMarked, words: tracer.wordsMarked };
    }
    const tracerMarks = Int32Array.from(heap.meta.markBitmap);

    marker.attach(heap);
    let conc = { ms: Infinity, objects: 0, remarkMs: 0, worker: 0 };
    for (let rep = 0; rep < 6; rep++) {
      const t0 = performance.now();
      marker.beginCycle(m.roots, m.sp);
      while (!marker.idle) await new Promise((r) => setImmediate(r));
      const ms = performance.now() - t0;
      const res = marker.remark(m.roots, m.sp);
      expect(res.objectsMarked).toBe(stw.objects);
      expect(res.wordsMarked).toBe(stw.words);
      if (ms < conc.ms) conc = { ms, objects: res.objectsMarked, remarkMs: res.remarkMs, worker: res.workerObjectsMarked };
    }
    expect(heap.meta.markBitmap).toEqual(tracerMarks);
    const rate = (objects: number, ms: number) => `${(objects / ms / 1000).toFixed(2)} M objects/s`;
    console.log(`[concurrent-marker] ${stw.objects} live objects: STW Tracer ${stw.ms.toFixed(1)} ms (${rate(stw.objects, stw.ms)}); ` +
      `worker ${conc.ms.toFixed(1)} ms to idle (${rate(conc.objects, conc.ms)}, ${conc.worker} by the worker), remark ${conc.remarkMs.toFixed(2)} ms`);
  });

  it('survives tiny queues: gray-stack overflow (rescan of marked objects) and SATB ring overflow (kept on the mutator thread)', async () => {
    const small = await ConcurrentMarker.start(newEnv(sink).vm.heap, { grayCapacity: 16, satbCapacity: 4 });
    const saved = sink.marker;
    sink.marker = small;
    try {
      const { lost, objects } = runMany(sink, small, 5000, DEEP ? 500 : 40);
      expect(lost.slice(0, 10)).toEqual([]);
      expect(objects).toBeGreaterThan(0);
      expect(small.satbOverflows).toBeGreaterThan(0);
    } finally {
      sink.marker = saved;
      await small.terminate();
    }
  });

  it('refuses misuse with clear errors', () => {
    expect(() => marker.remark(new Int32Array(0), 0)).toThrow(/remark without beginCycle/);
    const env = newEnv(sink, 4 << 20);
    marker.attach(env.vm.heap);
    marker.beginCycle(new Int32Array(0), 0);
    expect(() => marker.beginCycle(new Int32Array(0), 0)).toThrow(/while a cycle is active/);
    expect(() => marker.attach(env.vm.heap)).toThrow(/during a marking cycle/);
    const res = marker.remark(new Int32Array(0), 0);
    expect(res.objectsMarked).toBe(0);
    expect(marker.idle).toBe(true);
  });
});
