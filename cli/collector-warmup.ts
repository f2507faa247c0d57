/**
 * JIT warm-up of a collector before a measured run: the same collector, with
 * the same options, runs a short synthetic program on a small heap of its own,
 * so that the pauses the run measures execute optimized collector code.
 *
 * Why: HotSpot's, MMTk's and Whippet's collectors are compiled ahead of time;
 * heaplab's are JavaScript, and V8 optimizes a function only once it is hot.
 * A pause's own bookkeeping (collection-set setup, merging remembered sets and
 * dirty cards, per-thread results, freeing regions) runs once per pause, so in
 * a run of a dozen pauses it was still being compiled in the third and fourth:
 * it ran unoptimized, and the compiler's background threads took a core from
 * the two GC threads (lru-cache 512m gen: early pauses 5-20 ms above steady
 * state). The copying closure has a warm-up of its own
 * (collectors/region/evacuation-warmup.ts); this one runs the whole pause.
 *
 * The program (about WARMUP_PAUSES young pauses, a few hundred ms):
 *
 *   old:   an array of ENTRIES entries, each  entry -> payload -> items[8] -> 8 smalls,
 *          built first and promoted by two explicit collections
 *   then:  rounds of UPDATES stores of a new small into an old items array (dirty cards,
 *          old -> young references) and as many garbage smalls; every HUMONGOUS_EVERY-th
 *          round a humongous array, kept until the next one (eager reclaim, humongous cards);
 *          when ROUNDS_PER_PAUSE rounds pass without a pause, an explicit one
 *
 * and ends when the collector has paused WARMUP_PAUSES times; then every small
 * must hold the round that stored it (a collector that loses an object fails
 * here, before its run). Collectors that
 * persist (their options name an image) are not warmed: the program would
 * write images.
 */
import type { CollectorPlugin } from '../vm-core/collector.js';
import type { Mutator } from '../vm-core/mutator.js';
import { Vm } from '../vm-core/vm.js';

/** Heap of the warm-up VM (large enough that the evacuation closure's own warm-up and the worker run too). */
const WARMUP_HEAP_BYTES = 64 << 20;
/** Runs with a smaller heap are not warmed (tests, small experiments): their pauses are short anyway. */
export const WARMUP_MIN_RUN_HEAP_BYTES = 64 << 20;
const WARMUP_PAUSES = 12;
const ENTRIES = 20_000;
const UPDATES = 10_000;
const ITEMS = 8;
const HUMONGOUS_EVERY = 4;
/** Rounds without a pause after which the program collects explicitly (about 2.5 MiB allocated). */
const ROUNDS_PER_PAUSE = 8;
/** A bound on the rounds (a pause comes at least every ROUNDS_PER_PAUSE). */
const MAX_ROUNDS = 400;

export interface WarmupResult { pauses: number; ms: number }

/** Whether a run of this collector and heap gets a warm-up. */
export function warmsUp(plugin: CollectorPlugin, heapBytes: number): boolean {
  return heapBytes >= WARMUP_MIN_RUN_HEAP_BYTES && plugin.constraints.collects && !('image' in plugin.options);
}

/** Runs the warm-up program under `plugin` with `collectorOptions`; the VM is dropped afterwards. */
export function warmUpCollector(plugin: CollectorPlugin, collectorOptions: Record<string, string | number | boolean>): WarmupResult {
  const t0 = performance.now();
  const vm = new Vm({ heapBytes: WARMUP_HEAP_BYTES, collector: plugin, collectorOptions, countBarriers: false });
  try {
    const types = vm.types;
    const T = {
      entries: types.refArray('WarmupEntry[]'),
      entry: types.struct('WarmupEntry', 1, 1),
      payload: types.struct('WarmupPayload', 1, 0),
      items: types.refArray('WarmupSmall[]'),
      small: types.struct('WarmupSmall', 0, 1),
    };
    const SMALL_VALUE = types.dataOffset(T.small, 0);
    const m = vm.newMutator();
    const entriesSlot = m.push(m.allocArray(T.entries, ENTRIES));
    for (let i = 0; i < ENTRIES; i++) {
      const frame = m.frame();
      const items = m.push(m.allocArray(T.items, ITEMS));
      for (let j = 0; j < ITEMS; j++) {
        const s = m.alloc(T.small);
        m.setRef(m.get(items), j, s);
      }
      const payload = m.push(m.alloc(T.payload));
      m.setRef(m.get(payload), 0, m.get(items));
      const entry = m.alloc(T.entry);
      m.setRef(entry, 0, m.get(payload));
      m.setRef(m.get(entriesSlot), i, entry);
      m.popFrame(frame);
    }
    vm.collect('warm-up');
    vm.collect('warm-up');
    const humongousSlot = m.push(0);
    const humongousLength = vm.heap.humongousWords + 16;
    const latest = new Int32Array(ENTRIES * ITEMS).fill(-1);
    let pausesSeen = vm.gcCount;
    let quietRounds = 0;
    for (let round = 0; round < MAX_ROUNDS && vm.gcCount < WARMUP_PAUSES + 2; round++) {
      updateRound(m, entriesSlot, T.small, SMALL_VALUE, round, latest);
      if (round % HUMONGOUS_EVERY === 0) m.set(humongousSlot, m.allocArray(T.entries, humongousLength));
      const h = m.get(humongousSlot);
      if (h !== 0) m.setRef(h, round % humongousLength, m.getRef(m.get(entriesSlot), round % ENTRIES));
      // a collector whose young generation grows past a few rounds (g1's pause-time policy) is asked
      if (vm.gcCount === pausesSeen) {
        if (++quietRounds === ROUNDS_PER_PAUSE) vm.collect('warm-up');
      } else {
        pausesSeen = vm.gcCount;
        quietRounds = 0;
      }
    }
    checkValues(m, entriesSlot, SMALL_VALUE, latest);
    vm.collector.retireTlab(m);
  } finally {
    (vm.collector as { shutdown?(): void }).shutdown?.();
  }
  return { pauses: vm.gcCount, ms: performance.now() - t0 };
}

/** UPDATES new smalls, each holding the round, stored into old items arrays; and as many garbage smalls. */
function updateRound(m: Mutator, entriesSlot: number, small: number, value: number, round: number, latest: Int32Array): void {
  const item = round & (ITEMS - 1);
  for (let k = 0; k < UPDATES; k++) {
    const i = (round * 7919 + k * 104_729) % ENTRIES;
    m.alloc(small);
    const s = m.alloc(small); // (the last allocation: s stays valid until it is stored)
    m.setI32(s, value, round);
    const items = m.getRef(m.getRef(m.getRef(m.get(entriesSlot), i), 0), 0);
    m.setRef(items, item, s);
    latest[i * ITEMS + item] = round;
  }
}

/** Every small still holds the round that stored it (0 for those of the build): the warm-up is a real run. */
function checkValues(m: Mutator, entriesSlot: number, value: number, latest: Int32Array): void {
  const entries = m.get(entriesSlot);
  for (let i = 0; i < ENTRIES; i++) {
    const items = m.getRef(m.getRef(m.getRef(entries, i), 0), 0);
    for (let j = 0; j < ITEMS; j++) {
      const want = Math.max(0, latest[i * ITEMS + j]);
      const got = m.getI32(m.getRef(items, j), value);
      if (got !== want) throw new Error(`collector warm-up: entry ${i} item ${j} holds ${got}, expected ${want}: the collector lost a store`);
    }
  }
}
