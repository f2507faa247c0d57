/*
 * binary-trees on the JVM's own heap: heaplab's Java port of its public
 * workload (Boehm's GCBench shape), written from the workload spec
 * (reference-workloads/README.md), for running under HotSpot's collectors.
 *
 *   1. stretch     a bottom-up tree of depth `stretch`, counted, then dropped
 *   2. long-lived  a top-down tree of depth `longlived` and a double[`array`]
 *                  (a[i] = 1/i for the first half, 0.0 after), kept to the end
 *   3. churn       `iters` rounds; for depth d = min, min+2, ..., max, with
 *                  n = floor(2 * treeSize(stretch) / treeSize(d)):
 *                  n top-down trees of depth d, then n bottom-up trees
 *   4. check       the long-lived tree and array are still intact
 *
 * A node is { left, right, i, j }: 12 B header + 4 fields = 32 B with
 * compressed oops. Result values (print order): nodes_allocated,
 * longlived_nodes, checksum (one per short-lived tree whose first child
 * exists). Defaults print 118083390, 131071, 716992.
 *
 * Usage: java BinaryTrees [--iters=8] [--stretch=18] [--longlived=16]
 *        [--array=500000] [--min=4] [--max=16] [--iterations=1]
 */
import java.util.LinkedHashMap;
import java.util.Map;

public final class BinaryTrees {
    static final class Node {
        Node left;
        Node right;
        int i;
        int j;

        Node() {}

        Node(Node left, Node right) {
            this.left = left;
            this.right = right;
        }
    }

    static long treeSize(int depth) {
        return (1L << (depth + 1)) - 1;
    }

    /** Top-down: gives `node` two fresh children, then fills each to depth - 1. */
    static void populate(int depth, Node node) {
        if (depth <= 0) return;
        node.left = new Node();
        node.right = new Node();
        populate(depth - 1, node.left);
        populate(depth - 1, node.right);
    }

    /** Bottom-up: both subtrees first, then their parent. */
    static Node makeTree(int depth) {
        if (depth <= 0) return new Node();
        Node left = makeTree(depth - 1);
        Node right = makeTree(depth - 1);
        return new Node(left, right);
    }

    /** Node count, iterating down left spines and recursing right. */
    static long countNodes(Node node) {
        long count = 0;
        for (Node n = node; n != null; n = n.left) count += 1 + countNodes(n.right);
        return count;
    }

    static LinkedHashMap<String, Long> run(Map<String, Long> p) {
        int iters = p.get("iters").intValue();
        int stretch = p.get("stretch").intValue();
        int longlived = p.get("longlived").intValue();
        int arrayLength = p.get("array").intValue();
        int minDepth = p.get("min").intValue();
        int maxDepth = p.get("max").intValue();
        long nodesAllocated = 0;

        Node stretchTree = makeTree(stretch);
        nodesAllocated += treeSize(stretch);
        if (countNodes(stretchTree) != treeSize(stretch)) throw new IllegalStateException("stretch tree has the wrong size");
        stretchTree = null;

        Node longLived = new Node();
        populate(longlived, longLived);
        nodesAllocated += treeSize(longlived);
        double[] longLivedArray = new double[arrayLength];
        for (int k = 0; k < arrayLength / 2; k++) longLivedArray[k] = 1.0 / k;

        long checksum = 0;
        for (int round = 0; round < iters; round++) {
            for (int depth = minDepth; depth <= maxDepth; depth += 2) {
                long trees = (2 * treeSize(stretch)) / treeSize(depth);
                nodesAllocated += 2 * trees * treeSize(depth);
                for (long t = 0; t < trees; t++) {
                    Node tree = new Node();
                    populate(depth, tree);
                    if (tree.left != null) checksum++;
                }
                for (long t = 0; t < trees; t++) {
                    Node tree = makeTree(depth);
                    if (tree.right != null) checksum++;
                }
            }
        }

        if (arrayLength / 2 > 1000 && longLivedArray[1000] != 1.0 / 1000) throw new IllegalStateException("long-lived array lost its data");
        long longLivedNodes = countNodes(longLived);

        LinkedHashMap<String, Long> values = new LinkedHashMap<>();
        values.put("nodes_allocated", nodesAllocated);
        values.put("longlived_nodes", longLivedNodes);
        values.put("checksum", checksum);
        return values;
    }

    public static void main(String[] args) {
        LinkedHashMap<String, Long> defaults = new LinkedHashMap<>();
        defaults.put("iters", 8L);
        defaults.put("stretch", 18L);
        defaults.put("longlived", 16L);
        defaults.put("array", 500000L);
        defaults.put("min", 4L);
        defaults.put("max", 16L);
        PortHarness.main("binary-trees", args, defaults, BinaryTrees::run);
    }
}
