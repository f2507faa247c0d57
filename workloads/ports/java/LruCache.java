/*
 * lru-cache on the JVM's own heap: heaplab's Java port of its public workload,
 * written from the workload spec (reference-workloads/README.md), for running
 * under HotSpot's collectors.
 *
 *   1. cdf       cdf[i] = sum_{j<=i} 1/(j+1) over keySpace = capacity * keyspace-factor
 *                ranks (Zipf, s = 1), an on-heap double[]
 *   2. buckets   Entry[nb], nb = smallest power of two >= capacity; chains via hnext,
 *                bucket(id) = (id * 0x9E3779B1 mod 2^32) >>> (32 - log2 nb)
 *   3. prefill   id = capacity-1 down to 0: a new entry for Key(id), values (-8-id)+i
 *   4. ops       per op: draw a Zipf rank with xorshift32 (13/17/5), allocate the request
 *                Key; a hit moves the entry to the LRU head, reads items[(op+1)&7].v into
 *                the checksum, stores a new Small(op) into items[op&7] (old -> young) and
 *                bumps version; a miss links a new entry at the head (values op+i) and,
 *                over capacity, evicts the tail, adding its key id to the checksum
 *
 * Objects (compressed oops): Key 16 B, Small 16 B, Payload 24 B, Entry 32 B, Small[8] 48 B;
 * an entry is allocated Entry, Payload, items, then its 8 Smalls.
 * Result values (print order): hits, misses, checksum, size. Defaults print
 * 4335071, 664929, 9806505189236, 200000.
 *
 * Usage: java LruCache [--capacity=200000] [--ops=5000000] [--keyspace-factor=4]
 *        [--seed=42] [--iterations=1]
 */
import java.util.LinkedHashMap;
import java.util.Map;

public final class LruCache {
    static final class Key {
        final int id;

        Key(int id) {
            this.id = id;
        }
    }

    static final class Small {
        final int v;

        Small(int v) {
            this.v = v;
        }
    }

    static final class Payload {
        Small[] items;
        int version;
    }

    static final class Entry {
        Key key;
        Payload value;
        Entry prev;
        Entry next;
        Entry hnext;
    }

    static final int ITEMS = 8;

    /** One cache: an intrusive hash table chained through hnext plus an LRU list through prev/next. */
    static final class Cache {
        final Entry[] buckets;
        final int hashShift;
        Entry head;
        Entry tail;
        int size;

        Cache(int capacity) {
            int nb = 1;
            int bits = 0;
            while (nb < capacity) {
                nb <<= 1;
                bits++;
            }
            buckets = new Entry[nb];
            hashShift = 32 - bits;
        }

        int bucketOf(int id) {
            return (id * 0x9E3779B1) >>> hashShift;
        }

        Entry find(int id) {
            for (Entry e = buckets[bucketOf(id)]; e != null; e = e.hnext) {
                if (e.key.id == id) return e;
            }
            return null;
        }

        void pushFront(Entry e) {
            e.prev = null;
            e.next = head;
            if (head != null) head.prev = e;
            else tail = e;
            head = e;
        }

        void unlinkFromList(Entry e) {
            if (e.prev != null) e.prev.next = e.next;
            else head = e.next;
            if (e.next != null) e.next.prev = e.prev;
            else tail = e.prev;
            e.prev = null;
            e.next = null;
        }

        void insertIntoChain(Entry e) {
            int b = bucketOf(e.key.id);
            e.hnext = buckets[b];
            buckets[b] = e;
        }

        void removeFromChain(Entry e) {
            int b = bucketOf(e.key.id);
            Entry p = buckets[b];
            if (p == e) {
                buckets[b] = e.hnext;
            } else {
                while (p.hnext != e) p = p.hnext;
                p.hnext = e.hnext;
            }
            e.hnext = null;
        }
    }

    /** A new entry for `key` whose Smalls hold first, first+1, ..., first+7 (Entry, Payload, items, Smalls). */
    static Entry newEntry(Key key, int first) {
        Entry e = new Entry();
        e.key = key;
        Payload payload = new Payload();
        e.value = payload;
        Small[] items = new Small[ITEMS];
        payload.items = items;
        for (int i = 0; i < ITEMS; i++) items[i] = new Small(first + i);
        return e;
    }

    static LinkedHashMap<String, Long> run(Map<String, Long> p) {
        int capacity = p.get("capacity").intValue();
        int ops = p.get("ops").intValue();
        int keySpace = capacity * p.get("keyspace-factor").intValue();
        int rng = p.get("seed").intValue();

        double[] cdf = new double[keySpace];
        double sum = 0;
        for (int i = 0; i < keySpace; i++) {
            sum += 1.0 / (i + 1);
            cdf[i] = sum;
        }
        double total = sum;

        Cache cache = new Cache(capacity);
        for (int id = capacity - 1; id >= 0; id--) {
            Entry e = newEntry(new Key(id), -8 - id);
            cache.pushFront(e);
            cache.insertIntoChain(e);
            cache.size++;
        }

        long hits = 0;
        long misses = 0;
        long checksum = 0;
        for (int op = 0; op < ops; op++) {
            rng ^= rng << 13;
            rng ^= rng >>> 17;
            rng ^= rng << 5;
            double target = (rng & 0xFFFFFFFFL) / 4294967296.0 * total;
            int lo = 0;
            int hi = keySpace - 1;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (cdf[mid] > target) hi = mid;
                else lo = mid + 1;
            }
            Key request = new Key(lo);
            Entry e = cache.find(request.id);
            if (e != null) {
                hits++;
                if (e != cache.head) {
                    cache.unlinkFromList(e);
                    cache.pushFront(e);
                }
                Payload payload = e.value;
                checksum += payload.items[(op + 1) & 7].v;
                payload.items[op & 7] = new Small(op);
                payload.version++;
            } else {
                misses++;
                e = newEntry(request, op);
                cache.pushFront(e);
                cache.insertIntoChain(e);
                cache.size++;
                if (cache.size > capacity) {
                    Entry victim = cache.tail;
                    cache.unlinkFromList(victim);
                    cache.removeFromChain(victim);
                    cache.size--;
                    checksum += victim.key.id;
                }
            }
        }

        LinkedHashMap<String, Long> values = new LinkedHashMap<>();
        values.put("hits", hits);
        values.put("misses", misses);
        values.put("checksum", checksum);
        values.put("size", (long) cache.size);
        return values;
    }

    public static void main(String[] args) {
        LinkedHashMap<String, Long> defaults = new LinkedHashMap<>();
        defaults.put("capacity", 200000L);
        defaults.put("ops", 5000000L);
        defaults.put("keyspace-factor", 4L);
        defaults.put("seed", 42L);
        PortHarness.main("lru-cache", args, defaults, LruCache::run);
    }
}
