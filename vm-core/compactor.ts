/**
 * The compactor: a sliding mark-compact full collection over regions (Lisp-2,
 * as HotSpot G1's full GC), for when evacuation cannot make room because no
 * region is free to copy into. It needs a complete marking (mark bitmap and
 * regions.liveWords, from a Tracer) and never moves humongous objects.
 *
 *   1. forward   walk the marked objects of the compacted regions in address
 *                order with a destination cursor; give each its new address
 *                (header state FORWARDED, word 1 = new address), possibly itself
 *   2. adjust    replace every reference to a forwarded object by word 1 of its
 *                target: roots, live objects of compacted regions, humongous
 *                objects, live objects of regions that are not compacted
 *   3. move      walk the compacted regions again in address order; restore each
 *                header (NORMAL, word 1 = length) and slide the object down
 *   4. finish    set tops, liveWords and kinds of the regions that hold objects,
 *                rebuild their block offsets (done in 3), release the rest
 *
 * Word 1 holds array lengths, which the forwarding address overwrites. Phase 1
 * saves the length of every live non-struct object, in address order, in a
 * growable Int32Array side buffer; phases 2 and 3 walk the same objects in the
 * same order and consume the lengths with a cursor (structs have word 1 = 0).
 * No JS allocation happens per object.
 *
 * The destination cursor (region index d into the list of compacted regions,
 * word `to` inside it) never overtakes the source walk, so sliding never
 * overwrites an unmoved live object. Proof, for the object at `obj` of size s
 * in source region list[k]:
 *   (a) d <= k at all times. The cursor only advances while placing an object
 *       of region list[k], and only when the object does not fit at `to`. If
 *       d = k then, by (b), to <= obj and obj + s <= top(list[k]) <= end, so it
 *       fits and no advance happens; hence advances only happen from d < k and
 *       land on d + 1 <= k.
 *   (b) if d = k then to <= obj. The cursor enters list[k] at bottom(list[k])
 *       <= obj; afterwards `to` grows by the size of each live object of
 *       list[k] placed, while obj grows by that size plus any dead words.
 * So every destination word is either in a region list[d < k], whose live
 * objects have all been moved already (phase 3 walks in the same order), or in
 * list[k] below obj + s, where the only live data at or above the destination
 * is obj itself (copyWithin is memmove; the word loop copies low to high with
 * dst <= src). Objects fit in any destination region: an object of a region
 * other than 0 is smaller than a region, and region 0, whose capacity is two
 * words less, can only be list[0], the cursor's first region, never one it
 * advances to (an object that does not fit there moves on).
 *
 * After moving, the tail of each destination region past its new top is unused;
 * the mark bitmap marks the objects at their new addresses.
 */
import type { Heap } from './heap.js';
import * as layout from './layout.js';
import type { Mutator } from './mutator.js';
import * as regionTable from './region-table.js';
import * as typeRegistry from './type-registry.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { CARD_WORDS, HEADER_WORDS, LOG_CARD_WORDS, STATE_FORWARDED, STATE_MASK, TYPE_SHIFT } = layout;
const { REGION_EDEN, REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD, REGION_SURVIVOR } = regionTable;
const { FILLER_TYPE_ID, TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

/** Below this many words a move is a word loop; above, copyWithin (memmove). */
const SMALL_COPY_WORDS = 16;

export interface CompactionResult {
  /** Regions of the compacted kinds that held objects before. */
  regionsBefore: number;
  /** Of those, the regions that hold objects after. */
  regionsAfter: number;
  /** Words of the objects that changed address. */
  wordsMoved: number;
  objectsMoved: number;
  regionsFreed: number;
}

export const DEFAULT_COMPACTED_KINDS: readonly number[] = [REGION_EDEN, REGION_SURVIVOR, REGION_OLD];

export class Compactor {
  /** Lengths (word 1) of the live arrays of the compacted regions, in address order. */
  private lengths: Int32Array = new Int32Array(1 << 12);
  private lengthCount = 0;
  /** The compacted regions, in address order, and the new top of each. */
  private list: Int32Array = new Int32Array(0);
  private listLength = 0;
  private newTops: Int32Array = new Int32Array(0);
  referencesFixed = 0;
  deadWordsFilled = 0;

  constructor(private readonly heap: Heap, private readonly bitmap: Int32Array = heap.meta.markBitmap) {}

  /**
   * The mark bitmap and regions.liveWords must hold a complete marking of the
   * live objects (run a Tracer first); TLABs and allocation regions must be
   * retired. Compacts every region of the given kinds (default: eden, survivor,
   * old) toward low addresses in address order, objects never crossing region
   * boundaries; regions that end up holding objects become `resultKind`
   * (default OLD); emptied regions are released (heap.releaseRegion). Dead
   * humongous objects are not handled here: the caller releases them after
   * marking (their slots are not fixed). Updates every reference: the roots of
   * all mutators and every reference slot of every live object in the heap,
   * humongous ones included; dead objects of regions not compacted become
   * fillers. Rebuilds the block-offset table for the compacted regions, sets
   * region tops and liveWords, and keeps heap.accountedWords exact.
   */
  compact(mutators: readonly Mutator[], kinds: readonly number[] = DEFAULT_COMPACTED_KINDS, resultKind: number = REGION_OLD): CompactionResult {
    const heap = this.heap;
    const regions = heap.regions;
    if (this.list.length !== heap.regionCount) {
      this.list = new Int32Array(heap.regionCount);
      this.newTops = new Int32Array(heap.regionCount);
    }
    const compacted = new Uint8Array(8);
    for (const k of kinds) {
      if (k === REGION_FREE || k === REGION_HUMONGOUS_START || k === REGION_HUMONGOUS_CONT) throw new Error(`compactor: cannot compact regions of kind ${k}`);
      compacted[k] = 1;
    }
    let n = 0;
    let regionsBefore = 0;
    for (let r = 0; r < heap.regionCount; r++) {
      if (compacted[regions.kind[r]] === 0) continue;
      this.list[n++] = r;
      regions.refStartsKept[r] = 0; // objects slide to new starts: a card scan walks the region (side-metadata.ts)
      if (regions.top[r] > regions.bottom(r)) regionsBefore++;
    }
    this.listLength = n;
    this.referencesFixed = 0;
    this.deadWordsFilled = 0;

    const used = this.forward();
    this.adjust(mutators, compacted);
    const moved = this.move();

    // 4. finish: destinations list[0 .. used) hold objects; the rest are released
    let regionsAfter = 0;
    for (let i = 0; i < n; i++) {
      const r = this.list[i];
      const bottom = regions.bottom(r);
      const top = i < used ? this.newTops[i] : bottom;
      if (top === bottom) {
        heap.releaseRegion(r);
        continue;
      }
      regionsAfter++;
      heap.accountedWords += top - regions.top[r];
      regions.top[r] = top;
      regions.liveWords[r] = top - bottom;
      regions.kind[r] = resultKind;
      regions.tams[r] = bottom;
      regions.age[r] = 0;
      regions.inCset[r] = 0;
      regions.evacFailed[r] = 0;
    }
    return {
      regionsBefore,
      regionsAfter,
      wordsMoved: moved.words,
      objectsMoved: moved.objects,
      regionsFreed: regionsBefore - regionsAfter,
    };
  }

  /** Phase 1: forwarding addresses. Returns how many of the listed regions receive objects. */
  private forward(): number {
    const heap = this.heap;
    const words = heap.words;
    const bitmap = this.bitmap;
    const regions = heap.regions;
    const typeKind = heap.types.kind;
    const typeSize = heap.types.sizeWords;
    const elementWords = heap.types.elementWords;
    const list = this.list;
    const n = this.listLength;
    const newTops = this.newTops;
    let lengths = this.lengths;
    let lc = 0;
    let d = 0;
    let to = n > 0 ? regions.bottom(list[0]) : 0;
    let toEnd = n > 0 ? regions.end(list[0]) : 0;
    let placed = false;
    for (let k = 0; k < n; k++) {
      const r = list[k];
      const top = regions.top[r];
      if (regions.liveWords[r] === 0) continue;
      let w = regions.bottom(r);
      while (w < top) {
        const bits = bitmap[w >> 6] >>> ((w >> 1) & 31);
        if (bits === 0) { w = (w | 63) + 1; continue; }
        const obj = w + 2 * (31 - Math.clz32(bits & -bits));
        if (obj >= top) break;
        const header = words[obj];
        const type = header >>> TYPE_SHIFT;
        let size: number;
        if (typeKind[type] === TYPE_STRUCT) {
          size = typeSize[type];
        } else {
          const length = words[obj + 1];
          size = (HEADER_WORDS + length * elementWords[type] + 1) & ~1;
          if (lc === lengths.length) { this.lengths = lengths = grow(lengths); }
          lengths[lc++] = length;
        }
        while (to + size > toEnd) {
          // (a) in the header comment: only reached with d < k
          newTops[d++] = to;
          to = regions.bottom(list[d]);
          toEnd = regions.end(list[d]);
        }
        words[obj] = (header & ~STATE_MASK) | STATE_FORWARDED;
        words[obj + 1] = to;
        to += size;
        placed = true;
        w = obj + size;
      }
    }
    this.lengthCount = lc;
    if (!placed) return 0;
    newTops[d] = to;
    return d + 1;
  }

  /** Phase 2: every reference to a forwarded object now names its new address. */
  private adjust(mutators: readonly Mutator[], compacted: Uint8Array): void {
    const heap = this.heap;
    const words = heap.words;
    const regions = heap.regions;
    let fixed = 0;
    for (const m of mutators) {
      const roots = m.roots;
      for (let i = 0, sp = m.sp; i < sp; i++) {
        const v = roots[i];
        if (v !== 0 && (words[v] & STATE_MASK) === STATE_FORWARDED) { roots[i] = words[v + 1]; fixed++; }
      }
    }
    this.referencesFixed += fixed;
    for (let r = 0; r < heap.regionCount; r++) {
      const kind = regions.kind[r];
      if (kind === REGION_FREE || kind === REGION_HUMONGOUS_CONT || compacted[kind] !== 0) continue;
      if (kind === REGION_HUMONGOUS_START) {
        const obj = regions.bottom(r);
        if (this.isMarked(obj)) this.fixSlots(obj, this.refSlots(obj));
      } else {
        this.adjustKeptRegion(r);
      }
    }
    this.adjustCompactedRegions();
  }

  /** Fixes the slots of the live objects of the compacted regions (word 1 is forwarded: lengths come from the side buffer). */
  private adjustCompactedRegions(): void {
    const heap = this.heap;
    const words = heap.words;
    const bitmap = this.bitmap;
    const regions = heap.regions;
    const typeKind = heap.types.kind;
    const typeRefs = heap.types.refs;
    const typeSize = heap.types.sizeWords;
    const elementWords = heap.types.elementWords;
    const lengths = this.lengths;
    const list = this.list;
    let lc = 0;
    let fixed = 0;
    for (let k = 0, n = this.listLength; k < n; k++) {
      const r = list[k];
      if (regions.liveWords[r] === 0) continue;
      const top = regions.top[r];
      let w = regions.bottom(r);
      while (w < top) {
        const bits = bitmap[w >> 6] >>> ((w >> 1) & 31);
        if (bits === 0) { w = (w | 63) + 1; continue; }
        const obj = w + 2 * (31 - Math.clz32(bits & -bits));
        if (obj >= top) break;
        const type = words[obj] >>> TYPE_SHIFT;
        const kind = typeKind[type];
        let size: number;
        let refs: number;
        if (kind === TYPE_STRUCT) {
          size = typeSize[type];
          refs = typeRefs[type];
        } else {
          const length = lengths[lc++];
          size = (HEADER_WORDS + length * elementWords[type] + 1) & ~1;
          refs = kind === TYPE_REF_ARRAY ? length : 0;
        }
        for (let s = obj + HEADER_WORDS, end = s + refs; s < end; s++) {
          const v = words[s];
          if (v !== 0 && (words[v] & STATE_MASK) === STATE_FORWARDED) { words[s] = words[v + 1]; fixed++; }
        }
        w = obj + size;
      }
    }
    this.referencesFixed += fixed;
  }

  /** A region that is not compacted: fix its live objects, cover runs of dead ones with fillers. */
  private adjustKeptRegion(r: number): void {
    const heap = this.heap;
    const words = heap.words;
    const bitmap = this.bitmap;
    const typeKind = heap.types.kind;
    const typeSize = heap.types.sizeWords;
    const elementWords = heap.types.elementWords;
    const top = heap.regions.top[r];
    let obj = heap.regions.bottom(r);
    let deadStart = -1;
    while (obj < top) {
      const type = words[obj] >>> TYPE_SHIFT;
      const size = typeKind[type] === TYPE_STRUCT ? typeSize[type] : (HEADER_WORDS + words[obj + 1] * elementWords[type] + 1) & ~1;
      if (((bitmap[obj >> 6] >>> ((obj >> 1) & 31)) & 1) !== 0) {
        if (deadStart >= 0) { this.fill(deadStart, obj); deadStart = -1; }
        this.fixSlots(obj, this.refSlots(obj));
      } else if (deadStart < 0 && type !== FILLER_TYPE_ID) {
        deadStart = obj;
      }
      obj += size;
    }
    if (deadStart >= 0) this.fill(deadStart, top);
  }

  private fill(from: number, to: number): void {
    this.heap.writeFiller(from, to - from);
    this.deadWordsFilled += to - from;
  }

  private fixSlots(obj: number, refs: number): void {
    const words = this.heap.words;
    let fixed = 0;
    for (let s = obj + HEADER_WORDS, end = s + refs; s < end; s++) {
      const v = words[s];
      if (v !== 0 && (words[v] & STATE_MASK) === STATE_FORWARDED) { words[s] = words[v + 1]; fixed++; }
    }
    this.referencesFixed += fixed;
  }

  /** Reference slots of an unforwarded object. */
  private refSlots(obj: number): number {
    const heap = this.heap;
    const type = heap.words[obj] >>> TYPE_SHIFT;
    const kind = heap.types.kind[type];
    return kind === TYPE_STRUCT ? heap.types.refs[type] : kind === TYPE_REF_ARRAY ? heap.words[obj + 1] : 0;
  }

  private isMarked(obj: number): boolean {
    return ((this.bitmap[obj >> 6] >>> ((obj >> 1) & 31)) & 1) !== 0;
  }

  /** Phase 3: restore headers and slide objects down; moves mark bits and records block offsets. */
  private move(): { words: number; objects: number } {
    const heap = this.heap;
    const words = heap.words;
    const bitmap = this.bitmap;
    const bot = heap.meta.blockOffsets;
    const regions = heap.regions;
    const typeKind = heap.types.kind;
    const typeSize = heap.types.sizeWords;
    const elementWords = heap.types.elementWords;
    const lengths = this.lengths;
    const list = this.list;
    let lc = 0;
    let movedWords = 0;
    let movedObjects = 0;
    for (let k = 0, n = this.listLength; k < n; k++) {
      const r = list[k];
      if (regions.liveWords[r] === 0) continue;
      const top = regions.top[r];
      let w = regions.bottom(r);
      while (w < top) {
        const bits = bitmap[w >> 6] >>> ((w >> 1) & 31);
        if (bits === 0) { w = (w | 63) + 1; continue; }
        const obj = w + 2 * (31 - Math.clz32(bits & -bits));
        if (obj >= top) break;
        const header = words[obj];
        const type = header >>> TYPE_SHIFT;
        let size: number;
        let word1 = 0;
        if (typeKind[type] === TYPE_STRUCT) {
          size = typeSize[type];
        } else {
          word1 = lengths[lc++];
          size = (HEADER_WORDS + word1 * elementWords[type] + 1) & ~1;
        }
        const dst = words[obj + 1];
        words[obj] = header & ~STATE_MASK;
        words[obj + 1] = word1;
        const end = dst + size;
        if (dst !== obj) {
          if (size <= SMALL_COPY_WORDS) {
            for (let i = 0; i < size; i++) words[dst + i] = words[obj + i];
          } else {
            words.copyWithin(dst, obj, obj + size);
          }
          // the mark moves with the object: dst < obj, behind the walk
          bitmap[obj >> 6] &= ~(1 << ((obj >> 1) & 31));
          bitmap[dst >> 6] |= 1 << ((dst >> 1) & 31);
          movedWords += size;
          movedObjects++;
        }
        if ((((dst - 1) ^ (end - 1)) >> LOG_CARD_WORDS) !== 0) {
          for (let c = (dst + CARD_WORDS - 1) >> LOG_CARD_WORDS, last = (end - 1) >> LOG_CARD_WORDS; c <= last; c++) bot[c] = dst;
        }
        w = obj + size;
      }
    }
    if (lc !== this.lengthCount) throw new Error(`compactor: consumed ${lc} saved lengths, saved ${this.lengthCount}`);
    return { words: movedWords, objects: movedObjects };
  }
}

function grow(a: Int32Array): Int32Array {
  const bigger = new Int32Array(a.length * 2);
  bigger.set(a);
  return bigger;
}
