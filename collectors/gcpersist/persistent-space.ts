/**
 * The persistent space: which regions are mirrored in the image, and the
 * bump-pointer allocation of copies into them.
 *
 * A persistent region is an OLD region whose `persistent` column (region-table.ts)
 * says PERSISTENT_REGION, or a humongous run holding a persistent object
 * ("adopted": never moved, flagged as a whole). Keeping persistent regions of
 * kind OLD means the generational machinery treats them exactly like old
 * regions without knowing about persistence: cards are scanned in young
 * pauses, remembered sets are rebuilt over them after a marking, cleanup
 * scrubs their dead objects and frees them when empty, and mixed pauses may
 * evacuate them (persistent objects are then copied back into persistent
 * regions by the pre-copy pass, see persist-pass.ts). Only the full
 * compaction would mix them with volatile data; gcpersist-collector.ts hides
 * them from it (they are kept in place, their dead objects filled).
 *
 *   region r:  [bottom ...copies... top)        end
 *                          ^ space.top   (published to regions.top[r] by retire())
 *
 * The flag outlives nothing: `reconcile` clears it on regions that a pause
 * released (kind FREE) or gave another kind.
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as sideMetadata from '../../vm-core/side-metadata.js';
import type { RememberedSets } from '../region/remembered-sets.js';

const { LOG_CARD_WORDS } = layout;
const { PERSISTENT_LOGGED, PERSISTENT_NONE, PERSISTENT_REGION, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD } = regionTable;
const { CARD_CLEAN } = sideMetadata;

const NOT_FRESH = 0x7fffffff;

export class PersistentSpace {
  region = -1;
  top = 0;
  end = 0;
  /** Regions claimed since the counters were reset. */
  regionsClaimed = 0;
  /**
   * Per region: objects at or above this word were copied by the current pass
   * (NOT_FRESH when none): the pass records their slots in remembered sets.
   */
  readonly freshFrom: Int32Array;
  private freshList: number[] = [];
  /** The region copies went to last: the next pass goes on filling it while it has room. */
  private last = -1;

  private readonly tracked: Uint8Array | null;

  constructor(private readonly heap: Heap, private readonly remsets: RememberedSets | null = null) {
    this.tracked = remsets ? remsets.tracked : null;
    this.freshFrom = new Int32Array(heap.regionCount).fill(NOT_FRESH);
  }

  /** Bump-allocates `size` words in a persistent region; 0 when no free region is left (or the object is too large). */
  allocate(size: number): number {
    const heap = this.heap;
    if (this.top + size <= this.end) {
      const at = this.top;
      this.top = at + size;
      heap.accountedWords += size;
      return at;
    }
    if (size > heap.regionWords - 2) return 0;
    this.retire();
    if (this.resume(size)) {
      const at = this.top;
      this.top = at + size;
      heap.accountedWords += size;
      return at;
    }
    const r = heap.claimRegion(REGION_OLD);
    if (r < 0) return 0;
    // a region the full compaction released keeps its tracking (gen re-tracks it as eden anyway):
    // a persistent region is an untracked old region
    if (this.remsets !== null && this.tracked![r] !== 0) this.remsets.untrack(r);
    const regions = heap.regions;
    regions.persistent[r] = PERSISTENT_REGION;
    regions.liveWords[r] = 0;
    regions.age[r] = 0;
    regions.tams[r] = regions.bottom(r);
    const cardsLog = heap.logRegionWords - LOG_CARD_WORDS;
    heap.meta.cards.fill(CARD_CLEAN, r << cardsLog, (r + 1) << cardsLog);
    this.region = r;
    this.last = r;
    this.top = regions.bottom(r);
    this.end = regions.end(r);
    this.freshFrom[r] = this.top;
    this.freshList.push(r);
    this.regionsClaimed++;
    const at = this.top;
    this.top += size;
    heap.accountedWords += size;
    return at;
  }

  /**
   * Goes on filling the region of the last pass when it is still an untracked
   * persistent old region outside the collection set with room for `size`
   * words (so each pass does not open a region of its own).
   */
  private resume(size: number): boolean {
    const r = this.last;
    if (r < 0) return false;
    const regions = this.heap.regions;
    if (regions.persistent[r] !== PERSISTENT_REGION || regions.kind[r] !== REGION_OLD || regions.inCset[r] !== 0 || regions.evacFailed[r] !== 0) return false;
    if (this.tracked !== null && this.tracked[r] !== 0) return false;
    const top = regions.top[r];
    if (top + size > regions.end(r)) return false;
    this.region = r;
    this.top = top;
    this.end = regions.end(r);
    regions.refStartsKept[r] = 0; // this pass's copies set no ref-starts bits (side-metadata.ts)
    if (this.freshFrom[r] === NOT_FRESH) {
      this.freshFrom[r] = top;
      this.freshList.push(r);
    }
    return true;
  }

  /** Publishes the current region's top and stops allocating in it. */
  retire(): void {
    if (this.region >= 0) this.heap.regions.top[this.region] = this.top;
    this.region = -1;
    this.top = 0;
    this.end = 0;
  }

  /** Ends a pass: publishes the top, forgets which regions were fresh. */
  finish(): void {
    this.retire();
    for (const r of this.freshList) this.freshFrom[r] = NOT_FRESH;
    this.freshList = [];
  }

  /**
   * After a pause: a region flagged persistent that is now free or of another
   * kind (released, or retained as old after evacuation failure of a
   * non-persistent region) loses its flag. PERSISTENT_LOGGED regions that were
   * released lose theirs too (their logged objects moved or died).
   */
  reconcile(): void {
    const regions = this.heap.regions;
    const flags = regions.persistent;
    for (let r = 0; r < this.heap.regionCount; r++) {
      const f = flags[r];
      if (f === PERSISTENT_NONE) continue;
      const k = regions.kind[r];
      if (f === PERSISTENT_REGION) {
        if (k !== REGION_OLD && k !== REGION_HUMONGOUS_START && k !== REGION_HUMONGOUS_CONT) flags[r] = PERSISTENT_NONE;
      } else if (f === PERSISTENT_LOGGED && k === regionTable.REGION_FREE) {
        flags[r] = PERSISTENT_NONE;
      }
    }
  }

  /** Flags a humongous run as persistent (the run starting at `first`). Returns the number of regions flagged now. */
  adoptHumongous(first: number): number {
    const heap = this.heap;
    const n = heap.humongousRegionCount(first);
    let flagged = 0;
    for (let r = first; r < first + n; r++) {
      if (heap.regions.persistent[r] !== PERSISTENT_REGION) flagged++;
      heap.regions.persistent[r] = PERSISTENT_REGION;
    }
    return flagged;
  }

  /** Unflags a humongous run (its object is no longer reachable from a persistent root). */
  dropHumongous(first: number): void {
    const heap = this.heap;
    const n = heap.humongousRegionCount(first);
    for (let r = first; r < first + n; r++) heap.regions.persistent[r] = PERSISTENT_NONE;
  }

  /** The persistent regions in index order. */
  regionsList(): number[] {
    const flags = this.heap.regions.persistent;
    const out: number[] = [];
    for (let r = 0; r < this.heap.regionCount; r++) if (flags[r] === PERSISTENT_REGION) out.push(r);
    return out;
  }

  /** Used words of the persistent regions (ordinary and humongous). */
  usedWords(): number {
    const regions = this.heap.regions;
    let words = 0;
    for (let r = 0; r < this.heap.regionCount; r++) if (regions.persistent[r] === PERSISTENT_REGION) words += regions.usedWords(r);
    return words;
  }
}
