/**
 * Mutator programs for property tests: the operations, and the fast-check
 * arbitrary that generates them.
 *
 * A program is a plain array of operations. Operations never name heap
 * addresses: they name root slots, and a slot number is taken modulo the
 * number of root slots in use when the operation runs (an operation on an
 * empty root stack, or on a null root, does nothing). So every array of
 * operations is a valid program, and fast-check can shrink a failing program by
 * deleting operations and lowering numbers without ever producing an invalid
 * one. Likewise reference-slot and data indices are taken modulo the object's
 * slot and data counts.
 *
 * This is what keeps programs inside the mutator contract (vm-core/mutator.ts,
 * vm-core/roots.ts): between operations the program holds no reference except
 * in root slots, and within an operation every reference it uses is read from
 * a root slot after the last allocation before that use.
 */
import fc from 'fast-check';
import { HEADER_WORDS } from '../../vm-core/layout.js';
import { type ArrayKind, ARRAY_KINDS, KIT_STRUCTS, elementWordsOf } from './kit-types.js';

export type Op =
  /** Allocate a struct of KIT_STRUCTS[type % count]; push it as a new root. */
  | { op: 'new'; type: number }
  /**
   * Allocate `count` structs of KIT_STRUCTS[type % count] in a row, each (when
   * the type has reference slots) pointing to the previous one by ref 0; push
   * the last as a new root. With a type without references all but the last
   * are garbage at once: the op that gives collectors work.
   */
  | { op: 'chain'; type: number; count: number }
  /** Allocate an array (of any length, humongous included); push it as a new root. */
  | { op: 'newArray'; kind: ArrayKind; length: number }
  /** roots[obj].ref[slot] = roots[val] (or null). */
  | { op: 'setRef'; obj: number; slot: number; val: number | null }
  /** Push roots[obj].ref[slot] as a new root. */
  | { op: 'getRef'; obj: number; slot: number }
  /** Write int32 data word `index` of roots[obj] (struct data or int32 array element). */
  | { op: 'setI32'; obj: number; index: number; value: number }
  /** Write float64 `index` of roots[obj] (struct data pair or float64 array element). */
  | { op: 'setF64'; obj: number; index: number; value: number }
  /** Push a copy of roots[src] (aliasing), or null. */
  | { op: 'push'; src: number | null }
  /** Pop `count` roots (at most all of them). */
  | { op: 'pop'; count: number }
  /** roots[dst] = roots[src] (or null). */
  | { op: 'setRoot'; dst: number; src: number | null }
  /** An explicit collection: vm.collect('explicit'). */
  | { op: 'gc' };

export interface ProgramShape {
  /** Region size of the heap the program will run on (humongous lengths are drawn relative to it). */
  regionBytes: number;
  /** Longest program generated. */
  maxOps: number;
  /** Relative frequency of explicit GCs (default 2; 0: none). */
  gcWeight?: number;
}

/** Smallest array length of this kind that is humongous (at least half a region) in regions of regionBytes. */
export function minHumongousLength(kind: ArrayKind, regionBytes: number): number {
  const halfRegionWords = regionBytes / 4 / 2;
  return Math.ceil((halfRegionWords - HEADER_WORDS) / elementWordsOf(kind));
}

/** Longest array generated: about 1.75 regions, so humongous runs of one and of two regions occur. */
export function maxArrayLength(kind: ArrayKind, regionBytes: number): number {
  const words = Math.floor((regionBytes / 4) * 1.75);
  return Math.floor((words - HEADER_WORDS) / elementWordsOf(kind));
}

/** The largest number of regions one allocation of this program can take (for sizing heaps that never collect). */
export function regionsForOp(op: Op, regionBytes: number): number {
  if (op.op === 'new') return 1;
  if (op.op === 'chain') return 1 + Math.ceil((op.count * 2 * MAX_STRUCT_WORDS) / (regionBytes / 4));
  if (op.op !== 'newArray') return 0;
  const words = HEADER_WORDS + op.length * elementWordsOf(op.kind) + 1;
  return Math.max(1, Math.ceil(words / (regionBytes / 4)));
}

/** An upper bound on the size of a kit struct, in words. */
const MAX_STRUCT_WORDS = Math.max(...KIT_STRUCTS.map((s) => 4 + s.refs + s.data));

const rootIndex = fc.nat({ max: 63 });
const int32 = fc.integer({ min: -0x80000000, max: 0x7fffffff });
const float64 = fc.double({ noNaN: true });

/** One operation, with lengths drawn for regions of shape.regionBytes. */
export function opArbitrary(shape: ProgramShape): fc.Arbitrary<Op> {
  const arrayOp = fc.oneof(...ARRAY_KINDS.map((kind) => {
    const humongousMin = minHumongousLength(kind, shape.regionBytes);
    const length = fc.oneof(
      { weight: 8, arbitrary: fc.nat({ max: 12 }) },
      { weight: 2, arbitrary: fc.integer({ min: 13, max: Math.max(13, humongousMin - 1) }) },
      { weight: 3, arbitrary: fc.integer({ min: humongousMin, max: maxArrayLength(kind, shape.regionBytes) }) },
    );
    return length.map((len): Op => ({ op: 'newArray', kind, length: len }));
  }));
  const gcWeight = shape.gcWeight ?? 2;
  const ops: fc.WeightedArbitrary<Op>[] = [
    { weight: 10, arbitrary: fc.nat({ max: KIT_STRUCTS.length - 1 }).map((type): Op => ({ op: 'new', type })) },
    { weight: 5, arbitrary: arrayOp },
    { weight: 4, arbitrary: fc.record({ type: fc.nat({ max: KIT_STRUCTS.length - 1 }), count: fc.integer({ min: 1, max: 128 }) }).map((r): Op => ({ op: 'chain', ...r })) },
    { weight: 12, arbitrary: fc.record({ obj: rootIndex, slot: fc.nat({ max: 15 }), val: fc.option(rootIndex, { freq: 6 }) }).map((r): Op => ({ op: 'setRef', ...r })) },
    { weight: 4, arbitrary: fc.record({ obj: rootIndex, slot: fc.nat({ max: 15 }) }).map((r): Op => ({ op: 'getRef', ...r })) },
    { weight: 4, arbitrary: fc.record({ obj: rootIndex, index: fc.nat({ max: 31 }), value: int32 }).map((r): Op => ({ op: 'setI32', ...r })) },
    { weight: 3, arbitrary: fc.record({ obj: rootIndex, index: fc.nat({ max: 31 }), value: float64 }).map((r): Op => ({ op: 'setF64', ...r })) },
    { weight: 2, arbitrary: fc.option(rootIndex, { freq: 5 }).map((src): Op => ({ op: 'push', src })) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }).map((count): Op => ({ op: 'pop', count })) },
    { weight: 3, arbitrary: fc.record({ dst: rootIndex, src: fc.option(rootIndex, { freq: 4 }) }).map((r): Op => ({ op: 'setRoot', ...r })) },
  ];
  if (gcWeight > 0) ops.push({ weight: gcWeight, arbitrary: fc.constant<Op>({ op: 'gc' }) });
  return fc.oneof(...ops);
}

/** Programs of up to maxOps operations (minLength 0, so shrinking can drop any operation, the last included). */
export function opsArbitrary(shape: ProgramShape): fc.Arbitrary<Op[]> {
  return fc.array(opArbitrary(shape), { minLength: 0, maxLength: shape.maxOps, size: 'max' });
}
