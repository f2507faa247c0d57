/**
 * The mutator: everything a workload ever touches. One Mutator per mutator
 * thread; it owns a bump-pointer allocation buffer (TLAB) inside a region and
 * a root stack.
 *
 *   alloc(type) / allocArray(type, length)  -> ref, fields zeroed; may run a GC
 *   getRef(obj, i) / setRef(obj, i, val)    reference slot i, through the barriers
 *   getI32 / setI32 / getF64 / setF64       data words at a word offset from the object start
 *                                           (types.dataOffset(type, i) for struct data word i,
 *                                            ARRAY_BASE + i, or ARRAY_BASE + 2*i for float64 arrays)
 *   push / get / set / pop / frame / popFrame   root slots
 *   safepoint()
 *
 * This base class has no barrier: `setRef` is a plain store. Barrier variants
 * (barriers/) subclass it and override `setRef`; the VM picks one class per
 * process from the collector's constraints, so each call site sees one
 * receiver class and V8 inlines the barrier (DESIGN.md, "Specialise, don't
 * branch").
 *
 * Fast paths are plain loads and stores on typed arrays held in fields; the
 * slow paths (TLAB refill, humongous objects, GC) are calls into the host VM.
 * A fresh TLAB is zeroed when it is handed out, so allocation writes only the
 * header.
 */
import * as layout from './layout.js';
import { RootStack } from './roots.js';
import * as typeRegistry from './type-registry.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { HEADER_WORDS, LOG_CARD_WORDS, REF_BASE, TYPE_SHIFT } = layout;
const { TYPE_STRUCT } = typeRegistry;

/** What a mutator calls when it leaves its fast paths; implemented by the VM. */
export interface MutatorHost {
  /** Allocation buffer exhausted, humongous object, or not a struct type. Returns the new object. */
  allocateSlow(m: Mutator, type: number, sizeWords: number, length: number): number;
  /** A pause or handshake was requested. */
  safepointSlow(m: Mutator): void;
  /** The mutator's dirty-card buffer is full. */
  dirtyCardBufferFull(m: Mutator): void;
  /** The mutator's SATB buffer is full. */
  satbBufferFull(m: Mutator): void;
  /** Names a persistent root (vm-core/persistent-roots.ts). */
  persistRoot(name: string, ref: number, mode?: string): void;
  /** A persistent root's reference (0: none). */
  persistentRoot(name: string): number;
}

export const DIRTY_CARD_BUFFER_ENTRIES = 256;
export const SATB_BUFFER_ENTRIES = 1024;

export class Mutator {
  // ---- allocation buffer: [top, limit) is free and zeroed
  top = 0;
  limit = 0;
  readonly words: Int32Array;
  readonly f64: Float64Array;
  private readonly structSizes: Int32Array;
  private readonly typeKinds: Int32Array;
  private readonly elementWords: Int32Array;
  private readonly blockOffsets: Int32Array;
  readonly humongousWords: number;
  readonly logRegionWords: number;

  // ---- roots
  readonly rootStack: RootStack;
  readonly roots: Int32Array;
  sp = 0;

  // ---- barrier state (used by the barrier subclasses)
  readonly cards: Uint8Array;
  readonly dirtyCards = new Int32Array(DIRTY_CARD_BUFFER_ENTRIES);
  dirtyCardCount = 0;
  readonly satbBuffer = new Int32Array(SATB_BUFFER_ENTRIES);
  satbCount = 0;
  /** True while concurrent marking runs: the SATB barrier records overwritten references. */
  marking = false;

  /** Shared barrier counters: see barriers/counters.ts. */
  readonly barrierCounters: Float64Array;

  // ---- safepoints: [0] != 0 asks this mutator to stop at its next safepoint
  readonly pollWord: Int32Array;

  constructor(
    readonly id: number,
    readonly host: MutatorHost,
    heap: {
      words: Int32Array; f64: Float64Array; humongousWords: number; logRegionWords: number;
      types: { sizeWords: Int32Array; kind: Int32Array; elementWords: Int32Array };
      meta: { blockOffsets: Int32Array; cards: Uint8Array };
    },
    rootSlots: number,
    barrierCounters: Float64Array,
    pollWord: Int32Array,
  ) {
    this.words = heap.words;
    this.f64 = heap.f64;
    this.structSizes = heap.types.sizeWords;
    this.typeKinds = heap.types.kind;
    this.elementWords = heap.types.elementWords;
    this.blockOffsets = heap.meta.blockOffsets;
    this.cards = heap.meta.cards;
    this.humongousWords = heap.humongousWords;
    this.logRegionWords = heap.logRegionWords;
    this.rootStack = new RootStack(rootSlots);
    this.roots = this.rootStack.slots;
    this.barrierCounters = barrierCounters;
    this.pollWord = pollWord;
  }

  // ---- allocation -----------------------------------------------------------

  /** Allocates a struct of a registered struct type; all fields are zero. May collect. */
  alloc(type: number): number {
    const size = this.structSizes[type];
    const obj = this.top;
    const end = obj + size;
    if (end > this.limit) return this.host.allocateSlow(this, type, size, -1);
    this.top = end;
    this.words[obj] = type << TYPE_SHIFT;
    if ((((obj - 1) ^ (end - 1)) >> LOG_CARD_WORDS) !== 0) this.crossCard(obj, end);
    return obj;
  }

  /** Allocates an array of a registered array type; elements are zero (null). May collect. */
  allocArray(type: number, length: number): number {
    if (this.typeKinds[type] === TYPE_STRUCT || !(length >= 0 && length <= 0x3fffffff) || (length | 0) !== length) {
      return this.host.allocateSlow(this, type, -1, length);
    }
    const size = (HEADER_WORDS + length * this.elementWords[type] + 1) & ~1;
    const obj = this.top;
    const end = obj + size;
    if (end > this.limit || size >= this.humongousWords) return this.host.allocateSlow(this, type, size, length);
    this.top = end;
    const words = this.words;
    words[obj] = type << TYPE_SHIFT;
    words[obj + 1] = length;
    if ((((obj - 1) ^ (end - 1)) >> LOG_CARD_WORDS) !== 0) this.crossCard(obj, end);
    return obj;
  }

  /** Block-offset table upkeep for an object that covers the start of one or more cards. */
  crossCard(obj: number, end: number): void {
    const bot = this.blockOffsets;
    const last = (end - 1) >> LOG_CARD_WORDS;
    for (let c = (obj + (1 << LOG_CARD_WORDS) - 1) >> LOG_CARD_WORDS; c <= last; c++) bot[c] = obj;
  }

  // ---- references and data ----------------------------------------------------

  getRef(obj: number, i: number): number {
    return this.words[obj + REF_BASE + i];
  }

  /** Stores a reference into slot i of obj. The base class has no barrier. */
  setRef(obj: number, i: number, val: number): void {
    this.words[obj + REF_BASE + i] = val;
  }

  arrayLength(arr: number): number {
    return this.words[arr + 1];
  }

  getI32(obj: number, offset: number): number {
    return this.words[obj + offset];
  }

  setI32(obj: number, offset: number, v: number): void {
    this.words[obj + offset] = v;
  }

  /** The float64 at word offset `offset` (even) of obj. */
  getF64(obj: number, offset: number): number {
    return this.f64[(obj + offset) >> 1];
  }

  setF64(obj: number, offset: number, v: number): void {
    this.f64[(obj + offset) >> 1] = v;
  }

  // ---- roots ------------------------------------------------------------------

  /** Pushes a reference onto the root stack; returns its slot. */
  push(ref: number): number {
    const sp = this.sp;
    if (sp === this.roots.length) this.rootStack.overflow();
    this.roots[sp] = ref;
    this.sp = sp + 1;
    return sp;
  }

  get(slot: number): number {
    return this.roots[slot];
  }

  set(slot: number, ref: number): void {
    this.roots[slot] = ref;
  }

  pop(n = 1): void {
    this.sp -= n;
  }

  /** Marks the current root-stack depth; `popFrame(mark)` returns to it. */
  frame(): number {
    return this.sp;
  }

  popFrame(mark: number): void {
    this.sp = mark;
  }

  // ---- persistent roots (GCPersist: vm-core/persistent-roots.ts) ----------------

  /**
   * Marks `ref` and everything reachable from it as persistent data under
   * `name` (a persisting collector keeps it in its image; any other collector
   * treats it as a strong root). `mode`: lazy | lazy-old | eager, default the
   * collector's. Not a safepoint.
   */
  persistRoot(name: string, ref: number, mode?: string): void {
    this.host.persistRoot(name, ref, mode);
  }

  /** The reference of persistent root `name` (0: none), e.g. what recovery restored. */
  persistentRoot(name: string): number {
    return this.host.persistentRoot(name);
  }

  // ---- safepoints ---------------------------------------------------------------

  /** A place where the mutator may stop for a pause (allocation is one too). */
  safepoint(): void {
    if (this.pollWord[0] !== 0) this.host.safepointSlow(this);
  }

  /** Publishes the root-stack depth for collectors that scan from another thread. */
  publishRoots(): void {
    this.rootStack.published[0] = this.sp;
  }
}
