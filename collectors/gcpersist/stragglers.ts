/**
 * The straggler step of a committing pause. A straggler is an object that is
 * reachable from a persistent root but lies outside the persistent regions
 * and was not in the pause's collection set: an old object that was promoted
 * before it was attached to persistent data, or a persistent object whose
 * pre-copy found no free region. A young pause cannot move it cheaply: no
 * remembered set says who points at an old object. So, only when stragglers
 * exist, this step
 *
 *   1. copies each straggler into a persistent region and forwards it
 *      (no free region left: the straggler's region is adopted instead, i.e.
 *      flagged persistent as a whole: correct, only larger);
 *   2. fixes every reference to a forwarded straggler with one walk over the
 *      whole heap (every object, live or dead, of every used region, and every
 *      root slot), as the full-heap reference fixing of a SIM pause does;
 *   3. records the copies' slots into tracked regions in remembered sets;
 *   4. turns the originals into fillers.
 *
 * So the cost (a heap walk) is paid only by pauses that find stragglers; the
 * counts go to the pause's counters (persistStragglers, persistStragglerWalkMs).
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as typeRegistry from '../../vm-core/type-registry.js';
import type { RememberedSets } from '../region/remembered-sets.js';
import type { PersistentSpace } from './persistent-space.js';

const { HEADER_WORDS, LOG_CARD_WORDS, PERSIST_MARK, STATE_FORWARDED, STATE_MASK, STATE_NORMAL, TYPE_SHIFT } = layout;
const { PERSISTENT_REGION, REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START } = regionTable;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

export interface StragglerResult {
  moved: number;
  wordsMoved: number;
  adoptedRegions: number;
  referencesFixed: number;
  walkMs: number;
}

export function handleStragglers(
  heap: Heap,
  mutators: readonly Mutator[],
  space: PersistentSpace,
  remsets: RememberedSets | null,
  list: Int32Array,
  count: number,
): StragglerResult {
  const words = heap.words;
  const regions = heap.regions;
  const log = heap.logRegionWords;
  const result: StragglerResult = { moved: 0, wordsMoved: 0, adoptedRegions: 0, referencesFixed: 0, walkMs: 0 };
  // 1. copy (or adopt)
  const copies: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = list[i];
    const header = words[s];
    if ((header & STATE_MASK) !== STATE_NORMAL) continue;
    const r = s >> log;
    if (regions.persistent[r] === PERSISTENT_REGION) continue; // adopted with an earlier straggler
    const size = heap.sizeOf(s);
    const to = space.allocate(size);
    if (to === 0) {
      regions.persistent[r] = PERSISTENT_REGION;
      result.adoptedRegions++;
      continue;
    }
    words.copyWithin(to, s, s + size);
    words[to] = header & ~PERSIST_MARK;
    words[s] = (header & ~STATE_MASK) | STATE_FORWARDED;
    words[s + 1] = to;
    heap.recordObjectStart(to, to + size);
    regions.liveWords[to >> log] += size;
    copies.push(s, to, size);
    result.moved++;
    result.wordsMoved += size;
  }
  space.finish();
  if (copies.length === 0) return result;

  // 2. fix every reference to a forwarded straggler
  const t0 = performance.now();
  let fixed = 0;
  for (const m of mutators) {
    const roots = m.roots;
    for (let i = 0, n = m.sp; i < n; i++) {
      const v = roots[i];
      if (v !== 0 && (words[v] & STATE_MASK) === STATE_FORWARDED) { roots[i] = words[v + 1]; fixed++; }
    }
  }
  const typeKind = heap.types.kind;
  const typeRefs = heap.types.refs;
  const typeSize = heap.types.sizeWords;
  const elementWords = heap.types.elementWords;
  for (let r = 0; r < heap.regionCount; r++) {
    const kind = regions.kind[r];
    if (kind === REGION_FREE || kind === REGION_HUMONGOUS_CONT) continue;
    let obj = kind === REGION_HUMONGOUS_START ? regions.bottom(r) : r << log;
    const top = kind === REGION_HUMONGOUS_START ? obj + 1 : regions.top[r];
    while (obj < top) {
      const header = words[obj];
      if ((header & STATE_MASK) === STATE_FORWARDED) { obj += heap.sizeOf(obj); continue; }
      const type = header >>> TYPE_SHIFT;
      const k = typeKind[type];
      let size: number;
      let n = 0;
      if (k === TYPE_STRUCT) {
        size = typeSize[type];
        n = typeRefs[type];
      } else {
        size = (HEADER_WORDS + words[obj + 1] * elementWords[type] + 1) & ~1;
        if (k === TYPE_REF_ARRAY) n = words[obj + 1];
      }
      for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
        const v = words[s];
        if (v !== 0 && (words[v] & STATE_MASK) === STATE_FORWARDED) { words[s] = words[v + 1]; fixed++; }
      }
      obj += size;
    }
  }
  result.referencesFixed = fixed;

  // 3. remembered sets: the copies' slots into tracked regions
  if (remsets !== null) {
    const tracked = remsets.tracked;
    for (let i = 0; i < copies.length; i += 3) {
      const to = copies[i + 1];
      const source = to >> log;
      const n = heap.refCount(to);
      for (let s = to + HEADER_WORDS, end = s + n; s < end; s++) {
        const v = words[s];
        if (v === 0) continue;
        const t = v >> log;
        if (t !== source && tracked[t] !== 0) remsets.add(t, s >> LOG_CARD_WORDS);
      }
    }
  }

  // 4. the originals become fillers
  for (let i = 0; i < copies.length; i += 3) heap.writeFiller(copies[i], copies[i + 2]);
  result.walkMs = performance.now() - t0;
  return result;
}
