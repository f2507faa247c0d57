/**
 * JIT warm-up of the evacuation code: the evacuation worker, right after it
 * reports ready, and the mutator thread, once per process when a large heap's
 * collector is created, run an EvacuationClosure over a small private
 * synthetic heap, so that V8 has optimized the copying loops, with type
 * feedback for every kind of object, before the first real pause needs them.
 * Without it the first pauses run in V8's lower tiers and deoptimize when they
 * meet an object kind for the first time (measured on lru-cache at 512 MiB:
 * the first five pauses up to twice as long as the rest).
 *
 *   synthetic heap: 12 regions of 64 KiB, rebuilt every round
 *     region 0     (old)   a mix: 2-ref structs, data-only structs, 8-slot and 24-slot ref
 *                          arrays, float64 arrays; ref slots -> objects in eden (every 16th
 *                          -> the humongous array, a tracked region: refinement's records);
 *                          its ref-starts bits kept in every other pair of rounds
 *     regions 1-4  (eden)  the same mix, ref slots pointing further into eden; the collection set
 *     regions 5-9  (free)  the pool the copies go to (survivors until 2 are used, then old;
 *                          every other pair of rounds tenures everything, as adaptive tenuring does;
 *                          every eighth round has a pool of one region: evacuation failure)
 *     regions 10-11 (humongous) a reference array; its first 1024 slots in each region -> eden,
 *                          region 0 or itself (their cards scanned); every 32nd eden slot -> it
 *   64 root slots -> eden objects. Odd rounds take the parallel path, alone: the other thread's
 *   slots are handed over to itself (loopback), and a phantom second thread counts as idle, so
 *   the stack is shared to the queue and taken back, and tiny rings fill; no thread ever waits.
 *
 * V8 deoptimizes optimized code that reaches a branch it never ran (no type
 * feedback), and a deoptimized copying loop runs in a lower tier until it is
 * optimized again, mid-pause: so the rare branches (growing arrays, new
 * destination regions, failure, humongous cards, hand-offs, sharing) are all
 * run here too.
 */
import { HEADER_WORDS, LOG_CARD_WORDS, TYPE_SHIFT } from '../../vm-core/layout.js';
import { REGION_EDEN, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD, RegionTable, RESERVED_WORDS } from '../../vm-core/region-table.js';
import { CARD_DIRTY, SideMetadata } from '../../vm-core/side-metadata.js';
import { TypeRegistry } from '../../vm-core/type-registry.js';
import { EvacuationClosure } from './evacuation-closure.js';
import {
  CARD_COUNT, CARD_NEXT, computeCardSources, computeSlotTargets, evacuationViews, IDLE, newEvacuationBuffers, POOL_COUNT, SURVIVOR_MAX, TENURING, THREADS,
} from './evacuation-shared.js';

const LOG_REGION_WORDS = 14; // 64 KiB regions
const EDEN_REGIONS = 4;
const POOL_REGIONS = 1 + EDEN_REGIONS;
const HUMONGOUS_REGION = 1 + EDEN_REGIONS + POOL_REGIONS;
const REGIONS = HUMONGOUS_REGION + 2;
const HUMONGOUS_SLOTS_USED = 1024;
const ROOTS = 64;
const ROUNDS = 24;
/** Hand-off rings this small fill up: the full-ring branches run too. */
const WARM_RING_INTS = 256;

interface WarmTypes { node: number; leaf: number; refs: number; doubles: number; sizeOf: (kind: number) => number }

/** Writes object number `i` of the mix at `at` (ref slots left 0); returns its size in words. */
function writeObject(words: Int32Array, t: WarmTypes, at: number, i: number): number {
  switch (i % 5) {
    case 0: words[at] = t.node << TYPE_SHIFT; words[at + 1] = 0; break;
    case 1: words[at] = t.leaf << TYPE_SHIFT; words[at + 1] = 0; break;
    case 2: words[at] = t.refs << TYPE_SHIFT; words[at + 1] = 8; break;
    case 3: words[at] = t.refs << TYPE_SHIFT; words[at + 1] = 24; break;
    default: words[at] = t.doubles << TYPE_SHIFT; words[at + 1] = 6; break;
  }
  const size = t.sizeOf(i % 5);
  words.fill(0, at + 2, at + size);
  return size;
}

/** Reference slots of object number i of the mix at `at`: [first, end). */
function slotsOf(at: number, i: number): [number, number] {
  switch (i % 5) {
    case 0: return [at + HEADER_WORDS, at + HEADER_WORDS + 2];
    case 2: return [at + HEADER_WORDS, at + HEADER_WORDS + 8];
    case 3: return [at + HEADER_WORDS, at + HEADER_WORDS + 24];
    default: return [at, at];
  }
}

/** Runs ROUNDS synthetic young pauses through a fresh closure (tens of ms); returns the objects copied. */
export function warmUpEvacuation(): number {
  const heapWords = REGIONS << LOG_REGION_WORDS;
  const words = new Int32Array(new SharedArrayBuffer(heapWords * 4));
  const regions = new RegionTable(REGIONS, LOG_REGION_WORDS);
  const meta = new SideMetadata(heapWords * 4);
  const types = new TypeRegistry();
  const node = types.struct('WarmNode', 2, 1);
  const leaf = types.struct('WarmLeaf', 0, 2);
  const refs = types.refArray('WarmNode[]');
  const doubles = types.dataArray('double[]', 2);
  const align = (w: number) => (w + 1) & ~1;
  const sizes = [types.sizeWords[node], types.sizeWords[leaf], align(HEADER_WORDS + 8), align(HEADER_WORDS + 24), align(HEADER_WORDS + 12)];
  const t: WarmTypes = { node, leaf, refs, doubles, sizeOf: (k) => sizes[k] };
  const shared = evacuationViews(newEvacuationBuffers(heapWords >> LOG_CARD_WORDS, REGIONS, WARM_RING_INTS));
  const closure = new EvacuationClosure({
    words, typeKind: types.kind, typeRefs: types.refs, typeSize: types.sizeWords, elementWords: types.elementWords, leafWords: types.leafWords, slotShape: types.slotShape,
    regionKind: regions.kind, regionTop: regions.top, liveWords: regions.liveWords,
    evacFailed: regions.evacFailed, humongousStart: regions.humongousStart, cards: meta.cards, blockOffsets: meta.blockOffsets,
    refStarts: meta.refStarts, refStartsKept: regions.refStartsKept, logRegionWords: LOG_REGION_WORDS,
  }, shared);
  const edenStart = 1 << LOG_REGION_WORDS;
  const edenEnd = (1 + EDEN_REGIONS) << LOG_REGION_WORDS;
  const edenObjects: number[] = [];
  const roots = new Int32Array(new SharedArrayBuffer(ROOTS * 4));
  const tracked = new Uint8Array(REGIONS);
  let copied = 0;
  for (let round = 0; round < ROUNDS; round++) {
    // eden: the mix, each ref slot pointing at an object 1..7 places further on (or null)
    edenObjects.length = 0;
    let top = edenStart;
    for (let i = 0; ; i++) {
      const r = top >> LOG_REGION_WORDS;
      const size = t.sizeOf(i % 5);
      if (top + size > ((r + 1) << LOG_REGION_WORDS)) { // objects never span regions
        top = (r + 1) << LOG_REGION_WORDS;
        if (top >= edenEnd) break;
      }
      writeObject(words, t, top, i);
      edenObjects.push(top);
      top += size;
    }
    for (let i = 0; i < edenObjects.length; i++) {
      const [first, end] = slotsOf(edenObjects[i], i);
      for (let s = first, k = 1; s < end; s++, k++) {
        const j = i + 1 + ((k * 3 + round) % 7);
        words[s] = j < edenObjects.length && (k + i) % 4 !== 0 ? edenObjects[j] : 0;
      }
    }
    // humongous: a reference array filling its two regions, the first slots of each pointing into eden
    const humongous = HUMONGOUS_REGION << LOG_REGION_WORDS;
    const humongousLength = (2 << LOG_REGION_WORDS) - HEADER_WORDS;
    words[humongous] = refs << TYPE_SHIFT;
    words[humongous + 1] = humongousLength;
    words.fill(0, humongous + HEADER_WORDS, humongous + HEADER_WORDS + humongousLength);
    let next = 0;
    for (let i = 0; i < HUMONGOUS_SLOTS_USED; i++) {
      // mostly eden; also the old region (tracked: recorded) and the array itself (not recorded)
      const target = i % 8 === 0 ? RESERVED_WORDS : i % 8 === 1 ? humongous : -1;
      words[humongous + HEADER_WORDS + i] = target >= 0 ? target : edenObjects[next++ % edenObjects.length];
      words[humongous + (1 << LOG_REGION_WORDS) + i] = target >= 0 ? target : edenObjects[next++ % edenObjects.length];
    }
    for (let i = 0; i < edenObjects.length; i += 32) {
      const [first, end] = slotsOf(edenObjects[i], i);
      if (first < end) words[first] = humongous;
    }
    // old: the mix, every ref slot pointing at the next eden object in turn (every 16th at the humongous array);
    // every other pair of rounds its ref-starts bits are kept (the card scan's two ways through a card)
    let old = RESERVED_WORDS;
    const keepRefStarts = (round & 2) !== 0;
    meta.refStarts.fill(0, 0, 1 << (LOG_REGION_WORDS - 6));
    for (let i = 0; ; i++) {
      const size = t.sizeOf(i % 5);
      if (old + size > 1 << LOG_REGION_WORDS) break;
      writeObject(words, t, old, i);
      const [first, end] = slotsOf(old, i);
      if (keepRefStarts && first < end) meta.refStarts[old >> 6] |= 1 << ((old >> 1) & 31);
      for (let s = first; s < end; s++) words[s] = (s & 15) === 0 ? humongous : next < edenObjects.length ? edenObjects[next++] : 0;
      for (let c = (old + (1 << LOG_CARD_WORDS) - 1) >> LOG_CARD_WORDS; c <= (old + size - 1) >> LOG_CARD_WORDS; c++) meta.blockOffsets[c] = old;
      old += size;
    }
    regions.kind.fill(0);
    regions.inCset.fill(0);
    regions.evacFailed.fill(0);
    regions.kind[0] = REGION_OLD;
    regions.top[0] = old;
    regions.refStartsKept[0] = keepRefStarts ? 1 : 0;
    regions.kind[HUMONGOUS_REGION] = REGION_HUMONGOUS_START;
    regions.top[HUMONGOUS_REGION] = (HUMONGOUS_REGION + 1) << LOG_REGION_WORDS;
    regions.kind[HUMONGOUS_REGION + 1] = REGION_HUMONGOUS_CONT;
    regions.humongousStart[HUMONGOUS_REGION + 1] = HUMONGOUS_REGION;
    regions.top[HUMONGOUS_REGION + 1] = (HUMONGOUS_REGION + 2) << LOG_REGION_WORDS;
    for (let r = 1; r <= EDEN_REGIONS; r++) {
      regions.kind[r] = REGION_EDEN;
      regions.top[r] = Math.min(top, (r + 1) << LOG_REGION_WORDS);
      regions.inCset[r] = 1;
    }
    shared.youngSource.fill(0);
    shared.youngSource.fill(1, 1, 1 + EDEN_REGIONS);
    tracked.fill(0);
    tracked[HUMONGOUS_REGION] = 1;
    tracked[0] = 1;
    shared.humongousCandidate.fill(0);
    shared.humongousCandidate[HUMONGOUS_REGION] = 1;
    computeSlotTargets(shared, regions.inCset, tracked, REGIONS);
    computeCardSources(shared, regions.kind, regions.inCset, REGIONS);
    const oldCards = Math.ceil(old / (1 << LOG_CARD_WORDS));
    const humongousCards = (HEADER_WORDS + HUMONGOUS_SLOTS_USED) >> LOG_CARD_WORDS;
    const firstHumongousCard = humongous >> LOG_CARD_WORDS;
    // remembered and dirty cards, alternately
    const contCard = (HUMONGOUS_REGION + 1) << (LOG_REGION_WORDS - LOG_CARD_WORDS);
    let cards = 0;
    const mark = (c: number) => {
      if ((cards++ & 1) === 0) shared.cardVisited[c] = 1;
      else meta.cards[c] = CARD_DIRTY;
    };
    for (let c = 0; c < oldCards; c++) mark(c);
    for (let c = firstHumongousCard; c < firstHumongousCard + humongousCards; c++) mark(c);
    for (let c = contCard; c < contCard + humongousCards; c++) mark(c);
    for (let i = 0; i < POOL_REGIONS; i++) shared.pool[i] = 1 + EDEN_REGIONS + i;
    const control = shared.control;
    control.fill(0);
    control[CARD_COUNT] = meta.cards.length;
    control[CARD_NEXT] = 0;
    control[POOL_COUNT] = round % 8 === 7 ? 1 : POOL_REGIONS;
    control[SURVIVOR_MAX] = 2;
    control[TENURING] = round % 4 < 2 ? 15 : 0;
    const parallel = round % 2 === 1;
    control[THREADS] = parallel ? 2 : 1;
    if (parallel) control[IDLE] = 1; // the phantom second thread, idle
    closure.begin(parallel, 0, parallel);
    for (let i = 0; i < ROOTS; i++) roots[i] = edenObjects[(i * 37) % edenObjects.length];
    closure.evacuateRoots(roots, ROOTS);
    closure.run();
    copied += closure.result().objectsCopied;
  }
  return copied;
}
