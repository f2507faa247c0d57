/**
 * Memory-copy bandwidth of this process, for the GC suites' ratios (a copy
 * rate means little on a noisy machine alone; next to the same process's
 * memcpy it does): Int32Array.prototype.copyWithin of 128 MiB within a
 * 256 MiB SharedArrayBuffer (the heap's kind of buffer) and within an
 * ArrayBuffer, and a JS word loop over 8 MiB, tinybench-timed. GB = 1e9 bytes.
 */
import { Bench } from 'tinybench';
import { MIB, opResult, round } from './common.js';

export interface MemcpyRates {
  copyWithinSharedGBs: number;
  copyWithinPlainGBs: number;
  wordLoopGBs: number;
  /** Sink of the word loop's reads (print it, so the loop is not optimized away). */
  sink: number;
}

export function measureMemcpy(): MemcpyRates {
  const COPY_BYTES = 128 * MIB;
  const shared = new Int32Array(new SharedArrayBuffer(2 * COPY_BYTES));
  const plain = new Int32Array(new ArrayBuffer(2 * COPY_BYTES));
  const HALF = COPY_BYTES >> 2;
  for (let i = 0; i < shared.length; i += 1024) { shared[i] = i; plain[i] = i; }
  shared.fill(1); plain.fill(1); // fault every page in before timing
  const LOOP_WORDS = 8 * MIB >> 2;
  function wordLoopCopy(a: Int32Array, dst: number, src: number, n: number): number {
    for (let i = 0; i < n; i++) a[dst + i] = a[src + i];
    return a[dst + n - 1];
  }
  let sink = 0;
  let flip = false;
  const memBench = new Bench({ name: 'memcpy', time: 400, iterations: 8, warmupTime: 0, warmupIterations: 2 });
  memBench.add('copyWithin SAB', () => {
    flip = !flip;
    if (flip) shared.copyWithin(0, HALF, 2 * HALF); else shared.copyWithin(HALF, 0, HALF);
  });
  memBench.add('copyWithin AB', () => {
    flip = !flip;
    if (flip) plain.copyWithin(0, HALF, 2 * HALF); else plain.copyWithin(HALF, 0, HALF);
  });
  memBench.add('JS word loop SAB', () => { sink ^= wordLoopCopy(shared, 0, HALF, LOOP_WORDS); });
  memBench.runSync();
  const gbps = (task: string, bytes: number): number => {
    const r = opResult(memBench.getTask(task), 1);
    return round(bytes / 1e9 / (r.nsPerOp / 1e9), 2);
  };
  const copyWithinSharedGBs = gbps('copyWithin SAB', COPY_BYTES);
  const copyWithinPlainGBs = gbps('copyWithin AB', COPY_BYTES);
  const wordLoopGBs = gbps('JS word loop SAB', LOOP_WORDS * 4);
  return { copyWithinSharedGBs, copyWithinPlainGBs, wordLoopGBs, sink };
}
