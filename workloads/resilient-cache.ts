/**
 * resilient-cache: a Spark-like resilient application, the kind GCPersist
 * targets (Wu et al., VEE 2020): data partitions are computed by a
 * deterministic, costly function of their lineage, and the results are cached
 * in persistent objects. After a crash the program recovers whatever the
 * collector persisted and recomputes only the partitions that are missing or
 * incomplete, so the final checksum never depends on where the crash happened.
 *
 *   persistent root 'resilient-cache'
 *     Cache { parts: Partition[]; count, lineage, size }        struct, 1 ref + 3 data words
 *       Partition[] (count)                                     reference array
 *         Partition { data: int[]; index, state, checksum, lineage }   struct, 1 ref + 4 data
 *           int[] (size)                                        the cached result
 *
 * Lineage of partition i (narrow dependencies, as a Spark map chain):
 *   stage 0        records r_j = (key = h(seed, i, j), value = j)      Record[] of Records
 *   stage 1..S-2   r_j = f(r_j): `work` rounds of hashing over a fresh int[scratch] heap array
 *   stage S-1      data[j] = f(r_j), written straight into the attached persistent
 *                  int[] element by element (the cache block fills while pauses happen)
 *   then           checksum = fold(data), then state = DONE (the last store)
 * A partition is reused only if state is DONE, its checksum matches its data
 * and its lineage hash matches this run's parameters; otherwise it is
 * recomputed. Records and scratch arrays are garbage, so pauses (and, under
 * gcpersist, commits) happen all along.
 *
 * The run ends with ctx.collect('persist'): a checkpoint, so that a finished
 * run leaves a complete image in every persistence mode.
 *
 *   RESULT workload=resilient-cache partitions=P size=N recovered=R computed=C checksum=X
 * X depends only on the parameters; R + C = P.
 *
 * The contract: every reference held across an allocation lives in a root
 * slot (or is re-read from the persistent root).
 */
import { UsageError } from '../vm-core/errors.js';
import { ARRAY_BASE } from '../vm-core/layout.js';
import type { Mutator } from '../vm-core/mutator.js';
import { TypeRegistry } from '../vm-core/type-registry.js';
import type { Workload, WorkloadContext, WorkloadResult } from './workload.js';

export const RESILIENT_CACHE_ROOT = 'resilient-cache';
/** Partition.state once its data and checksum are complete. */
export const PARTITION_DONE = 0x600d;
const BASE = ARRAY_BASE;

interface Types {
  cache: number;
  partition: number;
  parts: number;
  ints: number;
  record: number;
  records: number;
}

function registerTypes(types: TypeRegistry): Types {
  return {
    cache: types.struct('Cache', 1, 3),
    partition: types.struct('Partition', 1, 4),
    parts: types.refArray('Partition[]'),
    ints: types.dataArray('int[]', 1),
    record: types.struct('Record', 0, 2),
    records: types.refArray('Record[]'),
  };
}

/** murmur3's 32-bit finalizer. */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

function combine(a: number, b: number): number {
  return mix((Math.imul(a, 31) + b) | 0);
}

function lineageOf(p: Record<string, number>, i: number): number {
  let h = combine(p.seed, i);
  h = combine(h, p.size);
  h = combine(h, p.stages);
  h = combine(h, p.work);
  return combine(h, p.scratch);
}

function checkParams(p: Record<string, number>): void {
  if (!(p.partitions >= 1 && p.partitions <= 1 << 20)) throw new UsageError(`resilient-cache: partitions=${p.partitions} must be in 1..${1 << 20}`);
  if (!(p.size >= 1 && p.size <= 1 << 24)) throw new UsageError(`resilient-cache: size=${p.size} must be in 1..${1 << 24}`);
  if (!(p.stages >= 2 && p.stages <= 64)) throw new UsageError(`resilient-cache: stages=${p.stages} must be in 2..64`);
  if (!(p.work >= 0)) throw new UsageError(`resilient-cache: work=${p.work} must be at least 0`);
  if (!(p.scratch >= 1 && p.scratch <= 4096 && (p.scratch & (p.scratch - 1)) === 0)) throw new UsageError(`resilient-cache: scratch=${p.scratch} must be a power of two in 1..4096`);
}

class Program {
  private readonly cacheParts: number;
  private readonly cacheCount: number;
  private readonly cacheLineage: number;
  private readonly cacheSize: number;
  private readonly pIndex: number;
  private readonly pState: number;
  private readonly pChecksum: number;
  private readonly pLineage: number;
  private readonly rKey: number;
  private readonly rValue: number;
  /** Root slots: the current stage's records, the next stage's, the partition under construction. */
  private readonly inSlot: number;
  private readonly outSlot: number;
  private readonly partSlot: number;

  constructor(private readonly m: Mutator, types: TypeRegistry, private readonly t: Types, private readonly p: Record<string, number>) {
    this.cacheParts = 0;
    this.cacheCount = types.dataOffset(t.cache, 0);
    this.cacheLineage = types.dataOffset(t.cache, 1);
    this.cacheSize = types.dataOffset(t.cache, 2);
    this.pIndex = types.dataOffset(t.partition, 0);
    this.pState = types.dataOffset(t.partition, 1);
    this.pChecksum = types.dataOffset(t.partition, 2);
    this.pLineage = types.dataOffset(t.partition, 3);
    this.rKey = types.dataOffset(t.record, 0);
    this.rValue = types.dataOffset(t.record, 1);
    this.inSlot = m.push(0);
    this.outSlot = m.push(0);
    this.partSlot = m.push(0);
  }

  private cache(): number {
    return this.m.persistentRoot(RESILIENT_CACHE_ROOT);
  }

  /** The recovered cache if it fits these parameters, else a new empty one (named the persistent root). */
  openCache(): number {
    const m = this.m;
    const p = this.p;
    const c = this.cache();
    const lineage = combine(lineageOf(p, -1), p.partitions);
    if (c !== 0 && m.getI32(c, this.cacheCount) === p.partitions && m.getI32(c, this.cacheLineage) === lineage && m.getI32(c, this.cacheSize) === p.size) return c;
    m.set(this.partSlot, m.allocArray(this.t.parts, p.partitions));
    const fresh = m.alloc(this.t.cache);
    m.setRef(fresh, this.cacheParts, m.get(this.partSlot));
    m.setI32(fresh, this.cacheCount, p.partitions);
    m.setI32(fresh, this.cacheLineage, lineage);
    m.setI32(fresh, this.cacheSize, p.size);
    m.set(this.partSlot, 0);
    m.persistRoot(RESILIENT_CACHE_ROOT, fresh);
    return fresh;
  }

  /** Is partition i in the cache, complete and of this lineage? */
  valid(i: number): boolean {
    const m = this.m;
    const part = m.getRef(m.getRef(this.cache(), this.cacheParts), i);
    if (part === 0) return false;
    if (m.getI32(part, this.pState) !== PARTITION_DONE || m.getI32(part, this.pIndex) !== i || m.getI32(part, this.pLineage) !== lineageOf(this.p, i)) return false;
    const data = m.getRef(part, 0);
    if (data === 0 || m.arrayLength(data) !== this.p.size) return false;
    return this.fold(data) === m.getI32(part, this.pChecksum);
  }

  checksumOf(i: number): number {
    const m = this.m;
    return m.getI32(m.getRef(m.getRef(this.cache(), this.cacheParts), i), this.pChecksum);
  }

  private fold(data: number): number {
    const m = this.m;
    let h = 0x811c9dc5 | 0;
    for (let j = 0, n = this.p.size; j < n; j++) h = Math.imul(h ^ m.getI32(data, BASE + j), 0x01000193);
    return mix(h);
  }

  /** One record transformation: `work` rounds of hashing over a fresh scratch array on the heap. */
  private transform(key: number, value: number, stage: number): number {
    const m = this.m;
    const k = this.p.scratch;
    const scratch = m.allocArray(this.t.ints, k);
    for (let t = 0; t < k; t++) m.setI32(scratch, BASE + t, mix(key + t * 0x9e3779b9 + stage));
    for (let w = 0, rounds = this.p.work; w < rounds; w++) {
      for (let t = 0; t < k; t++) {
        const a = m.getI32(scratch, BASE + t);
        const b = m.getI32(scratch, BASE + ((t + 1) & (k - 1)));
        m.setI32(scratch, BASE + t, mix((a ^ b) + w));
      }
    }
    let h = value;
    for (let t = 0; t < k; t++) h = combine(h, m.getI32(scratch, BASE + t));
    return h;
  }

  /** Computes partition i from its lineage and caches it (attached first, then filled in place). */
  compute(i: number): void {
    const m = this.m;
    const p = this.p;
    const t = this.t;
    const n = p.size;
    // stage 0: the source records
    m.set(this.inSlot, m.allocArray(t.records, n));
    for (let j = 0; j < n; j++) {
      const r = m.alloc(t.record);
      m.setI32(r, this.rKey, combine(combine(p.seed, i), j));
      m.setI32(r, this.rValue, j);
      m.setRef(m.get(this.inSlot), j, r);
    }
    // stages 1 .. S-2: map
    for (let s = 1; s < p.stages - 1; s++) {
      m.set(this.outSlot, m.allocArray(t.records, n));
      for (let j = 0; j < n; j++) {
        const src = m.getRef(m.get(this.inSlot), j);
        const key = m.getI32(src, this.rKey);
        const value = this.transform(key, m.getI32(src, this.rValue), s);
        const r = m.alloc(t.record);
        m.setI32(r, this.rKey, mix(key ^ value));
        m.setI32(r, this.rValue, value);
        m.setRef(m.get(this.outSlot), j, r);
      }
      m.set(this.inSlot, m.get(this.outSlot));
      m.set(this.outSlot, 0);
    }
    // the cache block: attached empty, then filled element by element
    m.set(this.outSlot, m.allocArray(t.ints, n));
    const part = m.alloc(t.partition);
    m.setRef(part, 0, m.get(this.outSlot));
    m.setI32(part, this.pIndex, i);
    m.setI32(part, this.pLineage, lineageOf(p, i));
    m.setRef(m.getRef(this.cache(), this.cacheParts), i, part);
    m.set(this.partSlot, part);
    m.set(this.outSlot, 0);
    const last = p.stages - 1;
    for (let j = 0; j < n; j++) {
      const src = m.getRef(m.get(this.inSlot), j);
      const value = this.transform(m.getI32(src, this.rKey), m.getI32(src, this.rValue), last);
      m.setI32(m.getRef(m.get(this.partSlot), 0), BASE + j, value);
    }
    const done = m.get(this.partSlot);
    m.setI32(done, this.pChecksum, this.fold(m.getRef(done, 0)));
    m.setI32(done, this.pState, PARTITION_DONE);
    m.set(this.partSlot, 0);
    m.set(this.inSlot, 0);
  }
}

function run(ctx: WorkloadContext): WorkloadResult {
  const p = ctx.params;
  checkParams(p);
  const m = ctx.mutator;
  const t = registerTypes(ctx.types);
  const frame = m.frame();
  try {
    const program = new Program(m, ctx.types, t, p);
    program.openCache();
    let recovered = 0;
    let computed = 0;
    let checksum = combine(p.seed, p.partitions);
    for (let i = 0; i < p.partitions; i++) {
      if (program.valid(i)) recovered++;
      else {
        program.compute(i);
        computed++;
      }
      checksum = combine(checksum, program.checksumOf(i));
    }
    ctx.collect('persist');
    return { partitions: p.partitions, size: p.size, recovered, computed, checksum: checksum >>> 0 };
  } finally {
    m.popFrame(frame);
  }
}

/**
 * What a recovered heap holds (the crash test checks it after every kill): a
 * cache of these parameters, or none; every partition marked DONE must be
 * complete (its checksum matches its data and lineage). Partitions that are
 * attached but not DONE were being filled when the epoch was taken.
 */
export function inspectRecoveredCache(m: Mutator, types: TypeRegistry, p: Record<string, number>): { cache: boolean; done: number; partial: number; problems: string[] } {
  const t = registerTypes(types);
  const program = new Program(m, types, t, p);
  const problems: string[] = [];
  const c = m.persistentRoot(RESILIENT_CACHE_ROOT);
  if (c === 0) return { cache: false, done: 0, partial: 0, problems };
  let done = 0;
  let partial = 0;
  const parts = m.getRef(c, 0);
  const n = m.arrayLength(parts);
  for (let i = 0; i < n; i++) {
    const part = m.getRef(parts, i);
    if (part === 0) continue;
    if (m.getI32(part, types.dataOffset(t.partition, 1)) !== PARTITION_DONE) { partial++; continue; }
    if (program.valid(i)) done++;
    else problems.push(`partition ${i} is marked done but its data does not match its checksum or lineage`);
  }
  return { cache: true, done, partial, problems };
}

function expectedLiveBytes(p: Record<string, number>): number {
  const types = new TypeRegistry();
  const t = registerTypes(types);
  const words = (id: number): number => types.info(id).sizeWords;
  const cache = words(t.cache) + types.arrayWords(t.parts, p.partitions);
  const partition = words(t.partition) + types.arrayWords(t.ints, p.size);
  const stage = 2 * (types.arrayWords(t.records, p.size) + p.size * words(t.record));
  return (cache + p.partitions * partition + stage) * 4;
}

export const resilientCache: Workload = {
  name: 'resilient-cache',
  description: 'Spark-like partitions computed from a seeded lineage and cached in persistent objects; a restart recovers the persisted ones and recomputes the rest (GCPersist)',
  params: {
    partitions: { default: 64, description: 'partitions (cache blocks)' },
    size: { default: 4096, description: 'int elements per partition' },
    stages: { default: 3, description: 'lineage stages per partition (the last fills the cached block)' },
    work: { default: 96, description: 'hash rounds over the scratch array per element and stage (the cost of recomputing)' },
    scratch: { default: 8, description: 'words of the heap scratch array each element is hashed in (a power of two)' },
    seed: { default: 7, description: 'lineage seed' },
  },
  expectedLiveBytes,
  run,
};
