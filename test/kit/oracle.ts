/**
 * The oracle: the same object graph as the heap, kept in plain JS objects that
 * never move and are never collected. A property test runs a program on the
 * heap and on the oracle side by side and compares the two graphs reachable
 * from the roots.
 *
 * Data is kept exactly as the heap holds it: int32 words for struct data and
 * int32 arrays (a float64 written into struct data becomes its two int32
 * halves, as it does in the heap), float64 values for float64 arrays.
 */
import type { ArrayKind } from './kit-types.js';

export type NodeKind = 'struct' | ArrayKind;

export interface OracleNode {
  /** Allocation number, for messages. */
  readonly id: number;
  readonly typeId: number;
  readonly typeName: string;
  readonly kind: NodeKind;
  /** Size in heap words (the heap's layout). */
  readonly sizeWords: number;
  /** Heap words it occupies: its size, or its whole run of regions when humongous. For the live budget. */
  readonly footprintWords: number;
  /** Array length; 0 for structs. */
  readonly length: number;
  readonly refs: (OracleNode | null)[];
  /** int32 words (structs, int32 arrays) or float64 values (float64 arrays). */
  readonly data: number[];
}

const scratchF64 = new Float64Array(1);
const scratchI32 = new Int32Array(scratchF64.buffer);

/** The two int32 words of a float64, in the platform's (and so the heap's) byte order. */
export function float64Words(value: number): [number, number] {
  scratchF64[0] = value;
  return [scratchI32[0], scratchI32[1]];
}

export class Oracle {
  readonly roots: (OracleNode | null)[] = [];
  private nextId = 0;

  newNode(
    typeId: number, typeName: string, kind: NodeKind, sizeWords: number, footprintWords: number,
    refSlots: number, dataLength: number, length: number,
  ): OracleNode {
    const node: OracleNode = {
      id: this.nextId++, typeId, typeName, kind, sizeWords, footprintWords, length,
      refs: new Array<OracleNode | null>(refSlots).fill(null),
      data: new Array<number>(dataLength).fill(0),
    };
    return node;
  }

  /** Heap words occupied by every object reachable from the roots (humongous objects by whole regions). */
  liveWords(): number {
    const seen = new Set<OracleNode>();
    const stack: OracleNode[] = [];
    let words = 0;
    for (const r of this.roots) if (r && !seen.has(r)) { seen.add(r); stack.push(r); }
    while (stack.length > 0) {
      const n = stack.pop()!;
      words += n.footprintWords;
      for (const c of n.refs) if (c && !seen.has(c)) { seen.add(c); stack.push(c); }
    }
    return words;
  }
}

/** A node as messages show it: `Tri#12` or `RefArray[700]#3`. */
export function describeNode(n: OracleNode | null): string {
  if (!n) return 'null';
  return n.kind === 'struct' ? `${n.typeName}#${n.id}` : `${n.typeName}[${n.length}]#${n.id}`;
}
