/**
 * Remembered-set completeness, the verifier check of a remembered-set pause
 * (HotSpot's VerifyRememberedSets): every reference from outside the young
 * generation and the collection set into a TRACKED region must be findable at
 * the next pause, i.e. its slot's card is
 *
 *   - in the target region's remembered set, or
 *   - DIRTY: the barrier dirtied it, or the last evacuation dirtied it again,
 *     and it waits for refinement (the next pause scans every dirty card).
 *
 * Walked: every object (live or dead, unless `isLive` is given) of every used
 * region whose kind is not eden/survivor (young sources are exempt: young
 * regions are collected at every pause) and that is not in the collection set
 * (its objects are traced by the pause itself). Slots pointing into their own
 * region (for a humongous object: its START region) are exempt too.
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as sideMetadata from '../../vm-core/side-metadata.js';
import type { RememberedSets } from './remembered-sets.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { HEADER_WORDS, LOG_CARD_WORDS, TYPE_SHIFT } = layout;
const { REGION_EDEN, REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_KIND_NAMES, REGION_SURVIVOR } = regionTable;
const { CARD_DIRTY } = sideMetadata;

export interface RemsetCompletenessOptions {
  /** Check only objects for which this returns true (e.g. marked objects); default: every object. */
  isLive?: (obj: number) => boolean;
  /** Stop after this many problems in the list (default 20). */
  maxProblems?: number;
}

export function checkRemsetCompleteness(heap: Heap, remsets: RememberedSets, problems: string[], options: RemsetCompletenessOptions = {}): void {
  const maxProblems = options.maxProblems ?? 20;
  const isLive = options.isLive;
  const regions = heap.regions;
  const words = heap.words;
  const cards = heap.meta.cards;
  const tracked = remsets.tracked;
  const log = heap.logRegionWords;
  const types = heap.types;
  for (let r = 0; r < heap.regionCount && problems.length < maxProblems; r++) {
    const kind = regions.kind[r];
    if (kind === REGION_FREE || kind === REGION_HUMONGOUS_CONT || kind === REGION_EDEN || kind === REGION_SURVIVOR) continue;
    if (regions.inCset[r] !== 0) continue;
    let obj = kind === REGION_HUMONGOUS_START ? regions.bottom(r) : r << log;
    const top = kind === REGION_HUMONGOUS_START ? obj + 1 : regions.top[r];
    while (obj < top && problems.length < maxProblems) {
      const size = heap.sizeOf(obj);
      if (!(size >= 2)) {
        problems.push(`remset completeness: region ${r} is not parseable at word ${obj}`);
        break;
      }
      if (isLive === undefined || isLive(obj)) {
        const n = heap.refCount(obj);
        for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
          const v = words[s];
          if (v === 0) continue;
          const t = v >> log;
          if (t === r || tracked[t] !== 1) continue;
          const card = s >> LOG_CARD_WORDS;
          if (cards[card] === CARD_DIRTY || remsets.contains(t, card)) continue;
          problems.push(
            `remset completeness: ${types.info(words[obj] >>> TYPE_SHIFT).name} at ${obj} (${REGION_KIND_NAMES[kind]} region ${r}) slot ${s - obj - HEADER_WORDS} ` +
            `(word ${s}, card ${card}, card value ${cards[card]}) points to ${v} in tracked region ${t} (${REGION_KIND_NAMES[regions.kind[t]]}), ` +
            `but card ${card} is neither in region ${t}'s remembered set (${remsets.entryCount(t)} cards) nor dirty`,
          );
          if (problems.length >= maxProblems) break;
        }
      }
      obj += size;
    }
  }
}
