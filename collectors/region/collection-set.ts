/**
 * Choosing the collection set of a region-evacuating pause from the live words
 * the marking just counted (G1's policy in its simplest, SIM form):
 *
 *   1. regions with no live words are released at once, without copying;
 *   2. regions whose live ratio is below `liveThresholdPercent`
 *      (G1MixedGCLiveThresholdPercent, default 85) are candidates;
 *   3. candidates are taken most-garbage first while the words to copy fit in
 *      the free regions (when `limitToFreeSpace`), so evacuation rarely fails;
 *   4. dead humongous objects are released with their whole run.
 *
 * The result is a list of region indices with inCset set in the region table.
 */
import type { Heap } from '../../vm-core/heap.js';
import * as regionTable from '../../vm-core/region-table.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { REGION_EDEN, REGION_HUMONGOUS_START, REGION_OLD, REGION_SURVIVOR } = regionTable;

export interface CollectionSetChoice {
  cset: number[];
  regionsReleasedDead: number;
  humongousReleased: number;
  liveWordsToCopy: number;
}

export function chooseCollectionSet(
  heap: Heap,
  isLive: (ref: number) => boolean,
  liveThresholdPercent: number,
  limitToFreeSpace: boolean,
): CollectionSetChoice {
  const regions = heap.regions;
  const thresholdWords = Math.floor((heap.regionWords * liveThresholdPercent) / 100);
  const candidates: number[] = [];
  let regionsReleasedDead = 0;
  let humongousReleased = 0;
  for (let r = 0; r < heap.regionCount; r++) {
    const kind = regions.kind[r];
    if (kind === REGION_OLD || kind === REGION_EDEN || kind === REGION_SURVIVOR) {
      const live = regions.liveWords[r];
      if (live === 0) {
        heap.releaseRegion(r);
        regionsReleasedDead++;
      } else if (live < thresholdWords) {
        candidates.push(r);
      }
    } else if (kind === REGION_HUMONGOUS_START && !isLive(regions.bottom(r))) {
      const n = heap.humongousRegionCount(r);
      for (let k = n - 1; k >= 0; k--) heap.releaseRegion(r + k);
      humongousReleased++;
    }
  }
  candidates.sort((a, b) => regions.liveWords[a] - regions.liveWords[b]);
  // Copies pack into whole destination regions; leave slack for the objects that
  // do not fit at the end of each destination (one region, or half the free space
  // when only a region or two are free).
  const freeWords = heap.free.length * heap.regionWords;
  const budget = limitToFreeSpace ? Math.max(freeWords - heap.regionWords, freeWords >> 1) : Infinity;
  const cset: number[] = [];
  let liveWordsToCopy = 0;
  for (const r of candidates) {
    const live = regions.liveWords[r];
    if (liveWordsToCopy + live > budget) break;
    liveWordsToCopy += live;
    regions.inCset[r] = 1;
    cset.push(r);
  }
  return { cset, regionsReleasedDead, humongousReleased, liveWordsToCopy };
}
