/**
 * Whole-heap marking for the remembered-set collectors, stop-the-world, in
 * G1's two pauses (rem, gen, and cre / g1 with concurrentMark off; with
 * concurrent marking, the worker marks instead of the first pause and
 * rebuilds and scrubs instead of most of the second: concurrent-marking.ts,
 * vm-core/concurrent/rebuild-scrub.ts, whose results these functions define):
 *
 *   remark   trace everything reachable from the roots into the mark bitmap,
 *            counting live words per region; record each region's top as its
 *            TAMS (top at mark start): objects at or above TAMS were allocated
 *            or promoted later and are implicitly live.
 *   cleanup  free old regions and humongous objects with nothing live; turn
 *            the dead objects of old regions into fillers (so no dead object
 *            keeps references that later go stale); choose the collection-set
 *            candidates (old regions below liveThresholdPercent, most efficient
 *            first) and rebuild their remembered sets with one pass over the
 *            old and humongous objects.
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as typeRegistry from '../../vm-core/type-registry.js';
import type { RememberedSets } from './remembered-sets.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { HEADER_WORDS, LOG_CARD_WORDS, TYPE_SHIFT } = layout;
const { REGION_HUMONGOUS_START, REGION_OLD } = regionTable;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

/** Records TAMS = top for every region (the end of the remark pause). */
export function recordTopAtMarkStart(heap: Heap): void {
  heap.regions.tams.set(heap.regions.top);
}

/** Live words of an old region after a marking: marked words below TAMS plus everything allocated above it. */
export function liveWordsAfterMarking(heap: Heap, r: number): number {
  const regions = heap.regions;
  return regions.liveWords[r] + Math.max(0, regions.top[r] - regions.tams[r]);
}

function isMarked(bitmap: Int32Array, ref: number): boolean {
  return ((bitmap[ref >> 6] >>> ((ref >> 1) & 31)) & 1) !== 0;
}

/** Turns the dead objects below TAMS of region r into fillers; returns the words made filler. */
export function scrubRegion(heap: Heap, r: number): number {
  const bitmap = heap.meta.markBitmap;
  const tams = heap.regions.tams[r];
  let obj = r << heap.logRegionWords;
  let deadStart = -1;
  let filled = 0;
  while (obj < tams) {
    const size = heap.sizeOf(obj);
    if (isMarked(bitmap, obj) || (r === 0 && obj === 0)) {
      if (deadStart >= 0) { heap.writeFiller(deadStart, obj - deadStart); filled += obj - deadStart; deadStart = -1; }
    } else if (deadStart < 0) {
      deadStart = obj;
    }
    obj += size;
  }
  if (deadStart >= 0) { heap.writeFiller(deadStart, obj - deadStart); filled += obj - deadStart; }
  return filled;
}

/** Is the humongous object starting in region r dead after the marking? */
export function humongousDead(heap: Heap, r: number): boolean {
  const obj = heap.regions.bottom(r);
  return obj < heap.regions.tams[r] && !isMarked(heap.meta.markBitmap, obj);
}

/**
 * Rebuilds remembered sets of tracked regions from scratch: every reference
 * slot of every object in old and humongous regions that points into a tracked
 * region other than its own adds its card. Returns the references recorded.
 */
export function rebuildRememberedSets(heap: Heap, remsets: RememberedSets): number {
  const words = heap.words;
  const regions = heap.regions;
  const typeKind = heap.types.kind;
  const typeRefs = heap.types.refs;
  const tracked = remsets.tracked;
  const log = heap.logRegionWords;
  let recorded = 0;
  for (let r = 0; r < heap.regionCount; r++) {
    const kind = regions.kind[r];
    if (kind !== REGION_OLD && kind !== REGION_HUMONGOUS_START) continue;
    let obj = kind === REGION_HUMONGOUS_START ? regions.bottom(r) : r << log;
    const top = kind === REGION_HUMONGOUS_START ? obj + 1 : regions.top[r];
    while (obj < top) {
      const type = words[obj] >>> TYPE_SHIFT;
      const tk = typeKind[type];
      const n = tk === TYPE_STRUCT ? typeRefs[type] : tk === TYPE_REF_ARRAY ? words[obj + 1] : 0;
      for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
        const v = words[s];
        if (v === 0) continue;
        const target = v >> log;
        if (target !== r && tracked[target] !== 0) {
          remsets.add(target, s >> LOG_CARD_WORDS);
          recorded++;
        }
      }
      obj += heap.sizeOf(obj);
    }
  }
  return recorded;
}
