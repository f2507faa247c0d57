/**
 * lru-cache on V8's own heap: heaplab's native-JS port of its public workload,
 * written from the workload spec (reference-workloads/README.md), for running
 * under `node --trace-gc`.
 *
 *   1. cdf       cdf[i] = sum_{j<=i} 1/(j+1) over keySpace = capacity * keyspace-factor
 *                ranks (Zipf, s = 1), a Float64Array (off V8's heap)
 *   2. buckets   a JS array of nb entries (nb = smallest power of two >= capacity),
 *                chained via hnext; bucket(id) = Math.imul(id, 0x9E3779B1) >>> (32 - log2 nb)
 *   3. prefill   id = capacity-1 down to 0: a new entry for Key(id), values (-8-id)+i
 *   4. ops       per op: draw a Zipf rank with xorshift32 (13/17/5), allocate the request
 *                Key; a hit moves the entry to the LRU head, reads items[(op+1)&7].v into
 *                the checksum, stores a new Small(op) into items[op&7] (old -> young) and
 *                bumps version; a miss links a new entry at the head (values op+i) and,
 *                over capacity, evicts the tail, adding its key id to the checksum
 *
 * An entry is allocated items (new Array(8)) and its Smalls first, then
 * Payload, then Entry: about 504 B in V8 11.
 * Result values (print order): hits, misses, checksum, size.
 *
 * Usage: node lru-cache.js [--capacity=200000] [--ops=5000000] [--keyspace-factor=4]
 *        [--seed=42] [--iterations=1]
 */
import { runIterations } from './harness.js';

const ITEMS = 8;
const GOLDEN = 0x9e3779b1;

class Key { constructor(id) { this.id = id; } }
class Small { constructor(v) { this.v = v; } }
class Payload { constructor(items) { this.items = items; this.version = 0; } }
class Entry {
  constructor(key, value) {
    this.key = key;
    this.value = value;
    this.prev = null;
    this.next = null;
    this.hnext = null;
  }
}

/** An intrusive hash table chained through hnext plus an LRU list through prev/next. */
class Cache {
  constructor(capacity) {
    let nb = 1;
    let bits = 0;
    while (nb < capacity) { nb *= 2; bits++; }
    this.buckets = new Array(nb).fill(null);
    this.hashShift = 32 - bits;
    this.head = null;
    this.tail = null;
    this.size = 0;
  }

  bucketOf(id) { return Math.imul(id, GOLDEN) >>> this.hashShift; }

  find(id) {
    for (let e = this.buckets[this.bucketOf(id)]; e !== null; e = e.hnext) {
      if (e.key.id === id) return e;
    }
    return null;
  }

  pushFront(e) {
    e.prev = null;
    e.next = this.head;
    if (this.head !== null) this.head.prev = e;
    else this.tail = e;
    this.head = e;
  }

  unlinkFromList(e) {
    if (e.prev !== null) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = null;
    e.next = null;
  }

  insertIntoChain(e) {
    const b = this.bucketOf(e.key.id);
    e.hnext = this.buckets[b];
    this.buckets[b] = e;
  }

  removeFromChain(e) {
    const b = this.bucketOf(e.key.id);
    let p = this.buckets[b];
    if (p === e) {
      this.buckets[b] = e.hnext;
    } else {
      while (p.hnext !== e) p = p.hnext;
      p.hnext = e.hnext;
    }
    e.hnext = null;
  }
}

/** A new entry for `key` whose Smalls hold first, first+1, ..., first+7 (items and Smalls, Payload, Entry). */
function newEntry(key, first) {
  const items = new Array(ITEMS);
  for (let i = 0; i < ITEMS; i++) items[i] = new Small(first + i);
  return new Entry(key, new Payload(items));
}

function lruCache(p) {
  const keySpace = p.capacity * p['keyspace-factor'];
  const cdf = new Float64Array(keySpace);
  let sum = 0;
  for (let i = 0; i < keySpace; i++) {
    sum += 1.0 / (i + 1);
    cdf[i] = sum;
  }
  const total = sum;

  const cache = new Cache(p.capacity);
  for (let id = p.capacity - 1; id >= 0; id--) {
    const e = newEntry(new Key(id), -8 - id);
    cache.pushFront(e);
    cache.insertIntoChain(e);
    cache.size++;
  }

  let rng = p.seed | 0;
  let hits = 0;
  let misses = 0;
  let checksum = 0;
  for (let op = 0; op < p.ops; op++) {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    const target = (rng >>> 0) / 4294967296.0 * total;
    let lo = 0;
    let hi = keySpace - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    const request = new Key(lo);
    let e = cache.find(request.id);
    if (e !== null) {
      hits++;
      if (e !== cache.head) {
        cache.unlinkFromList(e);
        cache.pushFront(e);
      }
      const payload = e.value;
      checksum += payload.items[(op + 1) & 7].v;
      payload.items[op & 7] = new Small(op);
      payload.version++;
    } else {
      misses++;
      e = newEntry(request, op);
      cache.pushFront(e);
      cache.insertIntoChain(e);
      cache.size++;
      if (cache.size > p.capacity) {
        const victim = cache.tail;
        cache.unlinkFromList(victim);
        cache.removeFromChain(victim);
        cache.size--;
        checksum += victim.key.id;
      }
    }
  }
  return { hits, misses, checksum, size: cache.size };
}

runIterations('lru-cache', { capacity: 200000, ops: 5000000, 'keyspace-factor': 4, seed: 42 }, lruCache);
