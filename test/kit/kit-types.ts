/**
 * The object types every property-test program allocates, registered in the
 * same order in every VM (and in the oracle's stand-alone type registry), so
 * type ids agree everywhere.
 *
 * Structs cover the layout cases that matter: no fields at all, data only,
 * odd reference counts (a pad word before the data so float64 pairs align),
 * several float64 pairs, and a wide object. The arrays are one of each array
 * kind: references, int32 data and float64 data.
 */
import { TypeRegistry } from '../../vm-core/type-registry.js';

export interface KitStruct { name: string; refs: number; data: number }

export const KIT_STRUCTS: readonly KitStruct[] = [
  { name: 'Empty', refs: 0, data: 0 },
  { name: 'Leaf', refs: 0, data: 2 },
  { name: 'Cons', refs: 1, data: 2 },
  { name: 'Pair', refs: 2, data: 1 },
  { name: 'Tri', refs: 3, data: 4 },
  { name: 'Wide', refs: 5, data: 7 },
];

export type ArrayKind = 'ref' | 'i32' | 'f64';
export const ARRAY_KINDS: readonly ArrayKind[] = ['ref', 'i32', 'f64'];
export const ARRAY_TYPE_NAMES: Record<ArrayKind, string> = { ref: 'RefArray', i32: 'I32Array', f64: 'F64Array' };

/** Type ids of the kit's types in one registry. */
export interface KitTypeIds {
  structs: number[];
  arrays: Record<ArrayKind, number>;
}

/** Registers the kit's types (idempotent: re-registering the same shapes returns the same ids). */
export function registerKitTypes(types: TypeRegistry): KitTypeIds {
  const structs = KIT_STRUCTS.map((s) => types.struct(`kit.${s.name}`, s.refs, s.data));
  return {
    structs,
    arrays: {
      ref: types.refArray(`kit.${ARRAY_TYPE_NAMES.ref}`),
      i32: types.dataArray(`kit.${ARRAY_TYPE_NAMES.i32}`, 1),
      f64: types.dataArray(`kit.${ARRAY_TYPE_NAMES.f64}`, 2),
    },
  };
}

/** Words per element of an array kind. */
export function elementWordsOf(kind: ArrayKind): 1 | 2 {
  return kind === 'f64' ? 2 : 1;
}
