/**
 * The program interpreter: runs one operation at a time on the oracle and,
 * when it has one, on a VM mutator, and compares the two object graphs.
 *
 * Each operation is first resolved against the oracle (which root slots it
 * names now, whether an allocation fits the live-size budget), giving a
 * readable description such as `r3.ref[1] = r0`; the same resolution drives
 * both sides, so they cannot disagree about what an operation means. Without
 * a VM the interpreter only describes the program (how shrunk counterexamples
 * are printed).
 *
 * Every operation on the heap side keeps the mutator contract: it reads the
 * root slots it needs after its allocation (if any) and holds no reference past
 * its own end.
 */
import { ARRAY_BASE, HEADER_WORDS, STATE_MASK, TYPE_SHIFT } from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import type { TypeRegistry } from '../../vm-core/type-registry.js';
import type { Vm } from '../../vm-core/vm.js';
import { type ArrayKind, type KitTypeIds, ARRAY_TYPE_NAMES, KIT_STRUCTS } from './kit-types.js';
import { type NodeKind, type OracleNode, Oracle, describeNode, float64Words } from './oracle.js';
import type { Op } from './program.js';

/** A difference between the heap and the oracle: the collector (or the VM) lost or changed something. */
export class GraphMismatch extends Error {
  override name = 'GraphMismatch';
}

interface ShapeInfo {
  typeId: number;
  name: string;
  kind: NodeKind;
  refs: number;
  dataWords: number;
  dataOffset: number;
}

export interface Step {
  /** What the operation does, with root slots resolved: `r4 = new Tri`, `r1.ref[0] = null`. */
  text: string;
  /** The operation allocates (successfully on the oracle side). */
  allocates: boolean;
  /** The allocation was dropped because the live data would exceed the budget. */
  skipped: boolean;
  humongous: boolean;
  oracle(): void;
  heap(m: Mutator, vm: Vm): void;
}

const NOTHING = (): void => {};

/** A float64 as listings show it (-0 too, which template strings print as 0). */
function showF64(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

export class Interpreter {
  readonly oracle = new Oracle();
  private readonly structs: ShapeInfo[];
  private readonly arrays: Record<ArrayKind, ShapeInfo>;

  constructor(
    private readonly types: TypeRegistry,
    ids: KitTypeIds,
    /** Allocations that would make the oracle's live words exceed this are skipped. */
    private readonly liveLimitWords: number,
    private readonly humongousWords: number,
  ) {
    this.structs = ids.structs.map((id, k) => {
      const info = types.info(id);
      return { typeId: id, name: KIT_STRUCTS[k].name, kind: 'struct' as const, refs: info.refs, dataWords: info.dataWords, dataOffset: info.dataOffset };
    });
    const arrayShape = (kind: ArrayKind): ShapeInfo => ({ typeId: ids.arrays[kind], name: ARRAY_TYPE_NAMES[kind], kind, refs: 0, dataWords: 0, dataOffset: ARRAY_BASE });
    this.arrays = { ref: arrayShape('ref'), i32: arrayShape('i32'), f64: arrayShape('f64') };
  }

  get rootCount(): number { return this.oracle.roots.length; }

  private slot(raw: number): number { return raw % this.oracle.roots.length; }

  private noop(text: string): Step {
    return { text: `(no-op: ${text})`, allocates: false, skipped: false, humongous: false, oracle: NOTHING, heap: NOTHING };
  }

  /** Resolves op against the current oracle state. */
  resolve(op: Op): Step {
    const roots = this.oracle.roots;
    switch (op.op) {
      case 'new': return this.allocation(this.structs[op.type % this.structs.length], -1);
      case 'newArray': return this.allocation(this.arrays[op.kind], op.length);
      case 'chain': return this.chain(this.structs[op.type % this.structs.length], op.count);
      case 'setRef': {
        if (roots.length === 0) return this.noop('setRef with no roots');
        const o = this.slot(op.obj);
        const target = roots[o];
        if (!target) return this.noop(`r${o}.ref[..] = .. on null r${o}`);
        if (target.refs.length === 0) return this.noop(`r${o} (${describeNode(target)}) has no reference slots`);
        const i = op.slot % target.refs.length;
        const v = op.val === null ? -1 : this.slot(op.val);
        return {
          text: `r${o}.ref[${i}] = ${v < 0 ? 'null' : `r${v}`}`, allocates: false, skipped: false, humongous: false,
          oracle: () => { target.refs[i] = v < 0 ? null : roots[v]; },
          heap: (m) => { m.setRef(m.get(o), i, v < 0 ? 0 : m.get(v)); },
        };
      }
      case 'getRef': {
        if (roots.length === 0) return this.noop('getRef with no roots');
        const o = this.slot(op.obj);
        const target = roots[o];
        if (!target) return this.noop(`getRef of null r${o}`);
        if (target.refs.length === 0) return this.noop(`r${o} (${describeNode(target)}) has no reference slots`);
        const i = op.slot % target.refs.length;
        return {
          text: `r${roots.length} = r${o}.ref[${i}]`, allocates: false, skipped: false, humongous: false,
          oracle: () => { roots.push(target.refs[i]); },
          heap: (m) => { m.push(m.getRef(m.get(o), i)); },
        };
      }
      case 'setI32': {
        if (roots.length === 0) return this.noop('setI32 with no roots');
        const o = this.slot(op.obj);
        const target = roots[o];
        if (!target) return this.noop(`setI32 on null r${o}`);
        if (target.kind !== 'struct' && target.kind !== 'i32') return this.noop(`r${o} (${describeNode(target)}) has no int32 data`);
        if (target.data.length === 0) return this.noop(`r${o} (${describeNode(target)}) has no data`);
        const i = op.index % target.data.length;
        const offset = target.kind === 'struct' ? this.structOf(target).dataOffset + i : ARRAY_BASE + i;
        const value = op.value | 0;
        return {
          text: `r${o}.i32[${i}] = ${value}`, allocates: false, skipped: false, humongous: false,
          oracle: () => { target.data[i] = value; },
          heap: (m) => { m.setI32(m.get(o), offset, value); },
        };
      }
      case 'setF64': {
        if (roots.length === 0) return this.noop('setF64 with no roots');
        const o = this.slot(op.obj);
        const target = roots[o];
        if (!target) return this.noop(`setF64 on null r${o}`);
        const value = op.value;
        if (target.kind === 'f64') {
          if (target.length === 0) return this.noop(`r${o} (${describeNode(target)}) is empty`);
          const i = op.index % target.length;
          return {
            text: `r${o}.f64[${i}] = ${showF64(value)}`, allocates: false, skipped: false, humongous: false,
            oracle: () => { target.data[i] = value; },
            heap: (m) => { m.setF64(m.get(o), ARRAY_BASE + 2 * i, value); },
          };
        }
        const pairs = target.kind === 'struct' ? target.data.length >> 1 : 0;
        if (pairs === 0) return this.noop(`r${o} (${describeNode(target)}) has no float64 data`);
        const j = op.index % pairs;
        const offset = this.structOf(target).dataOffset + 2 * j;
        return {
          text: `r${o}.f64[${j}] = ${showF64(value)}`, allocates: false, skipped: false, humongous: false,
          oracle: () => { const [lo, hi] = float64Words(value); target.data[2 * j] = lo; target.data[2 * j + 1] = hi; },
          heap: (m) => { m.setF64(m.get(o), offset, value); },
        };
      }
      case 'push': {
        const s = op.src === null || roots.length === 0 ? -1 : this.slot(op.src);
        return {
          text: `r${roots.length} = ${s < 0 ? 'null' : `r${s}`}`, allocates: false, skipped: false, humongous: false,
          oracle: () => { roots.push(s < 0 ? null : roots[s]); },
          heap: (m) => { m.push(s < 0 ? 0 : m.get(s)); },
        };
      }
      case 'pop': {
        const n = Math.min(op.count, roots.length);
        if (n === 0) return this.noop('pop with no roots');
        return {
          text: n === 1 ? `pop r${roots.length - 1}` : `pop r${roots.length - n}..r${roots.length - 1}`, allocates: false, skipped: false, humongous: false,
          oracle: () => { roots.length -= n; },
          heap: (m) => { m.pop(n); },
        };
      }
      case 'setRoot': {
        if (roots.length === 0) return this.noop('setRoot with no roots');
        const d = this.slot(op.dst);
        const s = op.src === null ? -1 : this.slot(op.src);
        return {
          text: `r${d} = ${s < 0 ? 'null' : `r${s}`}`, allocates: false, skipped: false, humongous: false,
          oracle: () => { roots[d] = s < 0 ? null : roots[s]; },
          heap: (m) => { m.set(d, s < 0 ? 0 : m.get(s)); },
        };
      }
      case 'gc':
        return { text: 'gc', allocates: false, skipped: false, humongous: false, oracle: NOTHING, heap: (_m, vm) => { vm.collect('explicit'); } };
    }
  }

  private structOf(node: OracleNode): ShapeInfo {
    return this.structs.find((s) => s.typeId === node.typeId)!;
  }

  private allocation(shape: ShapeInfo, length: number): Step {
    const types = this.types;
    const isArray = length >= 0;
    const sizeWords = isArray ? types.arrayWords(shape.typeId, length) : types.sizeWords[shape.typeId];
    const humongous = sizeWords >= this.humongousWords;
    const regionWords = 2 * this.humongousWords;
    const footprint = humongous ? Math.ceil(sizeWords / regionWords) * regionWords : sizeWords;
    const slot = this.oracle.roots.length;
    const what = isArray ? `${shape.name}[${length}]` : shape.name;
    const note = humongous ? `   (humongous, ${sizeWords} words)` : '';
    const live = this.liveLimitWords === Infinity ? 0 : this.oracle.liveWords();
    if (live + footprint > this.liveLimitWords) {
      return {
        text: `(skipped: new ${what}; live ${live} + ${footprint} words > budget ${this.liveLimitWords})`,
        allocates: false, skipped: true, humongous, oracle: NOTHING, heap: NOTHING,
      };
    }
    const kind = shape.kind;
    const refSlots = kind === 'struct' ? shape.refs : kind === 'ref' ? length : 0;
    const dataLength = kind === 'struct' ? shape.dataWords : kind === 'ref' ? 0 : length;
    const typeId = shape.typeId;
    return {
      text: `r${slot} = new ${what}${note}`, allocates: true, skipped: false, humongous,
      oracle: () => {
        this.oracle.roots.push(this.oracle.newNode(typeId, shape.name, kind, sizeWords, footprint, refSlots, dataLength, isArray ? length : 0));
      },
      heap: isArray
        ? (m) => { m.push(m.allocArray(typeId, length)); }
        : (m) => { m.push(m.alloc(typeId)); },
    };
  }

  /** `count` structs in a row, linked through ref 0 when the type has one; as many as the live budget allows. */
  private chain(shape: ShapeInfo, count: number): Step {
    const sizeWords = this.types.sizeWords[shape.typeId];
    const linked = shape.refs > 0;
    const slot = this.oracle.roots.length;
    let n = count;
    if (this.liveLimitWords !== Infinity) {
      const live = this.oracle.liveWords();
      n = linked ? Math.min(count, Math.floor((this.liveLimitWords - live) / sizeWords)) : (live + sizeWords <= this.liveLimitWords ? count : 0);
    }
    if (n <= 0) {
      return { text: `(skipped: chain of ${count} ${shape.name}; over the live budget ${this.liveLimitWords})`, allocates: false, skipped: true, humongous: false, oracle: NOTHING, heap: NOTHING };
    }
    const typeId = shape.typeId;
    const cut = n < count ? ` (cut from ${count} by the live budget)` : '';
    return {
      text: `r${slot} = chain of ${n} ${shape.name}${linked ? ' linked by ref[0]' : n > 1 ? ' (all but the last garbage)' : ''}${cut}`,
      allocates: true, skipped: n < count, humongous: false,
      oracle: () => {
        const o = this.oracle;
        let last: OracleNode | null = null;
        for (let k = 0; k < n; k++) {
          const node = o.newNode(typeId, shape.name, 'struct', sizeWords, sizeWords, shape.refs, shape.dataWords, 0);
          if (linked) node.refs[0] = last;
          last = node;
        }
        o.roots.push(last);
      },
      heap: (m) => {
        const s = m.push(0);
        for (let k = 0; k < n; k++) {
          const obj = m.alloc(typeId);
          if (linked) m.setRef(obj, 0, m.get(s));
          m.set(s, obj);
        }
      },
    };
  }

  /**
   * Walks the graphs reachable from the roots on both sides at once and throws
   * GraphMismatch at the first difference: shapes, data, null-ness, and the
   * reference structure with its sharing (heap object <-> oracle node must be a
   * bijection).
   */
  compare(m: Mutator, vm: Vm, when: string): void {
    const roots = this.oracle.roots;
    const fail = (text: string): never => { throw new GraphMismatch(`${when}: ${text}`); };
    if (m.sp !== roots.length) fail(`the mutator has ${m.sp} root slots, the oracle ${roots.length}`);
    const heap = vm.heap;
    const words = heap.words;
    const f64 = heap.f64;
    const heapToNode = new Map<number, OracleNode>();
    const nodeToHeap = new Map<OracleNode, number>();
    const pathOf = new Map<OracleNode, string>();
    const queue: Array<[number, OracleNode, string]> = [];
    const pair = (ref: number, node: OracleNode | null, path: string): void => {
      if (node === null) {
        if (ref !== 0) fail(`${path} is null in the oracle but the heap has reference ${ref}`);
        return;
      }
      if (ref === 0) fail(`${path} is ${describeNode(node)} in the oracle but null in the heap`);
      const known = heapToNode.get(ref);
      if (known !== undefined) {
        if (known !== node) fail(`${path}: heap object ${ref} is both ${pathOf.get(known)} (${describeNode(known)}) and ${describeNode(node)}; aliasing differs`);
        return;
      }
      const knownRef = nodeToHeap.get(node);
      if (knownRef !== undefined) fail(`${path}: ${describeNode(node)} is heap object ${knownRef} at ${pathOf.get(node)} but heap object ${ref} here; sharing lost`);
      if (ref < 0 || ref >= heap.heapWords || (ref & 1) !== 0) fail(`${path}: reference ${ref} is outside the heap or misaligned`);
      heapToNode.set(ref, node);
      nodeToHeap.set(node, ref);
      pathOf.set(node, path);
      queue.push([ref, node, path]);
    };
    for (let i = 0; i < roots.length; i++) pair(m.get(i), roots[i], `r${i}`);
    for (let q = 0; q < queue.length; q++) {
      const [ref, node, path] = queue[q];
      const header = words[ref];
      const at = `${path} (${describeNode(node)}, heap object ${ref})`;
      if ((header & STATE_MASK) !== 0) fail(`${at}: header state ${header & STATE_MASK}, expected normal`);
      const typeId = header >>> TYPE_SHIFT;
      if (typeId !== node.typeId) fail(`${at}: heap type id ${typeId} (${this.typeName(typeId)}), expected ${node.typeId}`);
      if (words[ref + 1] !== node.length) fail(`${at}: header word 1 is ${words[ref + 1]}, expected ${node.kind === 'struct' ? '0 for a struct' : `length ${node.length}`}`);
      let dataBase: number;
      if (node.kind === 'struct') {
        dataBase = ref + this.structOf(node).dataOffset;
      } else {
        dataBase = ref + ARRAY_BASE;
      }
      if (node.kind === 'f64') {
        for (let i = 0; i < node.data.length; i++) {
          const v = f64[(dataBase >> 1) + i];
          if (!Object.is(v, node.data[i])) fail(`${at}: f64[${i}] is ${showF64(v)}, expected ${showF64(node.data[i])}`);
        }
      } else {
        for (let i = 0; i < node.data.length; i++) {
          const v = words[dataBase + i];
          if (v !== node.data[i]) fail(`${at}: data word ${i} is ${v}, expected ${node.data[i]}`);
        }
      }
      for (let i = 0; i < node.refs.length; i++) pair(words[ref + HEADER_WORDS + i], node.refs[i], `${path}.ref[${i}]`);
    }
  }

  private typeName(id: number): string {
    try { return this.types.info(id).name; } catch { return 'invalid'; }
  }
}
