/**
 * Remembered sets: per-region "points-into" sets of CARDS (card = word >> LOG_CARD_WORDS,
 * 512 bytes), kept only for TRACKED target regions (young, humongous and
 * collection-set candidate regions; the collector decides). A card in a target's
 * set may hold a reference into the target; the sets are exact supersets of the
 * refined cross-region references: a card, once added, is never lost until the
 * set is cleared.
 *
 * Two representations (createRememberedSets(kind, heap)):
 *
 *   'bitmap'  Zhao & Blackburn's REM: per target, source region -> card bitmap of
 *             that source region's cards (cardsPerRegion bits, rounded up to whole
 *             int32 words).
 *   'sparse'  HotSpot's three levels (HeapRegionRemSet's sparse table, fine-grain
 *             table, coarse map): per target, source region -> up to `sparseCards`
 *             card offsets; on overflow -> a card bitmap ("fine"); when a target
 *             already holds `maxBitmaps` bitmaps, the bitmap with the most cards (or
 *             the overflowing region, if it has more) is coarsened to "the whole
 *             source region" (every card of the region is in the set).
 *
 * Storage, per tracked target (one small JS object per TARGET, never one per
 * (target, source) pair; every pair lives in typed arrays):
 *
 *   keys  Int32Array   open-addressing hash (linear probing, load <= 1/2,
 *   vals  Int32Array   multiplicative hash) from source+1 (0 = empty) to a value:
 *                        bitmap  value = bitmap slot
 *                        sparse  value >= 0: sparse slot; -1: COARSE;
 *                                value <= -2: bitmap slot (-value - 2)
 *   bitmaps Int32Array slots of bitmapWords words each; free slots form a list
 *                      threaded through their first word
 *   sparse  Uint16Array slots of 1 + sparseCards halfwords: [length, offset0, offset1, ...]
 *                      (offsets are card indices within the source region, < 65536: regions
 *                      up to 32 MiB, G1's largest); free list threaded through halfwords 0-1
 *
 * All four arrays start empty (a shared zero-length array), are allocated on
 * the first add and grow by doubling; clear/untrack drops them, so committed
 * bytes shrink. committedBytes() sums the byteLength of every typed array the
 * sets hold at the moment (the per-target arrays plus the per-region `tracked`
 * and entry-count columns) — measured, not estimated. Entries are never removed
 * one by one (a set only grows until cleared), so the hash needs no tombstones.
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { LOG_CARD_WORDS } = layout;

export type RemsetRepresentation = 'bitmap' | 'sparse';

export interface RememberedSets {
  readonly representation: RemsetRepresentation;
  /** Per region: 1 = tracked. */
  readonly tracked: Uint8Array;
  /** Start tracking (an empty set). Already tracked: nothing changes (the set is kept). */
  track(region: number): void;
  /** Stop tracking and free its storage. */
  untrack(region: number): void;
  /** Record that `card` (in another region) may hold a reference into `target`; ignores untracked targets and cards of the target itself; idempotent. */
  add(target: number, card: number): void;
  /** True when `card` is in target's set (directly or through a coarsened source region). */
  contains(target: number, card: number): boolean;
  isEmpty(target: number): boolean;
  /** Writes the distinct cards of target's set into out (growing it if needed: returns the possibly-new array), count in the result. A coarsened source region yields all its cards. */
  collectCards<B extends ArrayBufferLike>(target: number, out: Int32Array<B>): { cards: Int32Array<B>; count: number };
  /** Cards recorded (coarse regions count as their card count). */
  entryCount(target: number): number;
  /** Number of distinct source regions recorded for target (hash entries). */
  sourceRegionCount(target: number): number;
  /** Empties target's set (it stays tracked) and frees its storage. */
  clear(target: number): void;
  /** Bytes of all typed-array storage currently committed by all sets (measured). */
  committedBytes(): number;
  /** Empties every set (tracking unchanged). */
  clearAll(): void;
  /** Sparse only: sparse entries that overflowed into a card bitmap (cumulative). */
  sparseOverflows: number;
  /** Sparse only: source regions coarsened to "whole region" (cumulative). */
  coarsenings: number;
}

export interface RemsetOptions {
  /** 'sparse': card offsets kept per source region before switching to a bitmap (HotSpot: G1RSetSparseRegionEntries). Default 16. */
  sparseCards?: number;
  /** 'sparse': bitmaps per target before coarsening (HotSpot: G1RSetRegionEntries). Default max(4, regionCount / 8). */
  maxBitmaps?: number;
}

export function createRememberedSets(kind: RemsetRepresentation, heap: Heap, options: RemsetOptions = {}): RememberedSets {
  if (kind === 'bitmap') return new BitmapRemsets(heap);
  if (kind === 'sparse') return new SparseRemsets(heap, options);
  throw new Error(`unknown remembered-set representation '${String(kind)}' (bitmap, sparse)`);
}

const EMPTY = new Int32Array(0);
const EMPTY16 = new Uint16Array(0);
/** Sparse value of a coarsened source region. */
const COARSE = -1;
const MIN_HASH_CAPACITY = 8;
const HASH_MULTIPLIER = -1640531535; // 0x9e3779b1, Knuth's multiplicative hash

/** The storage of one tracked target region. */
class TargetTable {
  keys: Int32Array = EMPTY;
  vals: Int32Array = EMPTY;
  /** 32 - log2(capacity): the hash is the top log2(capacity) bits of the product. */
  shift = 32;
  used = 0;
  bitmaps: Int32Array = EMPTY;
  bitmapTop = 0;
  bitmapFree = -1;
  bitmapCount = 0;
  sparse: Uint16Array = EMPTY16;
  sparseTop = 0;
  sparseFree = -1;

  bytes(): number {
    return this.keys.byteLength + this.vals.byteLength + this.bitmaps.byteLength + this.sparse.byteLength;
  }

  reset(): void {
    this.keys = EMPTY;
    this.vals = EMPTY;
    this.shift = 32;
    this.used = 0;
    this.bitmaps = EMPTY;
    this.bitmapTop = 0;
    this.bitmapFree = -1;
    this.bitmapCount = 0;
    this.sparse = EMPTY16;
    this.sparseTop = 0;
    this.sparseFree = -1;
  }
}

/** The hash from source region to value, and the bitmap pool, shared by both representations. */
abstract class HashedRemsets {
  readonly tracked: Uint8Array;
  /** Cards per target (coarse regions count whole). */
  protected readonly entries: Int32Array;
  protected readonly tables: Array<TargetTable | null>;
  protected readonly regionCount: number;
  protected readonly logCardsPerRegion: number;
  protected readonly cardsPerRegion: number;
  protected readonly cardMask: number;
  /** Int32 words per card bitmap. */
  protected readonly bitmapWords: number;
  sparseOverflows = 0;
  coarsenings = 0;

  constructor(heap: Heap) {
    this.regionCount = heap.regionCount;
    this.tracked = new Uint8Array(heap.regionCount);
    this.entries = new Int32Array(heap.regionCount);
    this.tables = new Array<TargetTable | null>(heap.regionCount).fill(null);
    this.logCardsPerRegion = heap.logRegionWords - LOG_CARD_WORDS;
    this.cardsPerRegion = 1 << this.logCardsPerRegion;
    this.cardMask = this.cardsPerRegion - 1;
    this.bitmapWords = (this.cardsPerRegion + 31) >> 5;
  }

  track(region: number): void {
    if (this.tracked[region] !== 0) return;
    this.tracked[region] = 1;
    this.entries[region] = 0;
    this.tables[region] = new TargetTable();
  }

  untrack(region: number): void {
    this.tracked[region] = 0;
    this.entries[region] = 0;
    this.tables[region] = null;
  }

  isEmpty(target: number): boolean {
    return this.entries[target] === 0;
  }

  entryCount(target: number): number {
    return this.entries[target];
  }

  sourceRegionCount(target: number): number {
    const t = this.tables[target];
    return t === null ? 0 : t.used;
  }

  clear(target: number): void {
    const t = this.tables[target];
    if (t !== null) t.reset();
    this.entries[target] = 0;
  }

  clearAll(): void {
    for (let r = 0; r < this.regionCount; r++) if (this.tracked[r] !== 0) this.clear(r);
  }

  committedBytes(): number {
    let bytes = this.tracked.byteLength + this.entries.byteLength;
    const tables = this.tables;
    for (let r = 0; r < this.regionCount; r++) {
      const t = tables[r];
      if (t !== null) bytes += t.bytes();
    }
    return bytes;
  }

  // ---- the hash ---------------------------------------------------------------------

  /** Hash index of source in t, or -1. */
  protected find(t: TargetTable, source: number): number {
    const keys = t.keys;
    if (keys.length === 0) return -1;
    const mask = keys.length - 1;
    const key = source + 1;
    let h = Math.imul(key, HASH_MULTIPLIER) >>> t.shift;
    for (;;) {
      const k = keys[h];
      if (k === key) return h;
      if (k === 0) return -1;
      h = (h + 1) & mask;
    }
  }

  /** Inserts source (not present) with value; returns its hash index. */
  protected insert(t: TargetTable, source: number, value: number): number {
    if ((t.used + 1) * 2 > t.keys.length) this.growHash(t);
    const keys = t.keys;
    const mask = keys.length - 1;
    const key = source + 1;
    let h = Math.imul(key, HASH_MULTIPLIER) >>> t.shift;
    while (keys[h] !== 0) h = (h + 1) & mask;
    keys[h] = key;
    t.vals[h] = value;
    t.used++;
    return h;
  }

  private growHash(t: TargetTable): void {
    const oldKeys = t.keys;
    const oldVals = t.vals;
    const capacity = Math.max(MIN_HASH_CAPACITY, oldKeys.length * 2);
    const keys = new Int32Array(capacity);
    const vals = new Int32Array(capacity);
    const shift = 32 - Math.log2(capacity);
    const mask = capacity - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const key = oldKeys[i];
      if (key === 0) continue;
      let h = Math.imul(key, HASH_MULTIPLIER) >>> shift;
      while (keys[h] !== 0) h = (h + 1) & mask;
      keys[h] = key;
      vals[h] = oldVals[i];
    }
    t.keys = keys;
    t.vals = vals;
    t.shift = shift;
  }

  // ---- the bitmap pool ----------------------------------------------------------------

  /** A zeroed bitmap slot of t. */
  protected allocBitmap(t: TargetTable): number {
    const bw = this.bitmapWords;
    let b = t.bitmapFree;
    if (b >= 0) {
      t.bitmapFree = t.bitmaps[b * bw];
      t.bitmaps.fill(0, b * bw, (b + 1) * bw);
    } else {
      b = t.bitmapTop++;
      if ((b + 1) * bw > t.bitmaps.length) {
        const grown = new Int32Array(Math.max(2, b * 2) * bw);
        grown.set(t.bitmaps);
        t.bitmaps = grown;
      }
    }
    t.bitmapCount++;
    return b;
  }

  protected freeBitmap(t: TargetTable, b: number): void {
    t.bitmaps[b * this.bitmapWords] = t.bitmapFree;
    t.bitmapFree = b;
    t.bitmapCount--;
  }

  protected bitmapHas(t: TargetTable, b: number, offset: number): boolean {
    return ((t.bitmaps[b * this.bitmapWords + (offset >> 5)] >>> (offset & 31)) & 1) !== 0;
  }

  protected bitmapPopCount(t: TargetTable, b: number): number {
    const bitmaps = t.bitmaps;
    let n = 0;
    for (let i = b * this.bitmapWords, end = i + this.bitmapWords; i < end; i++) {
      let w = bitmaps[i];
      while (w !== 0) { w &= w - 1; n++; }
    }
    return n;
  }

  /** Appends the cards of bitmap b of source region `source` to out from index n; returns the new count. */
  protected emitBitmap(t: TargetTable, b: number, source: number, out: Int32Array, n: number): number {
    const bitmaps = t.bitmaps;
    const base = source << this.logCardsPerRegion;
    for (let i = 0; i < this.bitmapWords; i++) {
      let w = bitmaps[b * this.bitmapWords + i];
      while (w !== 0) {
        const low = w & -w;
        out[n++] = base + (i << 5) + (31 - Math.clz32(low));
        w ^= low;
      }
    }
    return n;
  }

  /** out, or a larger array over the same kind of buffer (shared or not) when out cannot hold target's cards. */
  protected ensureCapacity<B extends ArrayBufferLike>(target: number, out: Int32Array<B>): Int32Array<B> {
    const need = this.entries[target];
    if (out.length >= need) return out;
    const bytes = Math.max(need, out.length * 2) * 4;
    const buffer = out.buffer instanceof SharedArrayBuffer ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    return new Int32Array(buffer) as Int32Array<B>;
  }
}

/** Per-source-region card bitmaps (the paper's design). */
class BitmapRemsets extends HashedRemsets implements RememberedSets {
  readonly representation = 'bitmap' as const;

  add(target: number, card: number): void {
    if (this.tracked[target] === 0) return;
    const source = card >> this.logCardsPerRegion;
    if (source === target) return;
    const t = this.tables[target]!;
    let h = this.find(t, source);
    if (h < 0) h = this.insert(t, source, this.allocBitmap(t));
    const offset = card & this.cardMask;
    const i = t.vals[h] * this.bitmapWords + (offset >> 5);
    const bit = 1 << (offset & 31);
    const bitmaps = t.bitmaps;
    const w = bitmaps[i];
    if ((w & bit) === 0) {
      bitmaps[i] = w | bit;
      this.entries[target]++;
    }
  }

  contains(target: number, card: number): boolean {
    const t = this.tables[target];
    if (t === null) return false;
    const h = this.find(t, card >> this.logCardsPerRegion);
    return h >= 0 && this.bitmapHas(t, t.vals[h], card & this.cardMask);
  }

  collectCards<B extends ArrayBufferLike>(target: number, out: Int32Array<B>): { cards: Int32Array<B>; count: number } {
    const cards = this.ensureCapacity(target, out);
    const t = this.tables[target];
    let n = 0;
    if (t !== null) {
      const keys = t.keys;
      for (let h = 0; h < keys.length; h++) {
        if (keys[h] !== 0) n = this.emitBitmap(t, t.vals[h], keys[h] - 1, cards, n);
      }
    }
    return { cards, count: n };
  }
}

/** Sparse arrays -> card bitmaps -> whole source regions (HotSpot's levels). */
class SparseRemsets extends HashedRemsets implements RememberedSets {
  readonly representation = 'sparse' as const;
  readonly sparseCards: number;
  readonly maxBitmaps: number;
  private readonly sparseStride: number;

  constructor(heap: Heap, options: RemsetOptions) {
    super(heap);
    if (this.cardsPerRegion > 0x10000) throw new Error(`sparse remembered sets: regions of ${this.cardsPerRegion} cards are larger than 32 MiB; use 'bitmap'`);
    this.sparseCards = Math.min(0xffff, Math.max(1, Math.floor(options.sparseCards ?? 16)));
    this.maxBitmaps = Math.max(1, Math.floor(options.maxBitmaps ?? Math.max(4, heap.regionCount >> 3)));
    this.sparseStride = 1 + this.sparseCards;
  }

  add(target: number, card: number): void {
    if (this.tracked[target] === 0) return;
    const source = card >> this.logCardsPerRegion;
    if (source === target) return;
    const t = this.tables[target]!;
    const offset = card & this.cardMask;
    const h = this.find(t, source);
    if (h < 0) {
      const s = this.allocSparse(t);
      t.sparse[s * this.sparseStride] = 1;
      t.sparse[s * this.sparseStride + 1] = offset;
      this.insert(t, source, s);
      this.entries[target]++;
      return;
    }
    const v = t.vals[h];
    if (v >= 0) {
      const sparse = t.sparse;
      const base = v * this.sparseStride;
      const len = sparse[base];
      for (let i = base + 1, end = base + 1 + len; i < end; i++) if (sparse[i] === offset) return;
      if (len < this.sparseCards) {
        sparse[base + 1 + len] = offset;
        sparse[base] = len + 1;
        this.entries[target]++;
      } else {
        this.overflow(target, t, h, offset);
      }
    } else if (v !== COARSE) {
      const i = (-v - 2) * this.bitmapWords + (offset >> 5);
      const bit = 1 << (offset & 31);
      const bitmaps = t.bitmaps;
      const w = bitmaps[i];
      if ((w & bit) === 0) {
        bitmaps[i] = w | bit;
        this.entries[target]++;
      }
    }
  }

  /** A full sparse entry gets one more card: move it to a bitmap, coarsening one source region first if the target has its maximum of bitmaps. */
  private overflow(target: number, t: TargetTable, h: number, offset: number): void {
    this.sparseOverflows++;
    const s = t.vals[h];
    if (t.bitmapCount >= this.maxBitmaps) {
      // coarsen the source region with the most cards: an existing bitmap, or this one (sparseCards + 1 cards)
      let victim = -1;
      let most = this.sparseCards + 1;
      const keys = t.keys;
      const vals = t.vals;
      for (let i = 0; i < keys.length; i++) {
        const w = vals[i];
        if (keys[i] === 0 || w >= COARSE) continue; // sparse or already coarse
        const cards = this.bitmapPopCount(t, -w - 2);
        if (cards > most) { most = cards; victim = i; }
      }
      this.coarsenings++;
      if (victim < 0) {
        this.freeSparse(t, s);
        t.vals[h] = COARSE;
        this.entries[target] += this.cardsPerRegion - this.sparseCards;
        return;
      }
      this.freeBitmap(t, -vals[victim] - 2);
      vals[victim] = COARSE;
      this.entries[target] += this.cardsPerRegion - most;
    }
    const b = this.allocBitmap(t);
    const bitmaps = t.bitmaps;
    const bbase = b * this.bitmapWords;
    const sparse = t.sparse;
    const base = s * this.sparseStride;
    for (let i = base + 1, end = base + 1 + this.sparseCards; i < end; i++) bitmaps[bbase + (sparse[i] >> 5)] |= 1 << (sparse[i] & 31);
    bitmaps[bbase + (offset >> 5)] |= 1 << (offset & 31);
    this.freeSparse(t, s);
    t.vals[h] = -b - 2;
    this.entries[target]++;
  }

  private allocSparse(t: TargetTable): number {
    const stride = this.sparseStride;
    let s = t.sparseFree;
    if (s >= 0) {
      t.sparseFree = (t.sparse[s * stride] | (t.sparse[s * stride + 1] << 16)) - 1;
    } else {
      s = t.sparseTop++;
      if ((s + 1) * stride > t.sparse.length) {
        const grown = new Uint16Array(Math.max(2, s * 2) * stride);
        grown.set(t.sparse);
        t.sparse = grown;
      }
    }
    return s;
  }

  private freeSparse(t: TargetTable, s: number): void {
    const link = t.sparseFree + 1; // 0: end of list
    t.sparse[s * this.sparseStride] = link & 0xffff;
    t.sparse[s * this.sparseStride + 1] = link >>> 16;
    t.sparseFree = s;
  }

  contains(target: number, card: number): boolean {
    const t = this.tables[target];
    if (t === null) return false;
    const h = this.find(t, card >> this.logCardsPerRegion);
    if (h < 0) return false;
    const v = t.vals[h];
    const offset = card & this.cardMask;
    if (v === COARSE) return true;
    if (v < 0) return this.bitmapHas(t, -v - 2, offset);
    const base = v * this.sparseStride;
    for (let i = base + 1, end = base + 1 + t.sparse[base]; i < end; i++) if (t.sparse[i] === offset) return true;
    return false;
  }

  collectCards<B extends ArrayBufferLike>(target: number, out: Int32Array<B>): { cards: Int32Array<B>; count: number } {
    const cards = this.ensureCapacity(target, out);
    const t = this.tables[target];
    let n = 0;
    if (t !== null) {
      const keys = t.keys;
      const vals = t.vals;
      const sparse = t.sparse;
      const log = this.logCardsPerRegion;
      for (let h = 0; h < keys.length; h++) {
        if (keys[h] === 0) continue;
        const source = keys[h] - 1;
        const v = vals[h];
        if (v === COARSE) {
          for (let c = source << log, end = c + this.cardsPerRegion; c < end; c++) cards[n++] = c;
        } else if (v < 0) {
          n = this.emitBitmap(t, -v - 2, source, cards, n);
        } else {
          const base = v * this.sparseStride;
          for (let i = base + 1, end = base + 1 + sparse[base]; i < end; i++) cards[n++] = (source << log) + sparse[i];
        }
      }
    }
    return { cards, count: n };
  }

  /** Level counts of target's set (for reports and tests): sparse entries, bitmaps, coarse regions. */
  levels(target: number): { sparse: number; bitmaps: number; coarse: number } {
    const t = this.tables[target];
    const out = { sparse: 0, bitmaps: 0, coarse: 0 };
    if (t === null) return out;
    for (let h = 0; h < t.keys.length; h++) {
      if (t.keys[h] === 0) continue;
      const v = t.vals[h];
      if (v === COARSE) out.coarse++;
      else if (v < 0) out.bitmaps++;
      else out.sparse++;
    }
    return out;
  }
}

/** Level counts of a sparse set (zeros for a bitmap set, whose entries are all bitmaps: see sourceRegionCount). */
export function remsetLevels(remsets: RememberedSets, target: number): { sparse: number; bitmaps: number; coarse: number } {
  if (remsets instanceof SparseRemsets) return remsets.levels(target);
  return { sparse: 0, bitmaps: remsets.sourceRegionCount(target), coarse: 0 };
}
