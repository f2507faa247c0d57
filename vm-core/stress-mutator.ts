/**
 * Stress mode (`--stress-gc N`): the debugging twin of a mutator class, in the
 * spirit of HotSpot's -XX:+ScavengeALot / -XX:+VerifyOops and ZapUnusedHeapArea.
 *
 *   - every N-th allocation first runs a full pause, so objects move often;
 *   - released regions are poisoned and quarantined for one more pause before
 *     reuse (heap.ts), so a stale reference reads 0xDEADBEEF, not a fresh object;
 *   - every reference the workload hands to an accessor or a root slot is
 *     checked: it must be the header of an object in a used region (not free,
 *     not inside a humongous object, not forwarded, a valid non-filler type),
 *     and the slot or data word must lie inside that object.
 *
 * So a workload that keeps a reference outside a root slot across an
 * allocation fails at its next use of the moved object, with a one-line
 * StaleReferenceError naming the access and the GC count, even when its
 * results would not have shown it.
 */
import * as layout from './layout.js';
import type { Mutator } from './mutator.js';
import * as regionTable from './region-table.js';
import * as typeRegistry from './type-registry.js';
import type { Vm } from './vm.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { HEADER_WORDS, STATE_MASK, STATE_NORMAL, TYPE_SHIFT } = layout;
const { REGION_FREE, REGION_HUMONGOUS_CONT } = regionTable;
const { FILLER_TYPE_ID } = typeRegistry;

export class StaleReferenceError extends Error {
  override name = 'StaleReferenceError';
}

export interface StressMutator extends Mutator {
  stressInterval: number;
  stressCountdown: number;
}

export function withStressGc(Base: typeof Mutator, vm: Vm): typeof Mutator {
  const heap = vm.heap;
  const regions = heap.regions;
  const words = heap.words;

  function problemWith(obj: number): string {
    if (!(Number.isInteger(obj) && obj > 0 && obj < heap.heapWords && (obj & 1) === 0)) return 'not an object address';
    const kind = regions.kind[obj >> heap.logRegionWords];
    if (kind === REGION_FREE) return 'in a free (released) region';
    if (kind === REGION_HUMONGOUS_CONT) return 'inside a humongous object';
    const header = words[obj];
    if ((header & STATE_MASK) !== STATE_NORMAL) return 'forwarded or busy';
    const type = header >>> TYPE_SHIFT;
    if (!heap.types.isValid(type) || type === FILLER_TYPE_ID) return `header ${header} is not an object`;
    return '';
  }
  function checkObject(obj: number, what: string): void {
    const problem = problemWith(obj);
    if (problem) throw new StaleReferenceError(`${what}: reference ${obj} is ${problem} (after GC #${vm.gcCount}); was it kept outside a root slot across an allocation?`);
  }
  function checkSlot(obj: number, i: number, what: string): void {
    checkObject(obj, what);
    if (!(i >= 0 && i < heap.refCount(obj))) throw new StaleReferenceError(`${what}: object ${obj} has no reference slot ${i}`);
  }
  function checkData(obj: number, offset: number, n: number, what: string): void {
    checkObject(obj, what);
    if (!(offset >= HEADER_WORDS && offset + n <= heap.sizeOf(obj))) throw new StaleReferenceError(`${what}: word ${offset} lies outside object ${obj}`);
  }

  return class StressGcMutator extends Base {
    stressInterval = 1;
    stressCountdown = 1;
    override alloc(type: number): number {
      if (--this.stressCountdown <= 0) this.stressCollect();
      return super.alloc(type);
    }
    override allocArray(type: number, length: number): number {
      if (--this.stressCountdown <= 0) this.stressCollect();
      return super.allocArray(type, length);
    }
    private stressCollect(): void {
      this.stressCountdown = this.stressInterval;
      vm.collect('stress');
    }
    override getRef(obj: number, i: number): number { checkSlot(obj, i, 'getRef'); return super.getRef(obj, i); }
    override setRef(obj: number, i: number, val: number): void {
      checkSlot(obj, i, 'setRef');
      if (val !== 0) checkObject(val, 'setRef value');
      super.setRef(obj, i, val);
    }
    override arrayLength(arr: number): number { checkObject(arr, 'arrayLength'); return super.arrayLength(arr); }
    override getI32(obj: number, offset: number): number { checkData(obj, offset, 1, 'getI32'); return super.getI32(obj, offset); }
    override setI32(obj: number, offset: number, v: number): void { checkData(obj, offset, 1, 'setI32'); super.setI32(obj, offset, v); }
    override getF64(obj: number, offset: number): number { checkData(obj, offset, 2, 'getF64'); return super.getF64(obj, offset); }
    override setF64(obj: number, offset: number, v: number): void { checkData(obj, offset, 2, 'setF64'); super.setF64(obj, offset, v); }
    override push(ref: number): number { if (ref !== 0) checkObject(ref, 'push'); return super.push(ref); }
    override set(slot: number, ref: number): void { if (ref !== 0) checkObject(ref, 'set'); super.set(slot, ref); }
    override get(slot: number): number {
      const ref = super.get(slot);
      if (ref !== 0) checkObject(ref, `root slot ${slot}`);
      return ref;
    }
  };
}
