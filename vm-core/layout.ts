/**
 * Object layout: the two-word header every heap object starts with, and the
 * word-level constants the whole VM shares.
 *
 * A reference is the word index (4-byte words) of an object's header, stored
 * as an int32. 0 is null: region 0 starts with a permanent 2-word filler, so no
 * object ever lives at word 0. References stay below 2^30 so V8 keeps them as
 * small integers.
 *
 *   word 0   31 30                                  8 7    4  3  2  1     0
 *           +--+-------------------------------------+------+--+--+-------+
 *           | 0|            type id (23 bits)         | age  |E |P | state |
 *           +--+-------------------------------------+------+--+--+-------+
 *            P (bit 2) PERSIST_MARK, E (bit 3) PERSIST_EAGER: GCPersist only
 *            (collectors/gcpersist); 0 in every object of any other collector
 *   word 1  | array length (element count); 0 for structs;                |
 *           | the forwarding address once state == FORWARDED              |
 *           +-------------------------------------------------------------+
 *   word 2.. reference slots, contiguous (struct refs, or ref-array elements)
 *   then     data words, starting at an even word so float64 pairs align
 *
 * Every object is a whole number of 8-byte units (an even word count), so
 * object starts are even word indices and the Float64Array view over the same
 * buffer can address any float64 data pair at (ref + offset) >> 1.
 *
 * Files with hot paths copy these constants into module-local consts once
 * (`const { TYPE_SHIFT } = layout;`): a test runner that rewrites imports
 * into namespace property reads (vitest does) would otherwise call a getter
 * on every use, which made the mutator fast path about 5x slower under test.
 */

export const WORD_BYTES = 4;
export const LOG_WORD_BYTES = 2;
export const HEADER_WORDS = 2;
/** Objects are aligned to, and sized in multiples of, this many words. */
export const OBJECT_ALIGN_WORDS = 2;
/** Words in the smallest object (a header alone). */
export const MIN_OBJECT_WORDS = 2;

export const STATE_MASK = 0b11;
/** Header state: an ordinary object. */
export const STATE_NORMAL = 0;
/** Header state: copied; word 1 holds the address of the copy. */
export const STATE_FORWARDED = 1;
/** Header state: a parallel evacuator has claimed the object and is copying it. */
export const STATE_BUSY = 2;
/** Header state: evacuation failed; the object stays where it is (word 1 keeps its length). */
export const STATE_SELF_FORWARDED = 3;

/**
 * GCPersist's routing mark: the pre-pass of an evacuation pause sets it on
 * the objects reachable from persistent roots that are not yet in persistent
 * regions; evacuation copies a marked object into a persistent region and
 * clears the mark in the copy. Transient: set and cleared within one pause.
 */
export const PERSIST_MARK = 1 << 2;
/**
 * GCPersist's write-through bit: the object is reachable from an `eager`
 * persistent root, so the eager barrier (barriers/persist.ts) logs every store
 * into it durably. Kept in copies and in the image.
 */
export const PERSIST_EAGER = 1 << 3;
export const PERSIST_BITS = PERSIST_MARK | PERSIST_EAGER;

export const AGE_SHIFT = 4;
export const AGE_MASK = 0b1111 << AGE_SHIFT;
export const MAX_AGE = 15;
export const TYPE_SHIFT = 8;
export const MAX_TYPE_ID = (1 << 23) - 1;

/** Offset of reference slot i is REF_BASE + i; of array element i is ARRAY_BASE + i (x2 for float64). */
export const REF_BASE = HEADER_WORDS;
export const ARRAY_BASE = HEADER_WORDS;

/** Cards are 512 bytes, as in HotSpot. */
export const CARD_BYTES = 512;
export const LOG_CARD_WORDS = 7;
export const CARD_WORDS = 1 << LOG_CARD_WORDS;

/** The largest heap whose word indices stay below 2^30. */
export const MAX_HEAP_BYTES = 4 * 1024 * 1024 * 1024;

/** Poison written over released from-space in stress mode: 0xDEADBEEF, an invalid header. */
export const POISON_WORD = 0xdeadbeef | 0;

export function headerWord(typeId: number, age: number): number {
  return (typeId << TYPE_SHIFT) | (age << AGE_SHIFT);
}

export function typeIdOf(header: number): number {
  return header >>> TYPE_SHIFT;
}

export function ageOf(header: number): number {
  return (header & AGE_MASK) >>> AGE_SHIFT;
}

export function alignObjectWords(words: number): number {
  return (words + 1) & ~1;
}
