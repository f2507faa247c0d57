/**
 * The type registry: what a type id in a header means. Workloads register
 * their types; the collector sizes and scans objects through these tables,
 * which are typed arrays in a SharedArrayBuffer so worker threads can do the
 * same.
 *
 *   kind         sizing                                    reference slots
 *   STRUCT       fixed: align2(2 + refs [+1 pad] + data)   refs, at words 2 .. 2+refs
 *   REF_ARRAY    align2(2 + length)                        length, at words 2 .. 2+length
 *   DATA_ARRAY   align2(2 + length * elementWords)         none
 *
 * A struct's data words start at an even word (after a pad word when refs is
 * odd) so float64 data pairs are 8-byte aligned. Type id 1 is the filler, a
 * DATA_ARRAY of int32 words whose objects cover unused or dead space; type id
 * 0 is never valid, so zeroed or poisoned memory is not an object.
 */
import { UsageError } from './errors.js';
import { alignObjectWords } from './layout.js';
import * as layout from './layout.js';
import { SharedArrays } from './shared-layout.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { HEADER_WORDS } = layout;

export const TYPE_STRUCT = 1;
export const TYPE_REF_ARRAY = 2;
export const TYPE_DATA_ARRAY = 3;

export const INVALID_TYPE_ID = 0;
export const FILLER_TYPE_ID = 1;
export const MAX_TYPES = 4096;
/**
 * sizeWords of every type id that is not a struct: larger than any allocation
 * buffer, so `alloc` of an array type (or of an unregistered id) always falls
 * into the slow path, which reports the mistake. No check on the fast path.
 */
export const NOT_A_STRUCT = 1 << 30;
/** slotShape of a reference array and of a data array (a struct's is positive: size | refs << 16). */
export const SLOTS_REF_ARRAY = -1;
export const SLOTS_NONE_ARRAY = -2;
/** Structs stay below this many words (and refs), so slotShape packs both into one int32. */
export const MAX_STRUCT_WORDS = 1 << 15;

export interface StructSpec { name: string; refs: number; data: number; description?: string }

export interface TypeInfo {
  id: number;
  name: string;
  kind: typeof TYPE_STRUCT | typeof TYPE_REF_ARRAY | typeof TYPE_DATA_ARRAY;
  refs: number;
  dataWords: number;
  elementWords: number;
  /** Word offset of data word 0 from the object start (structs). */
  dataOffset: number;
  sizeWords: number;
}

export class TypeRegistry {
  readonly arrays: SharedArrays;
  /** TYPE_* per type id. */
  readonly kind: Int32Array;
  /** Reference slot count of a struct type. */
  readonly refs: Int32Array;
  /** Object size in words of a struct type (0 for arrays). */
  readonly sizeWords: Int32Array;
  /** Words per element of a data array type (1: int32, 2: float64). */
  readonly elementWords: Int32Array;
  /**
   * Object size in words of a struct with no reference slots (a leaf, which a
   * heap walk that looks for references steps over with this one load), 0 for
   * every other type.
   */
  readonly leafWords: Int32Array;
  /**
   * A card scan's view of a type in one word: a struct's size | refs << 16
   * (positive), SLOTS_REF_ARRAY (-1) for a reference array, SLOTS_NONE_ARRAY
   * (-2) for a data array.
   */
  readonly slotShape: Int32Array;
  private readonly infos: TypeInfo[] = [];
  private readonly byName = new Map<string, number>();

  constructor(buffer?: SharedArrayBuffer) {
    this.arrays = new SharedArrays([
      { name: 'count', kind: 'i32', length: 1 },
      { name: 'kind', kind: 'i32', length: MAX_TYPES },
      { name: 'refs', kind: 'i32', length: MAX_TYPES },
      { name: 'sizeWords', kind: 'i32', length: MAX_TYPES },
      { name: 'elementWords', kind: 'i32', length: MAX_TYPES },
      { name: 'leafWords', kind: 'i32', length: MAX_TYPES },
      { name: 'slotShape', kind: 'i32', length: MAX_TYPES },
    ], buffer);
    this.kind = this.arrays.i32('kind');
    this.refs = this.arrays.i32('refs');
    this.sizeWords = this.arrays.i32('sizeWords');
    this.elementWords = this.arrays.i32('elementWords');
    this.leafWords = this.arrays.i32('leafWords');
    this.slotShape = this.arrays.i32('slotShape');
    if (!buffer) {
      this.sizeWords.fill(NOT_A_STRUCT);
      this.infos.push({ id: 0, name: '<invalid>', kind: TYPE_DATA_ARRAY, refs: 0, dataWords: 0, elementWords: 0, dataOffset: 0, sizeWords: 0 });
      this.arrays.i32('count')[0] = 1;
      this.dataArray('<filler>', 1);
    }
  }

  get count(): number { return this.arrays.i32('count')[0]; }

  /** Registers a struct with `refs` reference slots and `data` data words; returns its type id. */
  struct(name: string, refs: number, data: number): number {
    if (!Number.isInteger(refs) || !Number.isInteger(data) || refs < 0 || data < 0) {
      throw new UsageError(`type ${name}: refs and data must be non-negative integers`);
    }
    const dataOffset = alignObjectWords(HEADER_WORDS + refs);
    const sizeWords = alignObjectWords(dataOffset + data);
    if (sizeWords >= MAX_STRUCT_WORDS) throw new UsageError(`type ${name}: a struct must stay below ${MAX_STRUCT_WORDS} words (${sizeWords})`);
    return this.add({ name, kind: TYPE_STRUCT, refs, dataWords: data, elementWords: 0, dataOffset, sizeWords });
  }

  /** Registers an array of references. */
  refArray(name: string): number {
    return this.add({ name, kind: TYPE_REF_ARRAY, refs: 0, dataWords: 0, elementWords: 1, dataOffset: HEADER_WORDS, sizeWords: 0 });
  }

  /** Registers an array of data elements of 1 (int32) or 2 (float64) words. */
  dataArray(name: string, elementWords: 1 | 2): number {
    return this.add({ name, kind: TYPE_DATA_ARRAY, refs: 0, dataWords: 0, elementWords, dataOffset: HEADER_WORDS, sizeWords: 0 });
  }

  info(id: number): TypeInfo {
    const t = this.infos[id];
    if (!t) throw new Error(`no type with id ${id}`);
    return t;
  }

  idOf(name: string): number | undefined { return this.byName.get(name); }

  /** Word offset of data word i of a struct type, for getI32/getF64. */
  dataOffset(id: number, i: number): number {
    const t = this.info(id);
    if (t.kind !== TYPE_STRUCT || i < 0 || i >= t.dataWords) throw new Error(`type ${t.name} has no data word ${i}`);
    return t.dataOffset + i;
  }

  isValid(id: number): boolean { return id > INVALID_TYPE_ID && id < this.count; }

  /** Size in words of an array object of this type and length. */
  arrayWords(id: number, length: number): number {
    return alignObjectWords(HEADER_WORDS + length * this.elementWords[id]);
  }

  private add(t: Omit<TypeInfo, 'id'>): number {
    if (this.byName.has(t.name)) {
      const existing = this.infos[this.byName.get(t.name)!];
      if (existing.kind === t.kind && existing.refs === t.refs && existing.dataWords === t.dataWords && existing.elementWords === t.elementWords) {
        return existing.id;
      }
      throw new UsageError(`type '${t.name}' is already registered with another shape`);
    }
    const id = this.count;
    if (id >= MAX_TYPES) throw new UsageError(`at most ${MAX_TYPES} types can be registered`);
    this.infos.push({ id, ...t });
    this.byName.set(t.name, id);
    this.kind[id] = t.kind;
    this.refs[id] = t.refs;
    this.sizeWords[id] = t.kind === TYPE_STRUCT ? t.sizeWords : NOT_A_STRUCT;
    this.elementWords[id] = t.elementWords;
    this.leafWords[id] = t.kind === TYPE_STRUCT && t.refs === 0 ? t.sizeWords : 0;
    this.slotShape[id] = t.kind === TYPE_STRUCT ? t.sizeWords | (t.refs << 16) : t.kind === TYPE_REF_ARRAY ? SLOTS_REF_ARRAY : SLOTS_NONE_ARRAY;
    this.arrays.i32('count')[0] = id + 1;
    return id;
  }
}
