/**
 * The region table: one row per heap region, stored column-wise as parallel
 * typed arrays in one SharedArrayBuffer (never an array of JS objects), so the
 * mutator, the collector and worker threads read the same rows.
 *
 *   column           type   meaning
 *   kind             u8     REGION_* below
 *   top              i32    absolute word index of the first unused word; bottom when empty
 *   liveWords        i32    words of marked objects found by the last marking
 *   tams             i32    top-at-mark-start (concurrent marking)
 *   age              u8     region age (survivor regions)
 *   inCset           u8     1 while the region is in the collection set of a pause
 *   evacFailed       u8     1 when some object could not be evacuated out of it this pause
 *   humongousStart   i32    for HUMONGOUS_CONT: index of the run's first region
 *   remset           i32    handle of the region's remembered set (-1: none)
 *   persistent       u8     GCPersist (collectors/gcpersist): PERSISTENT_REGION when the region
 *                           is mirrored in the image (an old region, or a humongous run, holding
 *                           persistent objects); PERSISTENT_LOGGED when a volatile region holds
 *                           objects the eager barrier has logged; 0 otherwise (always 0 for
 *                           other collectors). Kept by the GCPersist collector, which clears it
 *                           when the region is released.
 *   refStartsKept    u8     1 when the ref-starts bitmap (side-metadata.ts) marks every object with
 *                           reference slots in the region: set by an evacuation pause for its old
 *                           copy destinations, 0 for a region filled any other way
 *
 * A region spans words [r << logRegionWords, (r + 1) << logRegionWords). Its
 * bottom is its first word, except region 0 whose first two words hold the
 * permanent filler that keeps reference 0 meaning null.
 */
import { SharedArrays } from './shared-layout.js';

export const REGION_FREE = 0;
export const REGION_EDEN = 1;
export const REGION_SURVIVOR = 2;
export const REGION_OLD = 3;
export const REGION_HUMONGOUS_START = 4;
export const REGION_HUMONGOUS_CONT = 5;
export const REGION_PERSISTENT = 6;

/** Values of the `persistent` column. */
export const PERSISTENT_NONE = 0;
export const PERSISTENT_REGION = 1;
export const PERSISTENT_LOGGED = 2;

export const REGION_KIND_NAMES = ['free', 'eden', 'survivor', 'old', 'humongous-start', 'humongous-cont', 'persistent'];

/** Words reserved at the start of region 0 (a 2-word filler) so that no object has reference 0. */
export const RESERVED_WORDS = 2;

export class RegionTable {
  readonly arrays: SharedArrays;
  readonly kind: Uint8Array;
  readonly top: Int32Array;
  readonly liveWords: Int32Array;
  readonly tams: Int32Array;
  readonly age: Uint8Array;
  readonly inCset: Uint8Array;
  readonly evacFailed: Uint8Array;
  readonly humongousStart: Int32Array;
  readonly remset: Int32Array;
  readonly persistent: Uint8Array;
  readonly refStartsKept: Uint8Array;

  constructor(readonly count: number, readonly logRegionWords: number, buffer?: SharedArrayBuffer) {
    this.arrays = new SharedArrays([
      { name: 'kind', kind: 'u8', length: count },
      { name: 'top', kind: 'i32', length: count },
      { name: 'liveWords', kind: 'i32', length: count },
      { name: 'tams', kind: 'i32', length: count },
      { name: 'age', kind: 'u8', length: count },
      { name: 'inCset', kind: 'u8', length: count },
      { name: 'evacFailed', kind: 'u8', length: count },
      { name: 'humongousStart', kind: 'i32', length: count },
      { name: 'remset', kind: 'i32', length: count },
      { name: 'persistent', kind: 'u8', length: count },
      { name: 'refStartsKept', kind: 'u8', length: count },
    ], buffer);
    this.kind = this.arrays.u8('kind');
    this.top = this.arrays.i32('top');
    this.liveWords = this.arrays.i32('liveWords');
    this.tams = this.arrays.i32('tams');
    this.age = this.arrays.u8('age');
    this.inCset = this.arrays.u8('inCset');
    this.evacFailed = this.arrays.u8('evacFailed');
    this.humongousStart = this.arrays.i32('humongousStart');
    this.remset = this.arrays.i32('remset');
    this.persistent = this.arrays.u8('persistent');
    this.refStartsKept = this.arrays.u8('refStartsKept');
    if (!buffer) {
      for (let r = 0; r < count; r++) {
        this.top[r] = this.bottom(r);
        this.remset[r] = -1;
        this.humongousStart[r] = -1;
      }
    }
  }

  get regionWords(): number { return 1 << this.logRegionWords; }

  /** First allocatable word of region r. */
  bottom(r: number): number {
    return r === 0 ? RESERVED_WORDS : r << this.logRegionWords;
  }

  /** One past the last word of region r. */
  end(r: number): number {
    return (r + 1) << this.logRegionWords;
  }

  regionOf(word: number): number {
    return word >> this.logRegionWords;
  }

  usedWords(r: number): number {
    return this.top[r] - this.bottom(r);
  }

  isHumongous(r: number): boolean {
    const k = this.kind[r];
    return k === REGION_HUMONGOUS_START || k === REGION_HUMONGOUS_CONT;
  }
}
