/**
 * The evacuator: copies the marked objects of collection-set regions into
 * destination regions and leaves a forwarding address behind (header state
 * FORWARDED, word 1 = the copy), as G1's evacuation does. Copies are marked in
 * the mark bitmap and counted in their region's liveWords, so a later pass
 * sees them as live.
 *
 * Forwarding, as a tiny state machine (cf. MMTk's object_forwarding):
 *   NORMAL --copy succeeds--> FORWARDED (word 1 = new address)
 *   NORMAL --no to-space----> stays NORMAL in place; its region is marked evacFailed
 *
 * An object that could not be copied keeps its place and its region is
 * retained (evacuation failure): the heap stays correct, the region is not
 * freed, and the collector fixes it up afterwards.
 *
 * Destination regions are bump-allocated; the block-offset table is kept for
 * every copy that covers a card start.
 */
import type { Heap } from './heap.js';
import * as layout from './layout.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { LOG_CARD_WORDS, STATE_FORWARDED } = layout;

/** Below this many words a copy is a word loop; above, copyWithin (memmove). */
const SMALL_COPY_WORDS = 16;

export class Evacuator {
  private toRegion = -1;
  private toTop = 0;
  private toEnd = 0;
  objectsCopied = 0;
  wordsCopied = 0;
  failedObjects = 0;
  regionsClaimed = 0;
  /** Regions taken as destinations by this evacuator since the last reset. */
  readonly destinations: number[] = [];

  constructor(private readonly heap: Heap, readonly destinationKind: number, private readonly bitmap: Int32Array = heap.meta.markBitmap) {}

  resetCounters(): void {
    this.objectsCopied = 0;
    this.wordsCopied = 0;
    this.failedObjects = 0;
    this.regionsClaimed = 0;
    this.destinations.length = 0;
  }

  /**
   * Copies every marked object of region r (walking the mark bitmap, so dead
   * objects cost nothing). Returns false when some object had to stay.
   */
  evacuateRegion(r: number): boolean {
    const heap = this.heap;
    const bitmap = this.bitmap;
    const from = heap.regions.bottom(r);
    const to = heap.regions.top[r];
    let ok = true;
    let w = from;
    while (w < to) {
      // next set mark bit at or after w
      const bits = bitmap[w >> 6] >>> ((w >> 1) & 31);
      if (bits === 0) { w = (w | 63) + 1; continue; }
      const obj = w + 2 * (31 - Math.clz32(bits & -bits));
      if (obj >= to) break;
      const size = heap.sizeOf(obj);
      if (this.copy(obj, size) === 0) {
        ok = false;
        heap.regions.evacFailed[r] = 1;
      }
      w = obj + size;
    }
    return ok;
  }

  /** Copies one object and forwards it; returns the copy, or 0 when no to-space is left. */
  copy(obj: number, size: number): number {
    let dst = this.toTop;
    if (dst + size > this.toEnd && !this.nextToRegion(size)) {
      this.failedObjects++;
      return 0;
    }
    dst = this.toTop;
    const words = this.heap.words;
    if (size <= SMALL_COPY_WORDS) {
      for (let i = 0; i < size; i++) words[dst + i] = words[obj + i];
    } else {
      words.copyWithin(dst, obj, obj + size);
    }
    const end = dst + size;
    this.toTop = end;
    words[obj] = (words[obj] & ~3) | STATE_FORWARDED;
    words[obj + 1] = dst;
    const bitmap = this.bitmap;
    bitmap[dst >> 6] |= 1 << ((dst >> 1) & 31);
    this.heap.regions.liveWords[this.toRegion] += size;
    if ((((dst - 1) ^ (end - 1)) >> LOG_CARD_WORDS) !== 0) this.heap.recordObjectStart(dst, end);
    this.objectsCopied++;
    this.wordsCopied += size;
    this.heap.accountedWords += size;
    return dst;
  }

  /** Closes the current destination region (publishing its top). Call at the end of evacuation. */
  retire(): void {
    if (this.toRegion >= 0) this.heap.regions.top[this.toRegion] = this.toTop;
    this.toRegion = -1;
    this.toTop = 0;
    this.toEnd = 0;
  }

  private nextToRegion(size: number): boolean {
    if (size > this.heap.regionWords) return false;
    this.retire();
    const r = this.heap.claimRegion(this.destinationKind);
    if (r < 0) return false;
    this.regionsClaimed++;
    this.destinations.push(r);
    this.toRegion = r;
    this.toTop = this.heap.regions.bottom(r);
    this.toEnd = this.heap.regions.end(r);
    return true;
  }
}

