/**
 * The public workloads, binary-trees and lru-cache, against their reference
 * programs (/work/shared/reference-workloads/js, or HEAPLAB_REFERENCE_DIR):
 *
 *   1. default parameters under evac with a 256 MiB heap: the published values
 *   2. small parameters under evac in stress mode (a pause every few
 *      allocations, from-space poisoned, heap verified before and after every
 *      pause, every object access checked): the results equal what the
 *      reference script prints for the same parameters, so no reference was
 *      held across an allocation outside a root slot
 *   3. the same small programs under evac without stress and under epsilon
 *      (which never moves anything), and twice for determinism
 *
 * plus the registry entries, result key order, the PRNG and parameter checks.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { epsilon } from '../collectors/epsilon/epsilon.js';
import { evac } from '../collectors/region/region-collector.js';
import type { CollectorPlugin } from '../vm-core/collector.js';
import { UsageError } from '../vm-core/errors.js';
import { STATE_MASK, STATE_NORMAL, TYPE_SHIFT } from '../vm-core/layout.js';
import type { Mutator } from '../vm-core/mutator.js';
import { REGION_FREE, REGION_HUMONGOUS_CONT } from '../vm-core/region-table.js';
import { FILLER_TYPE_ID } from '../vm-core/type-registry.js';
import { Vm } from '../vm-core/vm.js';
import { findWorkload, listWorkloads, resolveParams } from '../workloads/registry.js';
import type { WorkloadResult } from '../workloads/workload.js';
import { unitInterval, xorshift32 } from '../workloads/xorshift.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const referenceDir = process.env.HEAPLAB_REFERENCE_DIR ?? path.resolve(repoRoot, '../shared/reference-workloads/js');
const MiB = 1 << 20;

interface RunOptions {
  collector: CollectorPlugin;
  heapBytes: number;
  verify?: 'off' | 'debug';
  stressGc?: number;
}

function runWorkload(name: string, given: Record<string, number>, o: RunOptions): { result: WorkloadResult; vm: Vm } {
  const workload = findWorkload(name);
  const params = resolveParams(workload, given);
  const vm = new Vm({ heapBytes: o.heapBytes, collector: o.collector, verify: o.verify ?? 'off', stressGc: o.stressGc ?? 0 });
  const mutator = vm.newMutator();
  const result = workload.run({ mutator, types: vm.types, params, collect: (cause) => vm.collect(cause) });
  return { result, vm };
}

/** Runs the reference script with the given parameters and parses its RESULT line (timing and labels dropped). */
function referenceResult(name: string, given: Record<string, number>): WorkloadResult {
  const args = Object.entries(given).map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${v}`);
  const out = execFileSync(process.execPath, [path.join(referenceDir, `${name}.js`), ...args], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`reference ${name} printed no RESULT line:\n${out}`);
  const result: WorkloadResult = {};
  for (const field of line.split(' ').slice(1)) {
    const [k, v] = field.split('=');
    if (k === 'workload' || k === 'lang' || k === 'elapsed_ms') continue;
    result[k] = Number(v);
  }
  return result;
}

interface SmallCase {
  name: string;
  params: Record<string, number>;
  /** Stress interval: a pause every this many allocations. */
  stressGc: number;
  /** Pauses the stress run must at least have made. */
  minGcs: number;
  /** Pauses the run without stress (1 MiB heap) must at least have made. */
  minAllocationGcs: number;
}

const SMALL_CASES: SmallCase[] = [
  { name: 'binary-trees', params: { iters: 2, stretch: 10, longlived: 8, array: 4000, min: 4, max: 8 }, stressGc: 97, minGcs: 400, minAllocationGcs: 5 },
  { name: 'binary-trees', params: { iters: 1, stretch: 6, longlived: 5, array: 2002, min: 1, max: 6 }, stressGc: 7, minGcs: 200, minAllocationGcs: 0 },
  { name: 'lru-cache', params: { capacity: 2000, ops: 10000 }, stressGc: 97, minGcs: 500, minAllocationGcs: 5 },
  { name: 'lru-cache', params: { capacity: 300, ops: 5000, keyspaceFactor: 3, seed: 7 }, stressGc: 13, minGcs: 1500, minAllocationGcs: 2 },
];

function caseLabel(c: SmallCase): string {
  return `${c.name} ${Object.entries(c.params).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

describe('workload registry', () => {
  it('lists binary-trees and lru-cache with the reference parameters and defaults', () => {
    expect(listWorkloads().map((w) => w.name)).toEqual(['binary-trees', 'lru-cache', 'resilient-cache']);
    expect(resolveParams(findWorkload('binary-trees'), {})).toEqual({ iters: 8, stretch: 18, longlived: 16, array: 500000, min: 4, max: 16 });
    expect(resolveParams(findWorkload('lru-cache'), {})).toEqual({ capacity: 200000, ops: 5000000, keyspaceFactor: 4, seed: 42 });
  });

  it('estimates the live size at default parameters', () => {
    const trees = findWorkload('binary-trees');
    const lru = findWorkload('lru-cache');
    // the stretch tree: 524,287 nodes of 24 B
    expect(trees.expectedLiveBytes!(resolveParams(trees, {}))).toBe(524287 * 24);
    // 200,001 entries of 240 B, plus the CDF (6.4 MB) and the buckets (1 MiB)
    const lruLive = lru.expectedLiveBytes!(resolveParams(lru, {}));
    expect(lruLive).toBeGreaterThan(50 * MiB);
    expect(lruLive).toBeLessThan(56 * MiB);
  });

  it('rejects parameters the program cannot run with, with a usage error', () => {
    const run = (name: string, p: Record<string, number>) => () => runWorkload(name, p, { collector: epsilon, heapBytes: 4 * MiB });
    expect(run('lru-cache', { capacity: 1, ops: 10 })).toThrow(UsageError);
    expect(run('binary-trees', { array: 1000, stretch: 4, longlived: 4, min: 4, max: 4, iters: 1 })).toThrow(UsageError);
    expect(run('binary-trees', { stretch: 40 })).toThrow(UsageError);
  });
});

describe('xorshift32', () => {
  it('follows Marsaglia 13/17/5 in int32 arithmetic, as the reference makeRng', () => {
    expect(xorshift32(42)).toBe(11355432);
    let x = 42;
    let reference = 42;
    for (let i = 0; i < 10000; i++) {
      x = xorshift32(x);
      reference ^= reference << 13;
      reference ^= reference >>> 17;
      reference ^= reference << 5;
      expect(x).toBe(reference);
      expect(unitInterval(x)).toBe((reference >>> 0) / 4294967296);
    }
    expect(unitInterval(-1)).toBeLessThan(1);
    expect(unitInterval(0)).toBe(0);
  });
});

// First, while the workload code has seen only the plain mutator class (the checked
// and stress classes of the later tests make its call sites polymorphic and slower).
describe('default parameters under evac, 256 MiB heap', () => {
  it('binary-trees prints the published result', () => {
    const { result, vm } = runWorkload('binary-trees', {}, { collector: evac, heapBytes: 256 * MiB });
    expect(result).toEqual({ nodes_allocated: 118083390, longlived_nodes: 131071, checksum: 716992 });
    expect(Object.keys(result)).toEqual(['nodes_allocated', 'longlived_nodes', 'checksum']);
    expect(vm.gcCount).toBeGreaterThan(50);
  }, 120_000);

  it('lru-cache prints the published result', () => {
    const { result, vm } = runWorkload('lru-cache', {}, { collector: evac, heapBytes: 256 * MiB });
    expect(result).toEqual({ hits: 4335071, misses: 664929, checksum: 9806505189236, size: 200000 });
    expect(Object.keys(result)).toEqual(['hits', 'misses', 'checksum', 'size']);
    expect(vm.gcCount).toBeGreaterThan(5);
  }, 120_000);
});

describe.each(SMALL_CASES)('$name small parameters', (c) => {
  const expected = referenceResult(c.name, c.params);

  it(`equals the reference under evac in stress mode, verified: ${caseLabel(c)}`, () => {
    const { result, vm } = runWorkload(c.name, c.params, { collector: evac, heapBytes: 2 * MiB, verify: 'debug', stressGc: c.stressGc });
    expect(result).toEqual(expected);
    expect(Object.keys(result)).toEqual(Object.keys(expected));
    expect(vm.gcCount).toBeGreaterThanOrEqual(c.minGcs);
  }, 60_000);

  it(`equals the reference under evac without stress, verified: ${caseLabel(c)}`, () => {
    const { result, vm } = runWorkload(c.name, c.params, { collector: evac, heapBytes: 1 * MiB, verify: 'debug' });
    expect(result).toEqual(expected);
    expect(vm.gcCount).toBeGreaterThanOrEqual(c.minAllocationGcs);
  }, 60_000);

  it(`equals the reference under epsilon: ${caseLabel(c)}`, () => {
    const { result, vm } = runWorkload(c.name, c.params, { collector: epsilon, heapBytes: 32 * MiB, verify: 'debug' });
    expect(result).toEqual(expected);
    expect(vm.gcCount).toBe(0);
  }, 60_000);

  it(`is deterministic: same result and pause count twice: ${caseLabel(c)}`, () => {
    const a = runWorkload(c.name, c.params, { collector: evac, heapBytes: 1 * MiB });
    const b = runWorkload(c.name, c.params, { collector: evac, heapBytes: 1 * MiB });
    expect(b.result).toEqual(a.result);
    expect(b.vm.gcCount).toBe(a.vm.gcCount);
  }, 60_000);
});
