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
 *
 * Mark bit of the object at word w: bitmap word w >> 6, bit (w >> 1) & 31
 * (objects start at even words, so one bit per two words suffices).
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

  constructor(readonly heapBytes: number, buffer?: SharedArrayBuffer, specs: SideMetadataSpec[] = SIDE_METADATA_SPECS) {
    this.arrays = new SharedArrays(specs.map((s) => arraySpecFor(s, heapBytes)), buffer);
    this.markBitmap = this.arrays.i32('mark-bitmap');
    this.prevBitmap = this.arrays.i32('prev-bitmap');
    this.cards = this.arrays.u8('card-table');
    this.blockOffsets = this.arrays.i32('block-offsets');
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
