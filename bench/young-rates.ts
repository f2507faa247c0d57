/**
 * Young-pause suite: what one young pause of `gen` costs per card scanned and
 * per object copied, on one GC thread or on two (`--threads`; run-all runs
 * each in its own process and reports the speedup), next to the same
 * process's memcpy bandwidth.
 *
 *   node dist/bench/young-rates.js [--threads 1|2] [--entries 200000] [--updates 150000] [--rounds 8]
 *
 * The heap (512 MiB, gen, budgetPercent 60 so that no pause happens but the
 * timed ones; tenuringThreshold 0: every survivor is promoted): an lru-cache-shaped old generation, built
 * once and promoted by two explicit pauses:
 *
 *   entries[i] -> Entry{key, value: Payload{items: Small[8]}}   (a ref array of entries, humongous)
 *
 * A round is what lru-cache's hits do between two pauses: for `updates`
 * entries picked with a stride, a new Small (young) goes into items[round & 7]
 * (an old-to-young store: a dirty card) and a garbage Small dies beside it;
 * then one explicit young pause (timed through the VM's event stream) copies
 * the new Smalls and scans the dirty cards. Every Small's value is checked
 * afterwards, so a broken pause fails the suite. Rounds 0 and 1 warm the JIT
 * and are not counted; figures are medians over the rest.
 *
 *   ns per object   GC-thread time copying (cardScanThreadMs excluded) / objects copied
 *   ns per card     GC-thread time scanning cards (copying excluded) / cards scanned
 *   copy rate       bytes copied / pause time, and / copyWithin bandwidth
 */
import os from 'node:os';
import { gen } from '../collectors/region/presets.js';
import { EvacuationWorker } from '../collectors/region/evacuation-threads.js';
import type { Mutator } from '../vm-core/mutator.js';
import { Vm } from '../vm-core/vm.js';
import { argNumber, emit, median, MIB, progress, round } from './common.js';
import { measureMemcpy } from './memcpy.js';
import { type PauseRecord, PauseRecorder } from '../reports/recorder.js';

const HEAP_BYTES = 512 * MIB;
const THREADS = argNumber('threads', 1);
const ENTRIES = argNumber('entries', 200_000);
const UPDATES = argNumber('updates', 150_000);
const ROUNDS = argNumber('rounds', 8);
const WARM_ROUNDS = 2;
const ITEMS = 8;
if (THREADS !== 1 && THREADS !== 2) throw new Error('--threads: 1 or 2');

const vm = new Vm({
  heapBytes: HEAP_BYTES,
  collector: gen,
  collectorOptions: { gcThreads: THREADS, parallelMinKb: 0, budgetPercent: 60, maxEdenPercent: 60, tenuringThreshold: 0 },
  countBarriers: false,
});
const recorder = new PauseRecorder(() => vm.heap.usedWords());
vm.events.subscribe(recorder);
const types = vm.types;
const T = {
  entry: types.struct('Entry', 2, 0),
  key: types.struct('Key', 0, 1),
  payload: types.struct('Payload', 1, 1),
  items: types.refArray('Small[]'),
  small: types.struct('Small', 0, 1),
  entries: types.refArray('Entry[]'),
};
const E_KEY = 0, E_VALUE = 1;
const KEY_ID = types.dataOffset(T.key, 0);
const SMALL_V = types.dataOffset(T.small, 0);
const m = vm.newMutator();
const ENTRIES_SLOT = 0;

function smallValue(entry: number, item: number, round: number): number {
  return (Math.imul(entry, 31) + item * 7 + round * 1_000_003) | 0;
}

/** The old generation: ENTRIES entries, each with its payload, items and Smalls (round -1 values). */
function build(m: Mutator): void {
  m.push(m.allocArray(T.entries, ENTRIES)); // ENTRIES_SLOT
  for (let i = 0; i < ENTRIES; i++) {
    const frame = m.frame();
    const itemsSlot = m.push(m.allocArray(T.items, ITEMS));
    for (let j = 0; j < ITEMS; j++) {
      const s = m.alloc(T.small);
      m.setI32(s, SMALL_V, smallValue(i, j, -1));
      m.setRef(m.get(itemsSlot), j, s);
    }
    const payloadSlot = m.push(m.alloc(T.payload));
    m.setRef(m.get(payloadSlot), 0, m.get(itemsSlot));
    const keySlot = m.push(m.alloc(T.key));
    m.setI32(m.get(keySlot), KEY_ID, i);
    const e = m.alloc(T.entry);
    m.setRef(e, E_KEY, m.get(keySlot));
    m.setRef(e, E_VALUE, m.get(payloadSlot));
    m.setRef(m.get(ENTRIES_SLOT), i, e);
    m.popFrame(frame);
  }
}

/** The entries a round updates: UPDATES of them, a stride apart (co-prime with ENTRIES), starting at round × 7919. */
function updated(round: number, k: number): number {
  return (round * 7919 + k * 104_729) % ENTRIES;
}

/** A round's stores: a new Small into items[round & 7] of each updated entry, and a garbage Small. */
function mutate(m: Mutator, round: number): void {
  const item = round & 7;
  for (let k = 0; k < UPDATES; k++) {
    const i = updated(round, k);
    const s = m.alloc(T.small);
    m.setI32(s, SMALL_V, smallValue(i, item, round));
    m.alloc(T.small); // garbage
    const items = m.getRef(m.getRef(m.getRef(m.get(ENTRIES_SLOT), i), E_VALUE), 0);
    m.setRef(items, item, s);
  }
}

/** Every Small holds the value its last store gave it (the entries a round updated hold that round's). */
function check(m: Mutator, lastRound: number): void {
  const latest = new Int32Array(ENTRIES * ITEMS).fill(-1);
  for (let r = 0; r <= lastRound; r++) for (let k = 0; k < UPDATES; k++) latest[updated(r, k) * ITEMS + (r & 7)] = r;
  const entries = m.get(ENTRIES_SLOT);
  for (let i = 0; i < ENTRIES; i++) {
    const items = m.getRef(m.getRef(m.getRef(entries, i), E_VALUE), 0);
    for (let j = 0; j < ITEMS; j++) {
      const want = smallValue(i, j, latest[i * ITEMS + j]);
      const got = m.getI32(m.getRef(items, j), SMALL_V);
      if (got !== want) throw new Error(`young-rates: entry ${i} item ${j} holds ${got} after round ${lastRound}, expected ${want}`);
    }
  }
}

async function workerUp(): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (EvacuationWorker.get() === null) {
    if (Date.now() > deadline) throw new Error('young-rates: the evacuation worker did not start within 20 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---- rounds -----------------------------------------------------------------------------

progress(`young-rates: gen on ${THREADS} GC thread(s), heap ${HEAP_BYTES / MIB} MiB, ${ENTRIES} entries, ${UPDATES} updates a round, ${ROUNDS} timed rounds + ${WARM_ROUNDS} warm-up`);
if (THREADS === 2) await workerUp();
build(m);
vm.collect('bench-promote');
vm.collect('bench-promote'); // everything built is old now
vm.verifyNow('after promoting the old generation');

interface RoundResult {
  round: number;
  pause: PauseRecord;
  objects: number;
  cards: number;
  bytesCopied: number;
  threads: number;
  nsPerObject: number;
  nsPerCard: number;
}
const rounds: RoundResult[] = [];
for (let r = 0; r < WARM_ROUNDS + ROUNDS; r++) {
  mutate(m, r);
  const before = recorder.pauses.length;
  vm.collect('bench');
  const pause = recorder.pauses[before];
  if (!pause || recorder.pauses.length !== before + 1) throw new Error('young-rates: expected exactly one pause a round (raise the heap or lower --updates)');
  if (pause.kind !== 'young') throw new Error(`young-rates: the timed pause was ${pause.kind}, not young`);
  check(m, r);
  const c = pause.counters;
  const res: RoundResult = {
    round: r,
    pause,
    objects: c.objectsCopied ?? 0,
    cards: c.cardsScanned ?? 0,
    bytesCopied: c.bytesCopied ?? 0,
    threads: c.gcThreads ?? 1,
    nsPerObject: ((c.copyThreadMs ?? 0) * 1e6) / (c.objectsCopied || 1),
    nsPerCard: ((c.cardScanThreadMs ?? 0) * 1e6) / (c.cardsScanned || 1),
  };
  if (res.threads !== THREADS) throw new Error(`young-rates: the pause ran on ${res.threads} thread(s), not ${THREADS}`);
  rounds.push(res);
  progress(`round ${r}${r < WARM_ROUNDS ? ' (warm-up)' : ''}: pause ${pause.durationMs.toFixed(1)} ms, ${res.objects} objects (${res.nsPerObject.toFixed(0)} ns each), ${res.cards} cards (${res.nsPerCard.toFixed(0)} ns each)`);
}
vm.verifyNow('after the last timed pause');

const { copyWithinSharedGBs, sink } = measureMemcpy();

// ---- summary ------------------------------------------------------------------------------

const timed = rounds.filter((x) => x.round >= WARM_ROUNDS);
const med = (f: (x: RoundResult) => number): number => median(timed.map(f));
const pauseMs = med((x) => x.pause.durationMs);
const copyMBs = med((x) => x.bytesCopied / 1e6 / (x.pause.durationMs / 1e3));
emit({
  suite: 'young-rates',
  collector: 'gen',
  threads: THREADS,
  heapBytes: HEAP_BYTES,
  regionBytes: vm.heap.regionWords * 4,
  entries: ENTRIES,
  updates: UPDATES,
  roundsTimed: timed.length,
  pauseMs: round(pauseMs, 2),
  objectsCopied: round(med((x) => x.objects), 0),
  cardsScanned: round(med((x) => x.cards), 0),
  bytesCopiedMB: round(med((x) => x.bytesCopied) / 1e6, 2),
  nsPerObject: round(med((x) => x.nsPerObject), 1),
  nsPerCard: round(med((x) => x.nsPerCard), 1),
  copyMBPerSec: round(copyMBs, 1),
  memcpy: { copyWithinSharedGBPerSec: copyWithinSharedGBs },
  ratios: { copyRateOverCopyWithin: round(copyMBs / 1e3 / copyWithinSharedGBs, 4) },
  phasesMs: Object.fromEntries(Object.keys(timed[0].pause.phases).map((k) => [k, round(med((x) => x.pause.phases[k] ?? 0), 3)])),
  floors: [],
  rounds: rounds.map((x) => ({ round: x.round, pauseMs: round(x.pause.durationMs, 3), objects: x.objects, cards: x.cards, nsPerObject: round(x.nsPerObject, 1), nsPerCard: round(x.nsPerCard, 1) })),
  loadAverage: round(os.loadavg()[0], 2),
  checksum: sink,
});
