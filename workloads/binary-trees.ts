/**
 * binary-trees: heaplab's port of the Boehm GCBench-shaped reference program
 * /work/shared/reference-workloads/js/binary-trees.js (spec in that folder's
 * README.md). Same parameters, same object shapes, same allocation order, same
 * result line:
 *
 *   RESULT workload=binary-trees nodes_allocated=118083390 longlived_nodes=131071 checksum=716992
 *
 * Types:
 *   Node      { left, right: Node; i, j: int }   struct, 2 refs + 2 data words (24 B)
 *   double[]  the long-lived array                float64 data array
 *
 * Phases (as the reference's main()):
 *   1. stretch     MakeTree(stretch) bottom-up, checked, dropped
 *   2. long-lived  root = new Node(); Populate(longlived, root)  (kept in a root slot)
 *   3. array       double[array]: a[i] = 0.0 for all i, then a[i] = 1.0/i for i < array/2
 *   4. churn       iters × for d = min, min+2, ..., max with n = floor(2·TreeSize(stretch)/TreeSize(d)):
 *                  n × { t = new Node(); Populate(d, t) }, then n × { MakeTree(d) }
 *   5. check       a[1000] === 1/1000; count the long-lived tree
 *
 * The contract: objects move at any allocation, so a node that must survive
 * an allocation sits in a root slot and is re-read from it afterwards.
 * Populate walks the tree with one root slot per level; MakeTree keeps the
 * finished left (and right) subtree in root slots while it allocates.
 */
import { UsageError } from '../vm-core/errors.js';
import { ARRAY_BASE } from '../vm-core/layout.js';
import type { Mutator } from '../vm-core/mutator.js';
import { TypeRegistry } from '../vm-core/type-registry.js';
import type { Workload, WorkloadContext, WorkloadResult } from './workload.js';

const LEFT = 0;
const RIGHT = 1;
/** The deepest tree a parameter may ask for: TreeSize(d) must stay an int32, as in the reference. */
const MAX_DEPTH = 29;
/** The final check reads a[1000], which holds 1/1000 only when 1000 < array/2. */
const MIN_ARRAY = 2002;

interface BinaryTreesTypes {
  node: number;
  doubleArray: number;
}

function registerTypes(types: TypeRegistry): BinaryTreesTypes {
  return {
    node: types.struct('Node', 2, 2),
    doubleArray: types.dataArray('double[]', 2),
  };
}

/** Nodes in a complete tree of depth d (GCBench TreeSize), in int32 arithmetic like the reference. */
function treeSize(depth: number): number {
  return (1 << (depth + 1)) - 1;
}

function checkParams(p: Record<string, number>): void {
  for (const name of ['stretch', 'longlived', 'min', 'max']) {
    const d = p[name];
    if (!(d >= 0 && d <= MAX_DEPTH)) throw new UsageError(`binary-trees: ${name}=${d} must be a tree depth in 0..${MAX_DEPTH}`);
  }
  if (!(p.iters >= 0)) throw new UsageError(`binary-trees: iters=${p.iters} must be at least 0`);
  if (!(p.array >= MIN_ARRAY)) {
    throw new UsageError(`binary-trees: array=${p.array} must be at least ${MIN_ARRAY} (the program checks a[1000] = 1/1000 at the end)`);
  }
}

/** One run of the program against one mutator. */
class BinaryTreesProgram {
  constructor(private readonly m: Mutator, private readonly nodeType: number) {}

  /** GCBench Populate: gives the node in `nodeSlot` two children, top-down, to `depth` levels. */
  populate(depth: number, nodeSlot: number): void {
    if (depth <= 0) return;
    depth--;
    const m = this.m;
    const left = m.alloc(this.nodeType);
    m.setRef(m.get(nodeSlot), LEFT, left);
    const right = m.alloc(this.nodeType);
    m.setRef(m.get(nodeSlot), RIGHT, right);
    if (depth <= 0) return; // Populate(0, child) does nothing
    const childSlot = m.push(m.getRef(m.get(nodeSlot), LEFT));
    this.populate(depth, childSlot);
    m.set(childSlot, m.getRef(m.get(nodeSlot), RIGHT));
    this.populate(depth, childSlot);
    m.pop(1);
  }

  /** GCBench MakeTree: builds a tree of `depth` levels bottom-up; returns its root (not rooted). */
  makeTree(depth: number): number {
    const m = this.m;
    if (depth <= 0) return m.alloc(this.nodeType);
    const leftSlot = m.push(this.makeTree(depth - 1));
    const rightSlot = m.push(this.makeTree(depth - 1));
    const node = m.alloc(this.nodeType);
    m.setRef(node, LEFT, m.get(leftSlot));
    m.setRef(node, RIGHT, m.get(rightSlot));
    m.pop(2);
    return node;
  }

  /** Counts the nodes of a tree (allocates nothing, so raw references are safe). */
  checkTree(node: number): number {
    const m = this.m;
    let count = 0;
    while (node !== 0) {
      count += 1 + this.checkTree(m.getRef(node, RIGHT));
      node = m.getRef(node, LEFT);
    }
    return count;
  }
}

function run(ctx: WorkloadContext): WorkloadResult {
  const p = ctx.params;
  checkParams(p);
  const { iters, stretch, longlived, array: arraySize, min: minDepth, max: maxDepth } = p;
  const m = ctx.mutator;
  const t = registerTypes(ctx.types);
  const program = new BinaryTreesProgram(m, t.node);
  const frame = m.frame();
  try {
    let nodes = 0;

    // 1. stretch tree: built, checked (no allocation in between), dropped
    {
      const stretchTree = program.makeTree(stretch);
      nodes += treeSize(stretch);
      if (program.checkTree(stretchTree) !== treeSize(stretch)) throw new Error('binary-trees: bad stretch tree');
    }

    // 2. long-lived tree
    const longLivedSlot = m.push(m.alloc(t.node));
    program.populate(longlived, longLivedSlot);
    nodes += treeSize(longlived);

    // 3. long-lived array of doubles
    const arraySlot = m.push(m.allocArray(t.doubleArray, arraySize));
    {
      const a = m.get(arraySlot);
      for (let i = 0; i < arraySize; i++) m.setF64(a, ARRAY_BASE + 2 * i, 0.0);
      const half = arraySize >> 1;
      for (let i = 0; i < half; i++) m.setF64(a, ARRAY_BASE + 2 * i, 1.0 / i);
    }

    // 4. short-lived trees
    let checksum = 0;
    const treeSlot = m.push(0);
    for (let it = 0; it < iters; it++) {
      for (let d = minDepth; d <= maxDepth; d += 2) {
        const numIters = Math.floor((2 * treeSize(stretch)) / treeSize(d));
        nodes += 2 * numIters * treeSize(d);
        for (let i = 0; i < numIters; i++) {
          m.set(treeSlot, m.alloc(t.node));
          program.populate(d, treeSlot);
          checksum += m.getRef(m.get(treeSlot), LEFT) !== 0 ? 1 : 0;
        }
        m.set(treeSlot, 0);
        for (let i = 0; i < numIters; i++) {
          const tree = program.makeTree(d);
          checksum += m.getRef(tree, RIGHT) !== 0 ? 1 : 0;
        }
      }
    }

    // 5. the long-lived data survived
    if (m.getF64(m.get(arraySlot), ARRAY_BASE + 2 * 1000) !== 1.0 / 1000) throw new Error('binary-trees: long-lived data lost');
    const longLivedNodes = program.checkTree(m.get(longLivedSlot));
    return { nodes_allocated: nodes, longlived_nodes: longLivedNodes, checksum };
  } finally {
    m.popFrame(frame);
  }
}

/**
 * Peak live bytes: the stretch tree alone (phase 1), or later the long-lived
 * tree plus the array plus one short-lived tree of the deepest depth.
 */
function expectedLiveBytes(p: Record<string, number>): number {
  const types = new TypeRegistry();
  const t = registerTypes(types);
  const nodeBytes = types.info(t.node).sizeWords * 4;
  const arrayBytes = types.arrayWords(t.doubleArray, Math.max(0, p.array)) * 4;
  const stretchBytes = treeSize(p.stretch) * nodeBytes;
  const deepestNodes = p.iters > 0 && p.max >= p.min ? treeSize(p.min + 2 * Math.floor((p.max - p.min) / 2)) : 0;
  const steadyBytes = (treeSize(p.longlived) + deepestNodes) * nodeBytes + arrayBytes;
  return Math.max(stretchBytes, steadyBytes);
}

export const binaryTrees: Workload = {
  name: 'binary-trees',
  description: 'Boehm GCBench shape: a stretch tree, a long-lived tree and double array, then many short-lived trees built top-down and bottom-up',
  params: {
    iters: { default: 8, description: 'rounds of short-lived trees' },
    stretch: { default: 18, description: 'depth of the stretch tree (also sets how many short-lived trees per depth)' },
    longlived: { default: 16, description: 'depth of the long-lived tree' },
    array: { default: 500000, description: 'length of the long-lived array of doubles' },
    min: { default: 4, description: 'smallest short-lived tree depth' },
    max: { default: 16, description: 'largest short-lived tree depth (depths go min, min+2, ..., max)' },
  },
  expectedLiveBytes,
  run,
};
