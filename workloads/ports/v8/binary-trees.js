/**
 * binary-trees on V8's own heap: heaplab's native-JS port of its public
 * workload (Boehm's GCBench shape), written from the workload spec
 * (reference-workloads/README.md), for running under `node --trace-gc`.
 *
 *   1. stretch     a bottom-up tree of depth `stretch`, counted, then dropped
 *   2. long-lived  a top-down tree of depth `longlived` and an on-heap array of
 *                  `array` doubles (a[i] = 1/i for the first half, 0.0 after), kept
 *   3. churn       `iters` rounds; for depth d = min, min+2, ..., max, with
 *                  n = floor(2 * treeSize(stretch) / treeSize(d)):
 *                  n top-down trees of depth d, then n bottom-up trees
 *   4. check       the long-lived tree and array are still intact
 *
 * A node is a class instance whose constructor sets all four fields
 * { left, right, i, j }: 24 B header + 4 x 8 B = 56 B in V8 11.
 * Result values (print order): nodes_allocated, longlived_nodes, checksum.
 *
 * Usage: node binary-trees.js [--iters=8] [--stretch=18] [--longlived=16]
 *        [--array=500000] [--min=4] [--max=16] [--iterations=1]
 */
import { runIterations } from './harness.js';

class TreeNode {
  constructor(left, right) {
    this.left = left;
    this.right = right;
    this.i = 0;
    this.j = 0;
  }
}

const treeSize = (depth) => 2 ** (depth + 1) - 1;

/** Top-down: gives `node` two fresh children, then fills each to depth - 1. */
function growDown(depth, node) {
  if (depth <= 0) return;
  node.left = new TreeNode(null, null);
  node.right = new TreeNode(null, null);
  growDown(depth - 1, node.left);
  growDown(depth - 1, node.right);
}

/** Bottom-up: both subtrees first, then their parent. */
function buildUp(depth) {
  if (depth <= 0) return new TreeNode(null, null);
  const left = buildUp(depth - 1);
  const right = buildUp(depth - 1);
  return new TreeNode(left, right);
}

/** Node count, iterating down left spines and recursing right. */
function countNodes(node) {
  let count = 0;
  for (let n = node; n !== null; n = n.left) count += 1 + countNodes(n.right);
  return count;
}

/** A JS array of doubles on V8's heap: created holey, filled with 0.0, then 1/k in its first half. */
function longLivedDoubles(length) {
  const values = new Array(length);
  for (let k = 0; k < length; k++) values[k] = 0.0;
  const half = Math.floor(length / 2);
  for (let k = 0; k < half; k++) values[k] = 1.0 / k;
  return values;
}

function binaryTrees(p) {
  let nodesAllocated = 0;

  let stretchTree = buildUp(p.stretch);
  nodesAllocated += treeSize(p.stretch);
  if (countNodes(stretchTree) !== treeSize(p.stretch)) throw new Error('stretch tree has the wrong size');
  stretchTree = null;

  const longLived = new TreeNode(null, null);
  growDown(p.longlived, longLived);
  nodesAllocated += treeSize(p.longlived);
  const doubles = longLivedDoubles(p.array);

  let checksum = 0;
  for (let round = 0; round < p.iters; round++) {
    for (let depth = p.min; depth <= p.max; depth += 2) {
      const trees = Math.floor((2 * treeSize(p.stretch)) / treeSize(depth));
      nodesAllocated += 2 * trees * treeSize(depth);
      for (let t = 0; t < trees; t++) {
        const tree = new TreeNode(null, null);
        growDown(depth, tree);
        if (tree.left !== null) checksum++;
      }
      for (let t = 0; t < trees; t++) {
        if (buildUp(depth).right !== null) checksum++;
      }
    }
  }

  if (Math.floor(p.array / 2) > 1000 && doubles[1000] !== 1.0 / 1000) throw new Error('long-lived array lost its data');
  return { nodes_allocated: nodesAllocated, longlived_nodes: countNodes(longLived), checksum };
}

runIterations('binary-trees', { iters: 8, stretch: 18, longlived: 16, array: 500000, min: 4, max: 16 }, binaryTrees);
