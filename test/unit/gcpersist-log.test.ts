/**
 * The eager write-through log (collectors/gcpersist/eager-log.ts) on its own:
 * batches round-trip; a torn last batch (short, or failing its CRC) is
 * ignored and everything before it replays; a log of another epoch or image
 * is stale; batching: one fdatasync per `batch` stores, nothing written
 * before a batch is full; a reset truncates.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EagerLog, REC_OBJECT, REC_ROOT, REC_STORE, REC_STORE64, nameWords, readEagerLog, wordsName } from '../../collectors/gcpersist/eager-log.js';

const work = fs.mkdtempSync(join(tmpdir(), 'heaplab-wal-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
const ID = '0123456789abcdef';

describe('eager log', () => {
  it('round-trips stores, objects and roots in order, one batch per `batch` stores', () => {
    const path = join(work, 'a.wal');
    const log = new EagerLog(path, 2);
    log.reset(7, ID);
    log.object(100, new Int32Array([1 << 8, 0, 5, 6]), false);
    log.store(102, 42);
    expect(readEagerLog(path, 7, ID).batches).toHaveLength(0); // half a batch: not written yet
    log.store64(104, 1, 2);
    log.root('cache', 100, null);
    log.store(103, 9);
    log.store(105, 1);
    log.close(); // flushes the pending half batch
    const r = readEagerLog(path, 7, ID);
    expect(r.status).toBe('ok');
    expect(r.tornTail).toBe(false);
    expect(r.batches).toHaveLength(3);
    expect(Array.from(r.batches[0])).toEqual([REC_OBJECT, 100, 4, 1 << 8, 0, 5, 6, REC_STORE, 102, 42, REC_STORE64, 104, 1, 2]);
    expect(r.batches[1][0]).toBe(REC_ROOT);
    expect(wordsName(r.batches[1], 4, 5)).toBe('cache');
    expect(Array.from(r.batches[1].subarray(6))).toEqual([REC_STORE, 103, 9]);
    expect(Array.from(r.batches[2])).toEqual([REC_STORE, 105, 1]);
    expect(log.stats.stores).toBe(5);
    expect(log.stats.syncs).toBe(3);
  });

  it('ignores a torn last batch and replays the prefix', () => {
    const path = join(work, 'b.wal');
    const log = new EagerLog(path, 1);
    log.reset(3, ID);
    for (let i = 0; i < 5; i++) log.store(200 + i, i);
    log.close();
    const full = fs.readFileSync(path);
    fs.writeFileSync(path, full.subarray(0, full.length - 3));
    const short = readEagerLog(path, 3, ID);
    expect(short.batches).toHaveLength(4);
    expect(short.tornTail).toBe(true);
    const flipped = Buffer.from(full);
    flipped[flipped.length - 2] ^= 1;
    fs.writeFileSync(path, flipped);
    const bad = readEagerLog(path, 3, ID);
    expect(bad.batches).toHaveLength(4);
    expect(bad.tornTail).toBe(true);
  });

  it('is stale for another epoch or image, absent when missing; a reset truncates', () => {
    const path = join(work, 'c.wal');
    const log = new EagerLog(path, 1);
    log.reset(4, ID);
    log.store(10, 1);
    expect(readEagerLog(path, 5, ID).status).toBe('stale');
    expect(readEagerLog(path, 4, 'ffffffffffffffff').status).toBe('stale');
    expect(readEagerLog(join(work, 'none.wal'), 4, ID).status).toBe('none');
    log.reset(5, ID);
    const r = readEagerLog(path, 5, ID);
    expect(r.status).toBe('ok');
    expect(r.batches).toHaveLength(0);
    log.close();
  });

  it('packs names as UTF-8 words', () => {
    for (const name of ['a', 'abcd', 'abcde', 'persistent-ü-root']) {
      const w = nameWords(name);
      expect(wordsName(w, 0, Buffer.byteLength(name))).toBe(name);
    }
  });
});
