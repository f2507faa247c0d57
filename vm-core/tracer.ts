/**
 * The tracer: a stop-the-world transitive closure over the object graph with
 * an explicit mark stack and the side mark bitmap (mark-on-push, so each object
 * is pushed at most once). While marking it adds each object's size to its
 * region's liveWords, which is what region collectors choose collection sets by.
 *
 *   markRoots(mutators)   mark and push every non-null root slot
 *   markRef(ref)          mark and push one reference (remembered-set roots, SATB entries)
 *   drain()               pop, scan the object's contiguous reference slots, mark and push children
 *
 * The mark stack is an Int32Array that doubles when full (rare; no per-object
 * allocation).
 */
import type { Heap } from './heap.js';
import * as layout from './layout.js';
import type { Mutator } from './mutator.js';
import * as typeRegistry from './type-registry.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { HEADER_WORDS, TYPE_SHIFT } = layout;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

export class Tracer {
  private stack = new Int32Array(1 << 16);
  private sp = 0;
  objectsMarked = 0;
  wordsMarked = 0;

  constructor(private readonly heap: Heap, private bitmap: Int32Array = heap.meta.markBitmap) {}

  /** Clears the mark bitmap, live-word counts and counters for a new marking. */
  reset(): void {
    this.bitmap.fill(0);
    this.heap.regions.liveWords.fill(0);
    this.objectsMarked = 0;
    this.wordsMarked = 0;
    this.sp = 0;
  }

  markRoots(mutators: readonly Mutator[]): void {
    for (const m of mutators) {
      const roots = m.roots;
      for (let i = 0, n = m.sp; i < n; i++) {
        const ref = roots[i];
        if (ref !== 0) this.markRef(ref);
      }
    }
  }

  /** Marks ref and pushes it for scanning, unless already marked. */
  markRef(ref: number): void {
    const bitmap = this.bitmap;
    const i = ref >> 6;
    const bit = 1 << ((ref >> 1) & 31);
    const old = bitmap[i];
    if ((old & bit) !== 0) return;
    bitmap[i] = old | bit;
    const size = this.heap.sizeOf(ref);
    this.heap.regions.liveWords[ref >> this.heap.logRegionWords] += size;
    this.objectsMarked++;
    this.wordsMarked += size;
    if (this.sp === this.stack.length) this.growStack();
    this.stack[this.sp++] = ref;
  }

  /** Completes the closure: scans every pushed object until the stack is empty. */
  drain(): void {
    const heap = this.heap;
    const words = heap.words;
    const typeKind = heap.types.kind;
    const typeRefs = heap.types.refs;
    const typeSize = heap.types.sizeWords;
    const elementWords = heap.types.elementWords;
    const liveWords = heap.regions.liveWords;
    const logRegionWords = heap.logRegionWords;
    const bitmap = this.bitmap;
    let stack = this.stack;
    let sp = this.sp;
    let objects = 0;
    let marked = 0;
    while (sp > 0) {
      const obj = stack[--sp];
      const type = words[obj] >>> TYPE_SHIFT;
      const kind = typeKind[type];
      const n = kind === TYPE_STRUCT ? typeRefs[type] : kind === TYPE_REF_ARRAY ? words[obj + 1] : 0;
      for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
        const child = words[s];
        if (child === 0) continue;
        const bi = child >> 6;
        const bit = 1 << ((child >> 1) & 31);
        const old = bitmap[bi];
        if ((old & bit) !== 0) continue;
        bitmap[bi] = old | bit;
        const ct = words[child] >>> TYPE_SHIFT;
        const size = typeKind[ct] === TYPE_STRUCT ? typeSize[ct] : (HEADER_WORDS + words[child + 1] * elementWords[ct] + 1) & ~1;
        liveWords[child >> logRegionWords] += size;
        objects++;
        marked += size;
        if (sp === stack.length) { this.sp = sp; this.growStack(); stack = this.stack; }
        stack[sp++] = child;
      }
    }
    this.sp = 0;
    this.objectsMarked += objects;
    this.wordsMarked += marked;
  }

  isMarked(ref: number): boolean {
    return ((this.bitmap[ref >> 6] >>> ((ref >> 1) & 31)) & 1) !== 0;
  }

  private growStack(): void {
    const bigger = new Int32Array(this.stack.length * 2);
    bigger.set(this.stack);
    this.stack = bigger;
  }
}
