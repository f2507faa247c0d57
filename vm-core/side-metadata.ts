/**
 * Side metadata: per-heap-address tables kept outside the objects, all in one
 * SharedArrayBuffer and all described by one spec table (as MMTk's side
 * metadata specs). Each spec states how many heap bytes one metadata unit
 * covers; the layout places the tables and start-up checks they do not overlap.
 *
 *   spec            unit     covers            size for a 256 MiB heap
 *   mark-bitmap     1 bit    8 heap bytes      4 MiB    (next marking)
 *   prev-bitmap     1 bit    8 heap bytes      4 MiB    (previous marking, concurrent marking)
 *   card-table      1 byte   512 heap bytes    512 KiB  CARD_CLEAN / CARD_DIRTY / CARD_YOUNG
 *   block-offsets   int32    512 heap bytes    2 MiB    start of the object covering each card's first word
 *   ref-starts      1 bit    8 heap bytes      4 MiB    start of every object with reference slots, in the
 *                                                       regions whose refStartsKept flag is 1 (see below)
 *
 * Mark bit of the object at word w: bitmap word w >> 6, bit (w >> 1) & 31
 * (objects start at even words, so one bit per two words suffices). The
 * ref-starts bitmap uses the same addressing.
 *
 * Reference-object starts: a card scan must visit every reference slot on a
 * card, and walking the card object by object (from the block-offset table)
 * visits the objects without slots too, each a dependent load of its header
 * then of its type (most objects on an lru-cache card: keys and values). In a
 * region whose ref-starts bits are kept, the scan visits only the objects
 * whose bits are set, plus the one object reaching in from an earlier card
 * (the block-offset table). The bits are kept by whoever fills the region:
 *
 *   evacuation pauses    an old copy destination is cleared and flagged kept when claimed;
 *                        every copy with slots sets its bit (evacuation-closure.ts)
 *   fillers              writing a filler clears the bits it covers (Heap.writeFiller, the
 *                        concurrent rebuild's scrub)
 *   any other filling    mutator allocation, full-GC compaction, persistent and humongous
 *                        regions, recovery: the flag is 0 (Heap.claim, releaseRegion, the
 *                        compactor) and the card scan walks the region as before
 *
 * The verifier checks the bits of every kept region against a walk of it.
 */
import * as layout from './layout.js';
import { type ArraySpec, SharedArrays } from './shared-layout.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { CARD_BYTES, WORD_BYTES } = layout;

/** Card values: CLEAN (no unrecorded cross-region store), DIRTY (queued for refinement), YOUNG (the card
 * lies in an eden/survivor region: its stores never need recording, as G1's g1_young_card_val). */
export const CARD_CLEAN = 0;
export const CARD_DIRTY = 1;
export const CARD_YOUNG = 2;

export interface SideMetadataSpec {
  name: string;
  /** Heap bytes covered by one element. */
  heapBytesPerElement: number;
  /** Bits per element: 1 (packed into int32 words), 8 (u8) or 32 (i32). */
  bitsPerElement: 1 | 8 | 32;
}

export const SIDE_METADATA_SPECS: SideMetadataSpec[] = [
  { name: 'mark-bitmap', heapBytesPerElement: 2 * WORD_BYTES, bitsPerElement: 1 },
  { name: 'prev-bitmap', heapBytesPerElement: 2 * WORD_BYTES, bitsPerElement: 1 },
  { name: 'card-table', heapBytesPerElement: CARD_BYTES, bitsPerElement: 8 },
  { name: 'block-offsets', heapBytesPerElement: CARD_BYTES, bitsPerElement: 32 },
  { name: 'ref-starts', heapBytesPerElement: 2 * WORD_BYTES, bitsPerElement: 1 },
];

export function arraySpecFor(spec: SideMetadataSpec, heapBytes: number): ArraySpec {
  const elements = Math.ceil(heapBytes / spec.heapBytesPerElement);
  if (spec.bitsPerElement === 1) return { name: spec.name, kind: 'i32', length: Math.ceil(elements / 32) };
  return { name: spec.name, kind: spec.bitsPerElement === 8 ? 'u8' : 'i32', length: elements };
}

export class SideMetadata {
  readonly arrays: SharedArrays;
  readonly markBitmap: Int32Array;
  readonly prevBitmap: Int32Array;
  readonly cards: Uint8Array;
  readonly blockOffsets: Int32Array;
  readonly refStarts: Int32Array;

  constructor(readonly heapBytes: number, buffer?: SharedArrayBuffer, specs: SideMetadataSpec[] = SIDE_METADATA_SPECS) {
    this.arrays = new SharedArrays(specs.map((s) => arraySpecFor(s, heapBytes)), buffer);
    this.markBitmap = this.arrays.i32('mark-bitmap');
    this.prevBitmap = this.arrays.i32('prev-bitmap');
    this.cards = this.arrays.u8('card-table');
    this.blockOffsets = this.arrays.i32('block-offsets');
    this.refStarts = this.arrays.i32('ref-starts');
  }

  get bytes(): number { return this.arrays.buffer.byteLength; }
}

export function isMarked(bitmap: Int32Array, ref: number): boolean {
  return ((bitmap[ref >> 6] >>> ((ref >> 1) & 31)) & 1) !== 0;
}

/** Sets the mark bit of ref; returns false when it was already set. */
export function setMark(bitmap: Int32Array, ref: number): boolean {
  const i = ref >> 6;
  const bit = 1 << ((ref >> 1) & 31);
  const old = bitmap[i];
  if ((old & bit) !== 0) return false;
  bitmap[i] = old | bit;
  return true;
}

/** Clears the mark bits of words [from, to) (both even). */
export function clearMarks(bitmap: Int32Array, from: number, to: number): void {
  // whole bitmap words where possible, single bits at the ragged ends
  let w = from;
  while (w < to && (w & 63) !== 0) { bitmap[w >> 6] &= ~(1 << ((w >> 1) & 31)); w += 2; }
  const fullEnd = to & ~63;
  if (w < fullEnd) { bitmap.fill(0, w >> 6, fullEnd >> 6); w = fullEnd; }
  while (w < to) { bitmap[w >> 6] &= ~(1 << ((w >> 1) & 31)); w += 2; }
}

/** How many bits are set for words [from, to) (both multiples of 64). */
export function countMarks(bitmap: Int32Array, from: number, to: number): number {
  let n = 0;
  for (let i = from >> 6, end = to >> 6; i < end; i++) {
    let b = bitmap[i];
    while (b !== 0) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}

/** The first marked object start in [from, to), or -1. */
export function nextMarked(bitmap: Int32Array, from: number, to: number): number {
  let w = from;
  while (w < to) {
    const bits = bitmap[w >> 6] >>> ((w >> 1) & 31);
    if (bits !== 0) {
      const found = w + 2 * (31 - Math.clz32(bits & -bits));
      return found < to ? found : -1;
    }
    w = (w | 63) + 1;
  }
  return -1;
}
