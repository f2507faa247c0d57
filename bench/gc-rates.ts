/**
 * GC work-rate suite: how fast the `evac` collector marks, copies and fixes
 * references on an lru-cache-shaped heap, each next to the same process's
 * memory-copy bandwidth measured in the same run.
 *
 *   node dist/bench/gc-rates.js [--entries 200000] [--rounds 6]
 *
 * The heap (256 MiB, evac, budgetPercent 100 so no pause happens while it is
 * built): a hash table (ref array, humongous) and a doubly linked LRU list of
 * `entries` entries, each
 *   Entry{key, value, prev, next, hnext}   struct, 5 refs, 0 data
 *   Key{id}                                struct, 0 refs, 1 data
 *   Payload{items; version}                struct, 1 ref, 1 data
 *   items                                  ref array of 8 Small
 *   Small{v}                               struct, 0 refs, 1 data
 * and, before each entry, a garbage Payload (+ items + 8 Small), as an
 * lru-cache update leaves behind, so every region is about 60% live and the
 * whole heap is evacuated (live ratio < 85%).
 *
 * A round: build the heap; one explicit pause (timed, through a
 * GcEventListener on vm.events: phase durations from phaseEnd times, work
 * from the objectsMarked / bytesMarked / bytesCopied / referencesFixed
 * counters); check the list and payloads survived intact; drop the roots and
 * collect again (untimed) so the next round reuses the same memory. Round 0
 * warms the JIT and is not counted; figures are medians over the other rounds.
 *
 *   mark rate   objectsMarked and bytesMarked / (mark-roots + mark) time
 *   copy rate   bytesCopied / copy time  (floor: >= 400 MB/s)
 *   fix rate    heap words the fix-references pass walks (everything in use
 *               after the pause) / fix time, and referencesFixed / fix time
 * next to memcpy bandwidth: Int32Array.prototype.copyWithin of 128 MiB within
 * a 256 MiB SharedArrayBuffer (the heap's kind of buffer), tinybench-timed in
 * the same process; plus an ArrayBuffer copyWithin and a JS word loop, for
 * reference. MB and GB are decimal (1e6, 1e9 bytes).
 *
 * One process for this suite, as for every timed run (DESIGN.md, "Barriers"):
 * the collector's loops are specialised by V8 for this one heap and type set.
 */
import os from 'node:os';
import { evac } from '../collectors/region/region-collector.js';
import { LOG_WORD_BYTES } from '../vm-core/layout.js';
import type { Mutator } from '../vm-core/mutator.js';
import { Vm } from '../vm-core/vm.js';
import { argNumber, emit, floor, median, MIB, progress, round } from './common.js';
import { measureMemcpy } from './memcpy.js';
import { type PauseRecord, PauseRecorder } from '../reports/recorder.js';

const HEAP_BYTES = 256 * MIB;
const ENTRIES = argNumber('entries', 200_000);
const ROUNDS = argNumber('rounds', 6);
const TABLE_SIZE = 1 << 18;
const ITEMS = 8;

// ---- the lru-cache-shaped heap ---------------------------------------------------------

const vm = new Vm({ heapBytes: HEAP_BYTES, collector: evac, collectorOptions: { budgetPercent: 100 }, countBarriers: false });
const recorder = new PauseRecorder(() => vm.heap.usedWords());
vm.events.subscribe(recorder);
const types = vm.types;
const T = {
  entry: types.struct('Entry', 5, 0),
  key: types.struct('Key', 0, 1),
  payload: types.struct('Payload', 1, 1),
  items: types.refArray('Items'),
  small: types.struct('Small', 0, 1),
  table: types.refArray('Table'),
};
const E_KEY = 0, E_VALUE = 1, E_PREV = 2, E_NEXT = 3, E_HNEXT = 4;
const KEY_ID = types.dataOffset(T.key, 0);
const PAYLOAD_VERSION = types.dataOffset(T.payload, 0);
const SMALL_V = types.dataOffset(T.small, 0);
const m = vm.newMutator();

/** A Payload with its items array and 8 Smalls; returns it (unrooted: use it before allocating again). */
function allocPayload(m: Mutator, seed: number, version: number): number {
  const frame = m.frame();
  const itemsSlot = m.push(m.allocArray(T.items, ITEMS));
  for (let j = 0; j < ITEMS; j++) {
    const s = m.alloc(T.small);
    m.setI32(s, SMALL_V, (seed * 31 + j) | 0);
    m.setRef(m.get(itemsSlot), j, s);
  }
  const p = m.alloc(T.payload);
  m.setRef(p, 0, m.get(itemsSlot));
  m.setI32(p, PAYLOAD_VERSION, version);
  m.popFrame(frame);
  return p;
}

const TABLE_SLOT = 0;
const HEAD_SLOT = 1;

function hash(id: number): number {
  return Math.imul(id, 0x9e3779b1) >>> 14; // 18 bits
}

/** Builds the table and list; returns the expected checksum of the live data. */
function build(m: Mutator, entries: number): number {
  m.popFrame(0);
  m.push(m.allocArray(T.table, TABLE_SIZE)); // TABLE_SLOT
  m.push(0); // HEAD_SLOT
  let expected = 0;
  for (let i = 0; i < entries; i++) {
    const id = i * 7 + 1;
    allocPayload(m, id, 0); // garbage: the value an update replaced
    const frame = m.frame();
    const keySlot = m.push(m.alloc(T.key));
    m.setI32(m.get(keySlot), KEY_ID, id);
    const payloadSlot = m.push(allocPayload(m, id, 1));
    const e = m.alloc(T.entry);
    m.setRef(e, E_KEY, m.get(keySlot));
    m.setRef(e, E_VALUE, m.get(payloadSlot));
    const head = m.get(HEAD_SLOT);
    m.setRef(e, E_NEXT, head);
    if (head !== 0) m.setRef(head, E_PREV, e);
    m.set(HEAD_SLOT, e);
    const table = m.get(TABLE_SLOT);
    const b = hash(id);
    m.setRef(e, E_HNEXT, m.getRef(table, b));
    m.setRef(table, b, e);
    m.popFrame(frame);
    expected = (expected + id + 1 + payloadSum(id)) | 0;
  }
  return expected;
}

function payloadSum(seed: number): number {
  let s = 0;
  for (let j = 0; j < ITEMS; j++) s = (s + ((seed * 31 + j) | 0)) | 0;
  return s;
}

/** Walks the list (and the table, for the entry count) and recomputes the checksum. */
function check(m: Mutator): { checksum: number; entries: number; inTable: number } {
  let checksum = 0;
  let entries = 0;
  let prev = 0;
  for (let e = m.get(HEAD_SLOT); e !== 0; e = m.getRef(e, E_NEXT)) {
    if (m.getRef(e, E_PREV) !== prev) throw new Error('gc-rates: broken prev link after GC');
    const payload = m.getRef(e, E_VALUE);
    const items = m.getRef(payload, 0);
    let s = m.getI32(m.getRef(e, E_KEY), KEY_ID) + m.getI32(payload, PAYLOAD_VERSION);
    for (let j = 0; j < ITEMS; j++) s += m.getI32(m.getRef(items, j), SMALL_V);
    checksum = (checksum + s) | 0;
    entries++;
    prev = e;
  }
  let inTable = 0;
  const table = m.get(TABLE_SLOT);
  for (let b = 0; b < TABLE_SIZE; b++) for (let e = m.getRef(table, b); e !== 0; e = m.getRef(e, E_HNEXT)) inTable++;
  return { checksum, entries, inTable };
}

// ---- rounds -----------------------------------------------------------------------------

progress(`gc-rates: evac, heap ${HEAP_BYTES / MIB} MiB, regions ${vm.heap.regionWords * 4 / 1024} KiB, ${ENTRIES} lru entries, ${ROUNDS} timed rounds + 1 warm-up`);
interface RoundResult {
  round: number;
  builtMB: number;
  pause: PauseRecord;
  markMs: number;
  copyMs: number;
  fixMs: number;
  markObjectsPerSec: number;
  markMBPerSec: number;
  copyMBPerSec: number;
  copyObjectsPerSec: number;
  fixWalkedMBPerSec: number;
  fixRefsPerSec: number;
}
const rounds: RoundResult[] = [];
for (let r = 0; r <= ROUNDS; r++) {
  const expected = build(m, ENTRIES);
  const builtMB = (vm.heap.usedWords() << LOG_WORD_BYTES) / 1e6;
  const before = recorder.pauses.length;
  vm.collect('bench');
  const pause = recorder.pauses[before];
  if (!pause || recorder.pauses.length !== before + 1) throw new Error('gc-rates: expected exactly one pause');
  const got = check(m);
  if (got.checksum !== expected || got.entries !== ENTRIES || got.inTable !== ENTRIES) {
    throw new Error(`gc-rates: heap damaged by the pause: ${JSON.stringify(got)}, expected checksum ${expected}`);
  }
  if (r === 0) vm.verifyNow('after the first timed pause'); // the timed collector is a correct one
  const c = pause.counters;
  const p = pause.phases;
  const markMs = (p['mark-roots'] ?? 0) + (p.mark ?? 0);
  const copyMs = p.copy ?? 0;
  const fixMs = p['fix-references'] ?? 0;
  const walkedBytes = pause.usedBytesAfter;
  const res: RoundResult = {
    round: r,
    builtMB: round(builtMB, 1),
    pause,
    markMs: round(markMs, 3),
    copyMs: round(copyMs, 3),
    fixMs: round(fixMs, 3),
    markObjectsPerSec: (c.objectsMarked ?? 0) / (markMs / 1e3),
    markMBPerSec: (c.bytesMarked ?? 0) / 1e6 / (markMs / 1e3),
    copyMBPerSec: (c.bytesCopied ?? 0) / 1e6 / (copyMs / 1e3),
    copyObjectsPerSec: (c.objectsCopied ?? 0) / (copyMs / 1e3),
    fixWalkedMBPerSec: walkedBytes / 1e6 / (fixMs / 1e3),
    fixRefsPerSec: (c.referencesFixed ?? 0) / (fixMs / 1e3),
  };
  rounds.push(res);
  progress(`round ${r}${r === 0 ? ' (warm-up)' : ''}: pause ${pause.durationMs.toFixed(1)} ms; mark ${markMs.toFixed(1)} ms, copy ${copyMs.toFixed(1)} ms (${(c.bytesCopied / 1e6).toFixed(1)} MB), fix ${fixMs.toFixed(1)} ms`);
  // drop everything; an untimed pause frees the heap for the next round
  m.popFrame(0);
  vm.collect('bench-reset');
}

// ---- memcpy bandwidth in the same process -----------------------------------------------

const { copyWithinSharedGBs, copyWithinPlainGBs, wordLoopGBs, sink } = measureMemcpy();

// ---- summary ------------------------------------------------------------------------------

const timed = rounds.filter((x) => x.round > 0);
const med = (f: (x: RoundResult) => number): number => median(timed.map(f));
const copyMBs = med((x) => x.copyMBPerSec);
const markMBs = med((x) => x.markMBPerSec);
const fixMBs = med((x) => x.fixWalkedMBPerSec);
const last = timed[timed.length - 1].pause;
emit({
  suite: 'gc-rates',
  collector: 'evac',
  heapBytes: HEAP_BYTES,
  regionBytes: vm.heap.regionWords * 4,
  entries: ENTRIES,
  roundsTimed: timed.length,
  heapBuiltMB: timed[0].builtMB,
  liveMB: round((last.counters.bytesMarked ?? 0) / 1e6, 1),
  objectsMarked: last.counters.objectsMarked,
  regionsInCset: last.counters.regionsInCset,
  bytesCopiedMB: round((last.counters.bytesCopied ?? 0) / 1e6, 1),
  referencesFixed: last.counters.referencesFixed,
  pauseMs: round(med((x) => x.pause.durationMs), 2),
  phasesMs: Object.fromEntries(Object.keys(last.phases).map((k) => [k, round(med((x) => x.pause.phases[k] ?? 0), 3)])),
  best: {
    markMBPerSec: round(Math.max(...timed.map((x) => x.markMBPerSec)), 1),
    copyMBPerSec: round(Math.max(...timed.map((x) => x.copyMBPerSec)), 1),
    fixWalkedMBPerSec: round(Math.max(...timed.map((x) => x.fixWalkedMBPerSec)), 1),
  },
  mark: {
    ms: round(med((x) => x.markMs), 2),
    mObjectsPerSec: round(med((x) => x.markObjectsPerSec) / 1e6, 2),
    mbPerSec: round(markMBs, 1),
  },
  copy: {
    ms: round(med((x) => x.copyMs), 2),
    mbPerSec: round(copyMBs, 1),
    mObjectsPerSec: round(med((x) => x.copyObjectsPerSec) / 1e6, 2),
  },
  fixReferences: {
    ms: round(med((x) => x.fixMs), 2),
    walkedMBPerSec: round(fixMBs, 1),
    mRefsFixedPerSec: round(med((x) => x.fixRefsPerSec) / 1e6, 2),
  },
  memcpy: {
    copyWithinSharedGBPerSec: copyWithinSharedGBs,
    copyWithinArrayBufferGBPerSec: copyWithinPlainGBs,
    jsWordLoopSharedGBPerSec: wordLoopGBs,
  },
  ratios: {
    copyRateOverCopyWithin: round(copyMBs / 1e3 / copyWithinSharedGBs, 4),
    markRateOverCopyWithin: round(markMBs / 1e3 / copyWithinSharedGBs, 4),
    fixRateOverCopyWithin: round(fixMBs / 1e3 / copyWithinSharedGBs, 4),
  },
  floors: [floor('evac copy rate >= 400 MB/s (lru-cache objects)', copyMBs, 'min', 400, 'MB/s')],
  rounds: rounds.map((x) => ({ ...x, pause: { durationMs: round(x.pause.durationMs, 3), phases: x.pause.phases, counters: x.pause.counters } })),
  loadAverage: round(os.loadavg()[0], 2),
  checksum: sink,
});
