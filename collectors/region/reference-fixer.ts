/**
 * The full-heap reference-fixing pass of a SIM pause (Zhao & Blackburn's
 * non-remembered-set baseline): after the collection set is evacuated, walk
 * every used region outside it (and every root) and replace each reference to a
 * forwarded object by its copy's address.
 *
 * The same walk makes kept regions clean: a run of unmarked (dead) objects is
 * turned into one filler, so no dead object is left holding references into
 * regions this pause frees. Regions whose evacuation failed are walked too:
 * their kept (unforwarded, marked) objects are fixed now, and once every
 * reference is fixed `scrubFailedRegion` turns their forwarded and dead objects
 * into fillers.
 *
 *   ref v in a slot:  v in cset and header FORWARDED  -> word 1 of v (the copy)
 *                     otherwise                       -> unchanged
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as typeRegistry from '../../vm-core/type-registry.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { HEADER_WORDS, STATE_FORWARDED, STATE_MASK, TYPE_SHIFT } = layout;
const { REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START } = regionTable;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

export class ReferenceFixer {
  referencesFixed = 0;
  deadWordsFilled = 0;

  constructor(private readonly heap: Heap, private readonly bitmap: Int32Array = heap.meta.markBitmap) {}

  resetCounters(): void {
    this.referencesFixed = 0;
    this.deadWordsFilled = 0;
  }

  fixRoots(mutators: readonly Mutator[]): void {
    const words = this.heap.words;
    const inCset = this.heap.regions.inCset;
    const log = this.heap.logRegionWords;
    let fixed = 0;
    for (const m of mutators) {
      const roots = m.roots;
      for (let i = 0, n = m.sp; i < n; i++) {
        const v = roots[i];
        if (v !== 0 && inCset[v >> log] !== 0 && (words[v] & STATE_MASK) === STATE_FORWARDED) {
          roots[i] = words[v + 1];
          fixed++;
        }
      }
    }
    this.referencesFixed += fixed;
  }

  /** Fixes every used region except successfully evacuated collection-set regions. */
  fixHeap(): void {
    const heap = this.heap;
    const regions = heap.regions;
    for (let r = 0; r < heap.regionCount; r++) {
      const kind = regions.kind[r];
      if (kind === REGION_FREE || kind === REGION_HUMONGOUS_CONT) continue;
      if (regions.inCset[r] !== 0 && regions.evacFailed[r] === 0) continue;
      if (kind === REGION_HUMONGOUS_START) this.fixObject(regions.bottom(r));
      else {
        const deadTail = this.fixRegion(r, regions.inCset[r] === 0);
        if (deadTail >= 0) this.fill(deadTail, regions.top[r]);
      }
    }
  }

  /**
   * Fixes the marked objects of region r; when fillDead, covers runs of dead
   * objects with fillers, except a run that ends the region: its start is
   * returned (-1 if none) for the caller to fill. That rare step stays out of
   * this loop: V8 optimizes the loop on stack (OSR) before any region has
   * ended dead, and code there that has never run has no type feedback; the
   * optimized loop then deoptimized on reaching it, 5-13 times a pause, and
   * re-entered the same code (lru-cache 512m, evac).
   */
  private fixRegion(r: number, fillDead: boolean): number {
    const heap = this.heap;
    const words = heap.words;
    const bitmap = this.bitmap;
    const typeKind = heap.types.kind;
    const typeRefs = heap.types.refs;
    const typeSize = heap.types.sizeWords;
    const elementWords = heap.types.elementWords;
    const inCset = heap.regions.inCset;
    const log = heap.logRegionWords;
    const top = heap.regions.top[r];
    let obj = r << log;
    let deadStart = -1;
    let fixed = 0;
    while (obj < top) {
      const header = words[obj];
      if ((header & STATE_MASK) === STATE_FORWARDED) {
        // only in a region whose evacuation failed: skip the copied object (sized by its copy)
        if (fillDead && deadStart < 0) deadStart = obj;
        obj += heap.sizeOf(obj);
        continue;
      }
      const type = header >>> TYPE_SHIFT;
      const kind = typeKind[type];
      const size = kind === TYPE_STRUCT ? typeSize[type] : (HEADER_WORDS + words[obj + 1] * elementWords[type] + 1) & ~1;
      if (((bitmap[obj >> 6] >>> ((obj >> 1) & 31)) & 1) !== 0) {
        if (deadStart >= 0) { this.fill(deadStart, obj); deadStart = -1; }
        const n = kind === TYPE_STRUCT ? typeRefs[type] : kind === TYPE_REF_ARRAY ? words[obj + 1] : 0;
        for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
          const v = words[s];
          if (v !== 0 && inCset[v >> log] !== 0 && (words[v] & STATE_MASK) === STATE_FORWARDED) {
            words[s] = words[v + 1];
            fixed++;
          }
        }
      } else if (fillDead && deadStart < 0 && !(r === 0 && obj === 0)) {
        deadStart = obj;
      }
      obj += size;
    }
    this.referencesFixed += fixed;
    return deadStart;
  }

  private fill(from: number, to: number): void {
    this.heap.writeFiller(from, to - from);
    this.deadWordsFilled += to - from;
  }

  /** Replaces every reference to a forwarded collection-set object in obj's slots. */
  fixObject(obj: number): void {
    const heap = this.heap;
    const words = heap.words;
    const inCset = heap.regions.inCset;
    const log = heap.logRegionWords;
    const type = words[obj] >>> TYPE_SHIFT;
    const kind = heap.types.kind[type];
    const n = kind === TYPE_STRUCT ? heap.types.refs[type] : kind === TYPE_REF_ARRAY ? words[obj + 1] : 0;
    let fixed = 0;
    for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
      const v = words[s];
      if (v !== 0 && inCset[v >> log] !== 0 && (words[v] & STATE_MASK) === STATE_FORWARDED) {
        words[s] = words[v + 1];
        fixed++;
      }
    }
    this.referencesFixed += fixed;
  }

  /**
   * After all references are fixed: in a region whose evacuation failed, turn
   * forwarded (already copied) and dead objects into fillers, recount its live
   * words, and return it to an ordinary region.
   */
  scrubFailedRegion(r: number): void {
    const heap = this.heap;
    const words = heap.words;
    const bitmap = this.bitmap;
    const top = heap.regions.top[r];
    let obj = r << heap.logRegionWords;
    let deadStart = -1;
    let live = 0;
    while (obj < top) {
      const size = heap.sizeOf(obj);
      const kept = ((bitmap[obj >> 6] >>> ((obj >> 1) & 31)) & 1) !== 0 && (words[obj] & STATE_MASK) !== STATE_FORWARDED;
      if (kept) {
        if (deadStart >= 0) { this.fill(deadStart, obj); deadStart = -1; }
        live += size;
      } else if (deadStart < 0 && !(r === 0 && obj === 0)) {
        deadStart = obj;
      }
      obj += size;
    }
    if (deadStart >= 0) this.fill(deadStart, top);
    heap.regions.liveWords[r] = live;
    heap.regions.inCset[r] = 0;
    heap.regions.evacFailed[r] = 0;
  }
}
