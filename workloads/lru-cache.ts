/**
 * lru-cache: heaplab's port of the reference program
 * /work/shared/reference-workloads/js/lru-cache.js (spec in that folder's
 * README.md): an LRU cache with an intrusive chained hash table, hit by
 * Zipf(s = 1) distributed keys drawn with xorshift32. Same parameters, same
 * object shapes, same allocation order, same result line:
 *
 *   RESULT workload=lru-cache hits=4335071 misses=664929 checksum=9806505189236 size=200000
 *
 * Types:
 *   Key      { id: int }                                   struct, 0 refs + 1 data word
 *   Small    { v: int }                                    struct, 0 refs + 1 data word
 *   Payload  { items: Small[]; version: int }              struct, 1 ref + 1 data word
 *   Entry    { key, value, prev, next, hnext }             struct, 5 refs
 *   Small[]  items, always 8 long                          reference array
 *   Entry[]  the hash buckets                              reference array
 *   double[] the Zipf CDF, on the heap as in the Java port  float64 data array (humongous)
 *
 * Phases (as the reference's main()):
 *   1. cdf       cdf[i] = Σ_{j≤i} 1/(j+1) over keySpace = capacity × keyspaceFactor ranks
 *   2. buckets   Entry[nb], nb = the smallest power of two ≥ capacity
 *   3. prefill   for id = capacity−1 down to 0: a new entry for new Key(id), Smalls (−8−id)+i
 *   4. ops       draw a key id (Zipf), allocate the request Key, look it up;
 *                hit:  move to front, checksum += items[(op+1)&7].v, items[op&7] = new Small(op), version++
 *                miss: new entry (items and its 8 Smalls, then Payload, then Entry), link it at the
 *                      head and into its bucket; over capacity: evict the tail, checksum += its key id
 *
 * Requests: each operation is one request; with ctx.latency present (heaplab
 * run --latency) the ops loop brackets each with latency.begin()/end(). The
 * presence is checked once, outside the loop (two loop variants), so the
 * default run pays nothing per operation.
 *
 * The contract: objects move at any allocation. The globals (cdf, buckets,
 * head, tail) live in root slots and are re-read after every allocation; a new
 * entry's key, items and payload wait in root slots while the rest of the
 * entry is allocated.
 */
import { UsageError } from '../vm-core/errors.js';
import { ARRAY_BASE } from '../vm-core/layout.js';
import type { Mutator } from '../vm-core/mutator.js';
import { TypeRegistry } from '../vm-core/type-registry.js';
import type { Workload, WorkloadContext, WorkloadResult } from './workload.js';
import { unitInterval, xorshift32 } from './xorshift.js';

// Reference slots of Entry and Payload.
const ENTRY_KEY = 0;
const ENTRY_VALUE = 1;
const ENTRY_PREV = 2;
const ENTRY_NEXT = 3;
const ENTRY_HNEXT = 4;
const PAYLOAD_ITEMS = 0;
const ITEMS_LENGTH = 8;
/** The golden-ratio multiplier of the bucket hash: Math.imul(id, 0x9E3779B1) >>> shift. */
const HASH_MULTIPLIER = 0x9e3779b1 | 0;
const MAX_BUCKET_BITS = 28;
/**
 * Word offset of cdf[0]; cdf[i] is at CDF_BASE + 2i. A module-local copy of
 * ARRAY_BASE: under vitest's module runner an imported binding is a getter
 * call at every use, which the binary search would pay 20 times per draw.
 */
const CDF_BASE = ARRAY_BASE;

interface LruTypes {
  key: number;
  small: number;
  payload: number;
  entry: number;
  items: number;
  buckets: number;
  cdf: number;
}

function registerTypes(types: TypeRegistry): LruTypes {
  return {
    key: types.struct('Key', 0, 1),
    small: types.struct('Small', 0, 1),
    payload: types.struct('Payload', 1, 1),
    entry: types.struct('Entry', 5, 0),
    items: types.refArray('Small[]'),
    buckets: types.refArray('Entry[]'),
    cdf: types.dataArray('double[]', 2),
  };
}

/** Bucket count (a power of two ≥ capacity) and its log2, as the reference computes them. */
function bucketGeometry(capacity: number): { buckets: number; bits: number } {
  let buckets = 1;
  let bits = 0;
  while (buckets < capacity) {
    buckets <<= 1;
    bits++;
  }
  return { buckets, bits };
}

function checkParams(p: Record<string, number>): void {
  if (!(p.capacity >= 2 && p.capacity <= 1 << MAX_BUCKET_BITS)) {
    throw new UsageError(`lru-cache: capacity=${p.capacity} must be in 2..${1 << MAX_BUCKET_BITS}`);
  }
  if (!(p.ops >= 0)) throw new UsageError(`lru-cache: ops=${p.ops} must be at least 0`);
  if (!(p.keyspaceFactor >= 1)) throw new UsageError(`lru-cache: keyspaceFactor=${p.keyspaceFactor} must be at least 1`);
  if (!(p.capacity * p.keyspaceFactor <= 0x3fffffff)) {
    throw new UsageError(`lru-cache: capacity × keyspaceFactor = ${p.capacity * p.keyspaceFactor} keys is too many`);
  }
}

/** One run of the program against one mutator: the cache's state and operations. */
class LruCacheProgram {
  private readonly keyId: number;
  private readonly smallValue: number;
  private readonly payloadVersion: number;
  private readonly hashShift: number;
  // Root slots of the globals and of the parts of an entry under construction.
  private readonly cdfSlot: number;
  private readonly bucketsSlot: number;
  private readonly headSlot: number;
  private readonly tailSlot: number;
  private readonly keySlot: number;
  private readonly itemsSlot: number;
  private readonly payloadSlot: number;
  size = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly m: Mutator, types: TypeRegistry, private readonly t: LruTypes, bucketBits: number) {
    this.keyId = types.dataOffset(t.key, 0);
    this.smallValue = types.dataOffset(t.small, 0);
    this.payloadVersion = types.dataOffset(t.payload, 0);
    this.hashShift = 32 - bucketBits;
    this.cdfSlot = m.push(0);
    this.bucketsSlot = m.push(0);
    this.headSlot = m.push(0);
    this.tailSlot = m.push(0);
    this.keySlot = m.push(0);
    this.itemsSlot = m.push(0);
    this.payloadSlot = m.push(0);
  }

  /** Allocates the Zipf CDF over `keySpace` ranks; returns its total (cdf[keySpace−1]). */
  buildCdf(keySpace: number): number {
    const m = this.m;
    const cdf = m.allocArray(this.t.cdf, keySpace);
    m.set(this.cdfSlot, cdf);
    let acc = 0;
    for (let i = 0; i < keySpace; i++) {
      acc += 1.0 / (i + 1);
      m.setF64(cdf, CDF_BASE + 2 * i, acc);
    }
    return acc;
  }

  allocBuckets(count: number): void {
    this.m.set(this.bucketsSlot, this.m.allocArray(this.t.buckets, count));
  }

  /** The smallest rank i with cdf[i] > u (binary search). */
  zipfRank(u: number, keySpace: number): number {
    const m = this.m;
    const cdf = m.get(this.cdfSlot);
    let lo = 0;
    let hi = keySpace - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (m.getF64(cdf, CDF_BASE + 2 * mid) > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Allocates a Key and leaves it in the key slot; returns it. */
  newKey(id: number): number {
    const m = this.m;
    const key = m.alloc(this.t.key);
    m.setI32(key, this.keyId, id);
    m.set(this.keySlot, key);
    return key;
  }

  bucketOf(id: number): number {
    return Math.imul(id, HASH_MULTIPLIER) >>> this.hashShift;
  }

  /** The entry whose key has the id of `key`, or 0. */
  lookup(key: number): number {
    const m = this.m;
    const id = m.getI32(key, this.keyId);
    let e = m.getRef(m.get(this.bucketsSlot), this.bucketOf(id));
    while (e !== 0) {
      if (m.getI32(m.getRef(e, ENTRY_KEY), this.keyId) === id) return e;
      e = m.getRef(e, ENTRY_HNEXT);
    }
    return 0;
  }

  /**
   * A new entry for the key in the key slot, with Smalls firstValue + i; in
   * the reference's order: items, its 8 Smalls, the Payload, the Entry.
   */
  newEntry(firstValue: number): number {
    const m = this.m;
    const t = this.t;
    m.set(this.itemsSlot, m.allocArray(t.items, ITEMS_LENGTH));
    for (let i = 0; i < ITEMS_LENGTH; i++) {
      const small = m.alloc(t.small);
      m.setI32(small, this.smallValue, firstValue + i);
      m.setRef(m.get(this.itemsSlot), i, small);
    }
    const payload = m.alloc(t.payload);
    m.setRef(payload, PAYLOAD_ITEMS, m.get(this.itemsSlot));
    m.set(this.payloadSlot, payload);
    const entry = m.alloc(t.entry);
    m.setRef(entry, ENTRY_KEY, m.get(this.keySlot));
    m.setRef(entry, ENTRY_VALUE, m.get(this.payloadSlot));
    m.set(this.keySlot, 0);
    m.set(this.itemsSlot, 0);
    m.set(this.payloadSlot, 0);
    return entry;
  }

  /** Puts e at the head of the LRU list. */
  linkFront(e: number): void {
    const m = this.m;
    const head = m.get(this.headSlot);
    m.setRef(e, ENTRY_PREV, 0);
    m.setRef(e, ENTRY_NEXT, head);
    if (head !== 0) m.setRef(head, ENTRY_PREV, e);
    else m.set(this.tailSlot, e);
    m.set(this.headSlot, e);
  }

  unlink(e: number): void {
    const m = this.m;
    const prev = m.getRef(e, ENTRY_PREV);
    const next = m.getRef(e, ENTRY_NEXT);
    if (prev !== 0) m.setRef(prev, ENTRY_NEXT, next);
    else m.set(this.headSlot, next);
    if (next !== 0) m.setRef(next, ENTRY_PREV, prev);
    else m.set(this.tailSlot, prev);
    m.setRef(e, ENTRY_PREV, 0);
    m.setRef(e, ENTRY_NEXT, 0);
  }

  /** Pushes e at the head of its bucket's chain. */
  hashInsert(e: number): void {
    const m = this.m;
    const b = this.bucketOf(m.getI32(m.getRef(e, ENTRY_KEY), this.keyId));
    const buckets = m.get(this.bucketsSlot);
    m.setRef(e, ENTRY_HNEXT, m.getRef(buckets, b));
    m.setRef(buckets, b, e);
  }

  hashRemove(e: number): void {
    const m = this.m;
    const b = this.bucketOf(m.getI32(m.getRef(e, ENTRY_KEY), this.keyId));
    const buckets = m.get(this.bucketsSlot);
    let p = m.getRef(buckets, b);
    if (p === e) {
      m.setRef(buckets, b, m.getRef(e, ENTRY_HNEXT));
      m.setRef(e, ENTRY_HNEXT, 0);
      return;
    }
    while (m.getRef(p, ENTRY_HNEXT) !== e) p = m.getRef(p, ENTRY_HNEXT);
    m.setRef(p, ENTRY_HNEXT, m.getRef(e, ENTRY_HNEXT));
    m.setRef(e, ENTRY_HNEXT, 0);
  }

  /** Inserts a new entry for the key in the key slot at the head of the list and its bucket. */
  insert(firstValue: number): void {
    const e = this.newEntry(firstValue);
    this.linkFront(e);
    this.hashInsert(e);
    this.size++;
  }

  /** Unlinks the least recently used entry from the list and its chain; returns its key id. */
  evictTail(): number {
    const m = this.m;
    const victim = m.get(this.tailSlot);
    this.unlink(victim);
    this.hashRemove(victim);
    this.size--;
    return m.getI32(m.getRef(victim, ENTRY_KEY), this.keyId);
  }

  /**
   * One request (operation op, Zipf draw u): allocate the request Key, look it
   * up; a hit moves it to the front and updates its payload, a miss inserts a
   * new entry and evicts the tail when over capacity. Returns what the
   * operation adds to the checksum.
   */
  request(op: number, u: number, keySpace: number, capacity: number): number {
    const key = this.newKey(this.zipfRank(u, keySpace));
    const e = this.lookup(key);
    if (e !== 0) {
      this.hits++;
      return this.hit(e, op);
    }
    this.misses++;
    this.insert(op);
    return this.size > capacity ? this.evictTail() : 0;
  }

  /** A hit on entry e at operation op; returns the value read into the checksum. */
  hit(e: number, op: number): number {
    const m = this.m;
    m.set(this.keySlot, 0); // the request key is garbage on a hit
    if (e !== m.get(this.headSlot)) {
      this.unlink(e);
      this.linkFront(e);
    }
    const payload = m.getRef(e, ENTRY_VALUE);
    const read = m.getI32(m.getRef(m.getRef(payload, PAYLOAD_ITEMS), (op + 1) & 7), this.smallValue);
    m.set(this.payloadSlot, payload);
    const small = m.alloc(this.t.small);
    m.setI32(small, this.smallValue, op);
    const p = m.get(this.payloadSlot);
    m.set(this.payloadSlot, 0);
    m.setRef(m.getRef(p, PAYLOAD_ITEMS), op & 7, small);
    m.setI32(p, this.payloadVersion, m.getI32(p, this.payloadVersion) + 1);
    return read;
  }
}

function run(ctx: WorkloadContext): WorkloadResult {
  const p = ctx.params;
  checkParams(p);
  const { capacity, ops, keyspaceFactor } = p;
  const m = ctx.mutator;
  const types = registerTypes(ctx.types);
  const frame = m.frame();
  try {
    const keySpace = capacity * keyspaceFactor;
    const geometry = bucketGeometry(capacity);
    const cache = new LruCacheProgram(m, ctx.types, types, geometry.bits);
    let rng = p.seed | 0;

    // 1-2. Zipf CDF and hash buckets
    const total = cache.buildCdf(keySpace);
    cache.allocBuckets(geometry.buckets);

    // 3. prefill: id 0 ends up at the head
    for (let id = capacity - 1; id >= 0; id--) {
      cache.newKey(id);
      cache.insert(-8 - id);
    }

    // 4. operations, one request each. Latency hooks are checked once, here:
    //    the default loop has no per-request test and no call.
    const latency = ctx.latency;
    let checksum = 0;
    if (latency === undefined) {
      for (let op = 0; op < ops; op++) {
        rng = xorshift32(rng);
        checksum += cache.request(op, unitInterval(rng) * total, keySpace, capacity);
      }
    } else {
      for (let op = 0; op < ops; op++) {
        latency.begin();
        rng = xorshift32(rng);
        checksum += cache.request(op, unitInterval(rng) * total, keySpace, capacity);
        latency.end();
      }
    }
    const { hits, misses } = cache;
    return { hits, misses, checksum, size: cache.size };
  } finally {
    m.popFrame(frame);
  }
}

/** Live bytes at the peak: capacity + 1 entries (before an eviction), the CDF and the buckets. */
function expectedLiveBytes(p: Record<string, number>): number {
  const types = new TypeRegistry();
  const t = registerTypes(types);
  const bytes = (id: number): number => types.info(id).sizeWords * 4;
  const entryBytes = bytes(t.entry) + bytes(t.key) + bytes(t.payload) + types.arrayWords(t.items, ITEMS_LENGTH) * 4 + ITEMS_LENGTH * bytes(t.small);
  const cdfBytes = types.arrayWords(t.cdf, Math.max(0, p.capacity * p.keyspaceFactor)) * 4;
  const bucketBytes = types.arrayWords(t.buckets, bucketGeometry(p.capacity).buckets) * 4;
  return (p.capacity + 1) * entryBytes + cdfBytes + bucketBytes;
}

export const lruCache: Workload = {
  name: 'lru-cache',
  description: 'LRU cache with an intrusive hash table under Zipf-distributed keys: a large, slowly changing live set with old-to-young stores',
  params: {
    capacity: { default: 200000, description: 'entries the cache holds' },
    ops: { default: 5000000, description: 'lookups (each allocates a request key; a miss allocates an entry and evicts)' },
    keyspaceFactor: { default: 4, description: 'key space = capacity × this (Zipf s = 1 over the ranks)' },
    seed: { default: 42, description: 'xorshift32 seed' },
  },
  expectedLiveBytes,
  /** Each operation is one request (latency hooks around it when asked). */
  requests: (p) => p.ops,
  run,
};
