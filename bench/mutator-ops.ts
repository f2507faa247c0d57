/**
 * Mutator-operation suite: what one `alloc`, `getRef` and `setRef` cost on the
 * fast path, for ONE barrier variant per process, next to the same loop doing
 * a plain Int32Array load/store in the same process and the same run.
 *
 *   node dist/bench/mutator-ops.js --variant none|satb|card|g1 [--counted]
 *
 * What is measured (each a tinybench task whose iteration is one batch; ns/op =
 * median batch time / ops per batch):
 *   alloc          100,000 `alloc` of a small struct (1 ref + 1 data word) on
 *                  epsilon: 6 words (24 B), since data starts at an even word
 *                  (type-registry.ts); `alloc 16 B` does the same with a 4-word
 *                  struct (0 refs + 1 data word, Key{id}'s shape). Epsilon
 *                  never collects, so the VM is recreated
 *                  (and its heap pre-faulted) in beforeEach, outside the timed
 *                  region, whenever the next batch would not fit. TLAB refills
 *                  (which zero 32 KiB each) are part of the cost, as in a real VM.
 *   getRef         8 passes of `m.getRef(objs[i], 0)` over 8,192 objects whose
 *                  refs are kept in an Int32Array (65,536 ops per batch)
 *   plain load     the same loop reading `words[objs[i] + 2]` directly
 *   setRef         8 passes of `m.setRef(objs[i], 0, vals[i])`; vals cycle through
 *                  a same-region ref, a cross-region ref and null. Steady state:
 *                  after the first pass every card the barrier can dirty is
 *                  dirty, so card variants run their fast path ("already dirty").
 *   setRef (clean cards)  card variants only: one pass per batch with the card
 *                  table cleaned in beforeEach, so each dirtied card costs one
 *                  slow path (dirty + enqueue): the mix of a first touch.
 *   plain store    the same loop writing `words[objs[i] + 2] = vals[i]`
 * The object set (192 KiB) and index arrays (64 KiB) fit in L2, so these loops
 * time instructions rather than L3 bandwidth that other processes share. The
 * loops get the mutator and arrays as ordinary values (through `box`, below),
 * as a workload does, so V8 cannot constant-fold them into either side.
 * The barrier/plain ratios compare setRef with plain store (floor: <= 2x) and
 * getRef with plain load; the judged ratio is the median over 301 interleaved
 * plain/barrier batch pairs, robust to load from other processes. Every
 * loop's result feeds a checksum that is printed, so V8 cannot drop the work.
 *
 * Why one process per variant: V8 inlines `m.setRef` only while the call site
 * has seen one or two receiver classes (DESIGN.md, "Barriers"); timing several
 * Mutator classes in one process would time a megamorphic call. The barrier is
 * chosen through the collector's constraints exactly as a real run chooses it
 * (barriers/select.ts): epsilon's plug-in with its barrier constraint replaced.
 * Each benchmark is one top-level function, called with one receiver class and
 * stable argument shapes, with no allocation in its loop.
 */
import os from 'node:os';
import { Bench } from 'tinybench';
import { readBarrierCounters } from '../barriers/counters.js';
import type { BarrierChoice } from '../barriers/select.js';
import { epsilon } from '../collectors/epsilon/epsilon.js';
import type { CollectorPlugin } from '../vm-core/collector.js';
import { REF_BASE, WORD_BYTES } from '../vm-core/layout.js';
import type { Mutator } from '../vm-core/mutator.js';
import { Vm } from '../vm-core/vm.js';
import { argFlag, argNumber, argValue, emit, floor, median, MIB, opResult, progress, round } from './common.js';

const VARIANTS: Record<string, BarrierChoice> = {
  none: { preWrite: 'none', postWrite: 'none', read: 'none' },
  satb: { preWrite: 'satb', postWrite: 'none', read: 'none' },
  card: { preWrite: 'none', postWrite: 'card', read: 'none' },
  g1: { preWrite: 'satb', postWrite: 'card', read: 'none' },
};

const variant = argValue('variant', 'none');
const counted = argFlag('counted');
const timeMs = argNumber('time', 500);
const barriers = VARIANTS[variant];
if (!barriers) {
  process.stderr.write(`mutator-ops: unknown --variant ${variant} (known: ${Object.keys(VARIANTS).join(', ')})\n`);
  process.exit(2);
}

/** Epsilon (never collects, no pauses) wearing the barrier under test. */
const plugin: CollectorPlugin = {
  ...epsilon,
  name: `epsilon+${variant}`,
  constraints: { ...epsilon.constraints, barriers },
};

const ALLOC_BATCH = 100_000;
/** Objects the ref loops walk: 8,192 x 24 B = 192 KiB, plus 64 KiB of index arrays, so the set stays in L2. */
const REF_OBJECTS = 1 << 13;
/** Passes over the objects per timed batch. */
const REF_REPS = 8;
const REF_REGION_BYTES = 32 * 1024;
const ALLOC_HEAP_BYTES = 256 * MIB;
const REF_HEAP_BYTES = 16 * MIB;

function newVm(heapBytes: number, regionBytes?: number): { vm: Vm; m: Mutator; type: number; type16: number } {
  const vm = new Vm({ heapBytes, regionBytes, collector: plugin, countBarriers: counted });
  // Registered in the same order in every VM, so the ids are the same in each.
  const type = vm.types.struct('Small', 1, 1);
  const type16 = vm.types.struct('Small16', 0, 1);
  const m = vm.newMutator(1024);
  m.marking = false; // SATB inactive: its fast path is the whole cost outside marking
  return { vm, m, type, type16 };
}

// ---- the timed loops: one function per operation -------------------------------

/**
 * Offset of reference slot 0, as a module-local constant: V8 (Node 20)
 * constant-folds a module's own `const` but loads an imported binding from its
 * module cell (with a hole check) at every use, so the plain loops must not use
 * the imported REF_BASE directly or the baseline pays for it too.
 */
const SLOT0 = REF_BASE;

function allocLoop(m: Mutator, type: number, n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum = (sum + m.alloc(type)) | 0;
  return sum;
}

function getRefLoop(m: Mutator, objs: Int32Array, reps: number): number {
  let sum = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0, n = objs.length; i < n; i++) sum = (sum + m.getRef(objs[i], 0)) | 0;
  }
  return sum;
}

function plainLoadLoop(words: Int32Array, objs: Int32Array, reps: number): number {
  let sum = 0;
  for (let r = 0; r < reps; r++) {
    for (let i = 0, n = objs.length; i < n; i++) sum = (sum + words[objs[i] + SLOT0]) | 0;
  }
  return sum;
}

function setRefLoop(m: Mutator, objs: Int32Array, vals: Int32Array, reps: number): number {
  const n = objs.length;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) m.setRef(objs[i], 0, vals[i]);
  }
  return m.getRef(objs[n - 1], 0);
}

function plainStoreLoop(words: Int32Array, objs: Int32Array, vals: Int32Array, reps: number): number {
  const n = objs.length;
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < n; i++) words[objs[i] + SLOT0] = vals[i];
  }
  return words[objs[n - 1] + SLOT0];
}

// ---- setup ------------------------------------------------------------------------

let checksum = 0;

// alloc: a VM that is replaced (outside the timed region) when the next batch would not fit
let allocVm = newVm(ALLOC_HEAP_BYTES);
allocVm.vm.heap.words.fill(0); // fault the pages in now, not in the timed TLAB refills
let vmsCreated = 1;
function freshAllocVm(): void {
  allocVm = newVm(ALLOC_HEAP_BYTES);
  allocVm.vm.heap.words.fill(0);
  vmsCreated++;
}
const smallWords = allocVm.vm.types.info(allocVm.type).sizeWords;
const batchRegions = Math.ceil((ALLOC_BATCH * smallWords) / allocVm.vm.heap.regionWords) + 2;

// getRef / setRef: N objects in a row, spanning 192 KiB = 6 regions of 32 KiB; a cross-region
// value is the object half the set (3 regions) away
const ref = newVm(REF_HEAP_BYTES, REF_REGION_BYTES);
const words = ref.vm.heap.words;
const objs = new Int32Array(REF_OBJECTS);
for (let i = 0; i < REF_OBJECTS; i++) objs[i] = ref.m.alloc(ref.type);
const logRegionWords = ref.vm.heap.logRegionWords;
const vals = new Int32Array(REF_OBJECTS);
let sameRegion = 0, crossRegion = 0, nulls = 0;
for (let i = 0; i < REF_OBJECTS; i++) {
  const k = i % 3;
  const v = k === 0 ? objs[i ^ 1] : k === 1 ? objs[(i + REF_OBJECTS / 2) % REF_OBJECTS] : 0;
  vals[i] = v;
  const slot = objs[i] + REF_BASE;
  if (v === 0) nulls++;
  else if (((slot ^ v) >> logRegionWords) === 0) sameRegion++;
  else crossRegion++;
}
setRefLoop(ref.m, objs, vals, 1); // the slots hold refs before getRef is timed

/**
 * The ref loops' inputs, read through fields that have been written twice, so
 * V8 treats them as ordinary values, as a workload's `m` and heap are, and
 * cannot constant-fold the mutator, its fields or the typed arrays' base and
 * length into the loops. (With constant arrays the plain-store loop measured
 * 0.47 ns/store here, with arrays as values 1.4 ns: fold one side and not the
 * other and the ratio means nothing.)
 */
const box: { m: Mutator; words: Int32Array; objs: Int32Array; vals: Int32Array } = {
  m: allocVm.m, words: new Int32Array(1), objs: new Int32Array(1), vals: new Int32Array(1),
};
box.m = ref.m;
box.words = words;
box.objs = objs;
box.vals = vals;
const hasCards = barriers.postWrite === 'card';

/**
 * The barrier/plain ratios from interleaved batches: plain, barrier, plain,
 * barrier, ... and the median of the per-pair ratios, so load from other
 * processes on a shared machine hits both sides of each pair alike. Each loop
 * function is called directly here (as in the tinybench tasks), never through
 * a function-valued parameter, so it is compiled the same way in both places.
 */
function pairedStoreRatio(pairs: number): number {
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const t0 = performance.now();
    checksum ^= plainStoreLoop(box.words, box.objs, box.vals, REF_REPS);
    const t1 = performance.now();
    checksum ^= setRefLoop(box.m, box.objs, box.vals, REF_REPS);
    const t2 = performance.now();
    ratios.push((t2 - t1) / (t1 - t0));
  }
  return median(ratios);
}

function pairedLoadRatio(pairs: number): number {
  const ratios: number[] = [];
  for (let p = 0; p < pairs; p++) {
    const t0 = performance.now();
    checksum ^= plainLoadLoop(box.words, box.objs, REF_REPS);
    const t1 = performance.now();
    checksum ^= getRefLoop(box.m, box.objs, REF_REPS);
    const t2 = performance.now();
    ratios.push((t2 - t1) / (t1 - t0));
  }
  return median(ratios);
}

// ---- run ---------------------------------------------------------------------------

progress(`mutator-ops: variant ${variant}${counted ? ' (counted)' : ''}, class ${ref.vm.mutatorClass.name}`);

const allocBench = new Bench({ name: 'alloc', time: 0, iterations: 200, warmupTime: 0, warmupIterations: 40 });
const allocHooks = {
  beforeEach(): void {
    if (allocVm.vm.heap.free.length < batchRegions) freshAllocVm();
  },
};
allocBench.add('alloc', () => { checksum ^= allocLoop(allocVm.m, allocVm.type, ALLOC_BATCH); }, allocHooks);
allocBench.add('alloc 16 B', () => { checksum ^= allocLoop(allocVm.m, allocVm.type16, ALLOC_BATCH); }, allocHooks);
allocBench.runSync();

const bench = new Bench({ name: 'refs', time: timeMs, iterations: 64, warmupTime: Math.min(150, timeMs), warmupIterations: 32 });
const REF_BATCH = REF_OBJECTS * REF_REPS;

bench.add('plain load', () => { checksum ^= plainLoadLoop(box.words, box.objs, REF_REPS); });
bench.add('getRef', () => { checksum ^= getRefLoop(box.m, box.objs, REF_REPS); });
bench.add('plain store', () => { checksum ^= plainStoreLoop(box.words, box.objs, box.vals, REF_REPS); });
bench.add('setRef', () => { checksum ^= setRefLoop(box.m, box.objs, box.vals, REF_REPS); });
if (hasCards) {
  // one pass per batch after cleaning: every card the pass dirties costs one slow path
  bench.add('setRef (clean cards)', () => { checksum ^= setRefLoop(box.m, box.objs, box.vals, 1); }, {
    beforeEach() { box.m.cards.fill(0); },
  });
}
// counters cover the timed ref runs only (reset after the alloc bench and the priming store pass)
ref.vm.barrierCounters.fill(0);
bench.runSync();

const PAIRS = 301;
const pairedSetRef = pairedStoreRatio(PAIRS);
const pairedGetRef = pairedLoadRatio(PAIRS);

const results = {
  alloc: opResult(allocBench.getTask('alloc'), ALLOC_BATCH),
  alloc16: opResult(allocBench.getTask('alloc 16 B'), ALLOC_BATCH),
  getRef: opResult(bench.getTask('getRef'), REF_BATCH),
  plainLoad: opResult(bench.getTask('plain load'), REF_BATCH),
  setRef: opResult(bench.getTask('setRef'), REF_BATCH),
  plainStore: opResult(bench.getTask('plain store'), REF_BATCH),
  ...(hasCards ? { setRefCleanCards: opResult(bench.getTask('setRef (clean cards)'), REF_OBJECTS) } : {}),
};
const setRefRatio = results.setRef.nsPerOp / results.plainStore.nsPerOp;
const getRefRatio = results.getRef.nsPerOp / results.plainLoad.nsPerOp;
const setRefRatioMin = results.setRef.nsPerOpMin / results.plainStore.nsPerOpMin;
const allocMObjs = results.alloc.mOpsPerSec;

emit({
  suite: 'mutator-ops',
  variant,
  counted,
  mutatorClass: ref.vm.mutatorClass.name,
  objectWords: smallWords,
  objectBytes: smallWords * WORD_BYTES,
  storeMix: { sameRegion, crossRegion, null: nulls },
  allocVmsCreated: vmsCreated,
  results,
  ratios: {
    /** Median of interleaved plain/barrier batch pairs: the figure the floor is judged on. */
    setRefOverPlainStorePaired: round(pairedSetRef, 3),
    getRefOverPlainLoadPaired: round(pairedGetRef, 3),
    /** From the tinybench medians and from the fastest batches. */
    setRefOverPlainStore: round(setRefRatio, 3),
    setRefOverPlainStoreMin: round(setRefRatioMin, 3),
    getRefOverPlainLoad: round(getRefRatio, 3),
    ...(hasCards ? { setRefCleanCardsOverPlainStore: round(results.setRefCleanCards!.nsPerOp / results.plainStore.nsPerOp, 3) } : {}),
  },
  floors: [
    floor(`alloc >= 100 M small objects/s (${smallWords * WORD_BYTES} B)`, allocMObjs, 'min', 100, 'M obj/s'),
    floor('alloc >= 100 M small objects/s (16 B)', results.alloc16.mOpsPerSec, 'min', 100, 'M obj/s'),
    // The counted build is for counting, not timing (DESIGN.md); its ratio is reported, not judged.
    ...(counted ? [] : [floor(`setRef (${variant}) within 2x of a plain store`, pairedSetRef, 'max', 2, 'x')]),
  ],
  barrierCounters: counted ? readBarrierCounters(ref.vm.barrierCounters) : undefined,
  loadAverage: round(os.loadavg()[0], 2),
  checksum,
});
