/**
 * The workload registry: built-in workloads by name.
 */
import { UsageError } from '../vm-core/errors.js';
import { binaryTrees } from './binary-trees.js';
import { lruCache } from './lru-cache.js';
import { resilientCache } from './resilient-cache.js';
import type { Workload } from './workload.js';

const BUILT_IN: Workload[] = [binaryTrees, lruCache, resilientCache];

export function listWorkloads(): Workload[] {
  return [...BUILT_IN];
}

export function findWorkload(name: string): Workload {
  const w = BUILT_IN.find((x) => x.name === name);
  if (!w) throw new UsageError(`unknown workload '${name}' (known: ${BUILT_IN.map((x) => x.name).join(', ')})`);
  return w;
}

/** Fills in defaults and checks user-given parameters (`--param k=v`). */
export function resolveParams(w: Workload, given: Record<string, string | number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, spec] of Object.entries(w.params)) out[k] = spec.default;
  for (const [k, v] of Object.entries(given)) {
    if (!(k in w.params)) throw new UsageError(`workload ${w.name} has no parameter '${k}' (parameters: ${Object.keys(w.params).join(', ')})`);
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isInteger(n)) throw new UsageError(`workload ${w.name}: parameter ${k}=${v} is not an integer`);
    out[k] = n;
  }
  return out;
}
