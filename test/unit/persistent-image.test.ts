/**
 * The GCPersist image file (collectors/gcpersist): epochs round-trip with
 * their regions, roots, types and metadata; unchanged regions are carried by
 * reference, not rewritten; create never overwrites; every flipped byte is
 * either harmless (dead space), a torn superblock (recovery falls back to the
 * other slot) or detected (ImageCorruptError, one line); a torn append or a torn
 * superblock write recovers the previous epoch; recovery never modifies the
 * file; compaction keeps the epoch and its content.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32, crc32Js } from '../../collectors/gcpersist/crc32.js';
import { DATA_START, SLOT_BYTES, SUPERBLOCK_BYTES, blockBytes } from '../../collectors/gcpersist/image-format.js';
import {
  ImageCorruptError, PersistentImage, recoverImage, type EpochContent, type RecoveredImage, type TypeDescription,
} from '../../collectors/gcpersist/persistent-image.js';
import { readHead } from '../../collectors/gcpersist/recovery.js';
import { UsageError } from '../../vm-core/errors.js';

const work = fs.mkdtempSync(join(tmpdir(), 'heaplab-pimg-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let seq = 0;
const fresh = (): string => join(work, `img-${seq++}.hlp`);

const REGION_BYTES = 1024;
const REGION_WORDS = REGION_BYTES / 4;
const GEOMETRY = { regionBytes: REGION_BYTES, regionCount: 16 };
const TYPES: TypeDescription[] = [
  { name: '<invalid>', kind: 3, refs: 0, dataWords: 0, elementWords: 0 },
  { name: '<filler>', kind: 3, refs: 0, dataWords: 0, elementWords: 1 },
  { name: 'Node', kind: 1, refs: 2, dataWords: 3, elementWords: 0 },
  { name: 'Partition', kind: 2, refs: 0, dataWords: 0, elementWords: 1 },
];

function words(seed: number, n = REGION_WORDS): Int32Array {
  const w = new Int32Array(n);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < n; i++) { x = (Math.imul(x, 1103515245) + 12345) | 0; w[i] = x; }
  return w;
}

function hashFile(path: string): string {
  return createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

/** What an epoch should recover as. */
interface Expected { epoch: number; regions: Map<number, Int32Array>; roots: Record<string, number>; meta: Record<string, number | string> }

function expectRecovered(r: RecoveredImage, e: Expected): void {
  expect(r.epoch).toBe(e.epoch);
  expect(r.geometry).toEqual(GEOMETRY);
  expect([...r.regions.keys()].sort((a, b) => a - b)).toEqual([...e.regions.keys()].sort((a, b) => a - b));
  for (const [i, w] of e.regions) expect(Array.from(r.regions.get(i)!), `region ${i}`).toEqual(Array.from(w));
  expect(r.roots).toEqual(e.roots);
  expect(r.meta).toEqual(e.meta);
  expect(r.types).toEqual(e.epoch === 0 ? [] : TYPES);
}

/**
 * Writes three epochs: 1 writes regions 0, 1, 2; 2 rewrites region 1 (shorter)
 * and carries 0 and 2; 3 drops region 0, writes region 5, carries 1 and 2.
 */
function threeEpochs(path: string): { expected: Expected[]; img: PersistentImage; stats: ReturnType<PersistentImage['commit']>[] } {
  const img = PersistentImage.create(path, GEOMETRY);
  const expected: Expected[] = [{ epoch: 0, regions: new Map(), roots: {}, meta: {} }];
  const stats = [];
  const plan: { changed: [number, Int32Array][]; persistent: number[] }[] = [
    { changed: [[0, words(10)], [1, words(11)], [2, words(12)]], persistent: [0, 1, 2] },
    { changed: [[1, words(21, 100)]], persistent: [0, 1, 2] },
    { changed: [[5, words(35)]], persistent: [1, 2, 5] },
  ];
  for (const [k, p] of plan.entries()) {
    const epoch = k + 1;
    const prev = expected[expected.length - 1].regions;
    const regions = new Map<number, Int32Array>();
    for (const i of p.persistent) regions.set(i, p.changed.find(([c]) => c === i)?.[1] ?? prev.get(i)!);
    const roots = { cache: 1000 + epoch, lineage: 2 + epoch };
    const meta = { epoch, workload: 'resilient-cache' };
    const content: EpochContent = { regions: p.changed.map(([index, w]) => ({ index, words: w })), persistentRegions: p.persistent, roots, types: TYPES, meta };
    stats.push(img.commit(content));
    expected.push({ epoch, regions, roots, meta });
  }
  return { expected, img, stats };
}

describe('crc32', () => {
  it('is the IEEE CRC-32 (check value of "123456789") and the JS fallback agrees with the native one', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
    expect(crc32Js(Buffer.from('123456789'))).toBe(0xcbf43926);
    const data = Buffer.from(words(7, 1001).buffer).subarray(1, 3999);
    expect(crc32Js(data)).toBe(crc32(data));
    expect(crc32Js(data.subarray(100), crc32Js(data.subarray(0, 100)))).toBe(crc32(data));
  });
});

describe('PersistentImage round trip', () => {
  it('recovers every epoch with its regions, roots, types and meta; unchanged regions are carried, not rewritten', () => {
    const path = fresh();
    const { expected, img, stats } = threeEpochs(path);
    img.close();
    expectRecovered(recoverImage(path), expected[3]);
    expect(stats.map((s) => s.epoch)).toEqual([1, 2, 3]);
    expect(stats.map((s) => s.regionsWritten)).toEqual([1 * 3, 1, 1]);
    // epoch 2 writes one 100-word block plus its manifest and superblock: no copy of regions 0 and 2
    expect(stats[1].bytesWritten).toBeGreaterThanOrEqual(blockBytes(100));
    expect(stats[1].bytesWritten).toBeLessThan(blockBytes(100) + 1024);
    expect(stats[2].bytesWritten).toBeLessThan(blockBytes(REGION_WORDS) + 1024);
    expect(stats[0].bytesWritten).toBeGreaterThanOrEqual(3 * blockBytes(REGION_WORDS));
    for (const s of stats) expect(s.writeMs + s.syncMs).toBeGreaterThanOrEqual(0);
    expect(fs.statSync(path).size).toBe(stats[2].fileBytes);
  });

  it('a fresh image recovers as epoch 0 with nothing in it', () => {
    const path = fresh();
    PersistentImage.create(path, GEOMETRY).close();
    expectRecovered(recoverImage(path), { epoch: 0, regions: new Map(), roots: {}, meta: {} });
  });

  it('open appends further epochs after the newest one', () => {
    const path = fresh();
    const { expected, img } = threeEpochs(path);
    img.close();
    const again = PersistentImage.open(path);
    expect(again.epoch).toBe(3);
    expect(again.geometry).toEqual(GEOMETRY);
    const s = again.commit({ regions: [{ index: 2, words: words(42) }], persistentRegions: [1, 2, 5], roots: { cache: 7 }, types: TYPES });
    again.close();
    expect(s.epoch).toBe(4);
    const regions = new Map(expected[3].regions);
    regions.set(2, words(42));
    expectRecovered(recoverImage(path), { epoch: 4, regions, roots: { cache: 7 }, meta: {} });
  });

  it('create refuses an existing file and leaves it alone', () => {
    const path = fresh();
    fs.writeFileSync(path, 'precious');
    expect(() => PersistentImage.create(path, GEOMETRY)).toThrow(UsageError);
    expect(() => PersistentImage.create(path, GEOMETRY)).toThrow(/already exists; an image is never overwritten/);
    expect(fs.readFileSync(path, 'utf8')).toBe('precious');
    const img = fresh();
    PersistentImage.create(img, GEOMETRY).close();
    expect(() => PersistentImage.create(img, GEOMETRY)).toThrow(UsageError);
  });

  it('refuses content it cannot commit (UsageError), and the image stays usable', () => {
    const path = fresh();
    const img = PersistentImage.create(path, GEOMETRY);
    expect(() => img.commit({ regions: [], persistentRegions: [3], roots: {}, types: [] })).toThrow(/persistent region 3 is unchanged but epoch 0 holds no data/);
    expect(() => img.commit({ regions: [{ index: 3, words: words(1) }], persistentRegions: [], roots: {}, types: [] })).toThrow(/region 3 is written but not listed/);
    expect(() => img.commit({ regions: [{ index: 99, words: words(1) }], persistentRegions: [99], roots: {}, types: [] })).toThrow(UsageError);
    expect(() => img.commit({ regions: [{ index: 1, words: words(1, REGION_WORDS + 1) }], persistentRegions: [1], roots: {}, types: [] })).toThrow(/at most 256 words/);
    expect(() => img.commit({ regions: [], persistentRegions: [], roots: { x: -1 }, types: [] })).toThrow(/root 'x' is not a reference/);
    expect(img.epoch).toBe(0);
    expect(img.commit({ regions: [{ index: 3, words: words(3) }], persistentRegions: [3], roots: {}, types: [] }).epoch).toBe(1);
    img.close();
    expect(() => img.commit({ regions: [], persistentRegions: [3], roots: {}, types: [] })).toThrow(/closed/);
  });
});

describe('recoverImage on damaged images', () => {
  function damaged(mutate: (bytes: Buffer) => Buffer | void): { path: string; expected: Expected[]; hash: string } {
    const path = fresh();
    const { expected, img } = threeEpochs(path);
    img.close();
    const bytes = fs.readFileSync(path);
    fs.writeFileSync(path, mutate(bytes) ?? bytes);
    return { path, expected, hash: hashFile(path) };
  }

  function corrupt(path: string, hash: string): ImageCorruptError {
    let caught: unknown;
    try {
      recoverImage(path);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ImageCorruptError);
    expect(caught).toBeInstanceOf(UsageError);
    const err = caught as ImageCorruptError;
    expect(err.exitCode).toBe(2);
    expect(err.message).not.toMatch(/\n/);
    expect(err.message.startsWith(`${path}: `)).toBe(true);
    expect(hashFile(path)).toBe(hash);
    return err;
  }

  /** Where the blocks and manifest of the newest epoch lie, from the file itself. */
  function layout(path: string): { slot: number; manifest: [number, number]; blocks: { index: number; start: number; end: number; writtenBy: number }[] } {
    const fd = fs.openSync(path, 'r');
    try {
      const { sb, manifest } = readHead(fd, path);
      return {
        slot: sb.slot,
        manifest: [sb.manifestOffset, sb.manifestOffset + sb.manifestLength],
        blocks: manifest.entries.map((e) => ({ index: e.index, start: e.offset, end: e.offset + blockBytes(e.wordCount), writtenBy: e.writtenBy })),
      };
    } finally {
      fs.closeSync(fd);
    }
  }

  it('a flipped byte in a region block is refused, naming the region, the epoch and both CRCs; the file is unchanged', () => {
    const ref = fresh();
    threeEpochs(ref).img.close();
    const { blocks } = layout(ref);
    const carried = blocks.find((b) => b.index === 2)!; // written by epoch 1, carried into epoch 3
    const { path, hash } = damaged((b) => { b[carried.start + 16 + 40] ^= 0x10; });
    const err = corrupt(path, hash);
    expect(err.message).toMatch(/: region 2 of epoch 3 \(block written by epoch 1\) fails its checksum \(crc [0-9a-f]{8} != [0-9a-f]{8}\)$/);
    const fresh5 = blocks.find((b) => b.index === 5)!;
    const d2 = damaged((b) => { b[fresh5.end - 1] ^= 0x01; });
    expect(corrupt(d2.path, d2.hash).message).toMatch(/region 5 of epoch 3 fails its checksum/);
    const d3 = damaged((b) => { b[fresh5.start + 4] ^= 0x01; }); // the block header's region index
    expect(corrupt(d3.path, d3.hash).message).toMatch(/region 5 of epoch 3: the block at offset \d+ has a damaged header/);
  });

  it('a flipped byte in the manifest is refused, naming the manifest and both CRCs', () => {
    const ref = fresh();
    threeEpochs(ref).img.close();
    const { manifest } = layout(ref);
    const { path, hash } = damaged((b) => { b[manifest[0] + 30] ^= 0x80; });
    expect(corrupt(path, hash).message).toMatch(/: the manifest of epoch 3 fails its checksum \(crc [0-9a-f]{8} != [0-9a-f]{8}\)$/);
  });

  it('a flipped byte in the newest superblock falls back to the other valid slot (epoch 2); both slots bad is refused', () => {
    const ref = fresh();
    threeEpochs(ref).img.close();
    const { slot } = layout(ref);
    const { path, expected, hash } = damaged((b) => { b[slot * SLOT_BYTES + 20] ^= 0x04; });
    expectRecovered(recoverImage(path), expected[2]);
    expect(hashFile(path)).toBe(hash);
    const both = damaged((b) => { b[20] ^= 0x04; b[SLOT_BYTES + 20] ^= 0x04; });
    expect(corrupt(both.path, both.hash).message).toMatch(/no valid superblock \(slot A fails its checksum \(crc \w+ != \w+\); slot B fails its checksum/);
  });

  it('every single flipped byte is harmless, a torn superblock (previous epoch), or refused: never wrong content', () => {
    const ref = fresh();
    const { expected, img } = threeEpochs(ref);
    img.close();
    const pristine = fs.readFileSync(ref);
    const { slot, manifest, blocks } = layout(ref);
    const path = fresh();
    const counts = { newest: 0, previous: 0, refused: 0 };
    const offsets: number[] = [];
    for (let s = 0; s < 2; s++) for (let i = 0; i < SUPERBLOCK_BYTES + 8; i++) offsets.push(s * SLOT_BYTES + i);
    for (let o = DATA_START; o < pristine.length; o += o < pristine.length - 2048 ? 7 : 1) offsets.push(o);
    for (const o of offsets) {
      const bytes = Buffer.from(pristine);
      bytes[o] ^= 1 << (o % 8);
      fs.writeFileSync(path, bytes);
      const inNewestSlot = o >= slot * SLOT_BYTES && o < slot * SLOT_BYTES + SUPERBLOCK_BYTES;
      const referenced = (o >= manifest[0] && o < manifest[1]) || blocks.some((b) => o >= b.start && o < b.end);
      if (inNewestSlot) {
        expectRecovered(recoverImage(path), expected[2]);
        counts.previous++;
      } else if (referenced) {
        expect(() => recoverImage(path), `byte ${o}`).toThrow(ImageCorruptError);
        counts.refused++;
      } else {
        expectRecovered(recoverImage(path), expected[3]);
        counts.newest++;
      }
    }
    expect(counts.previous).toBe(SUPERBLOCK_BYTES);
    expect(counts.refused).toBeGreaterThan(100);
    expect(counts.newest).toBeGreaterThan(100);
  });

  it('a truncated file (torn append of the next epoch) recovers the previous epoch; cutting into a committed epoch is refused', () => {
    // the on-disk state of a crash during epoch 3's append: epoch 2's header, part of epoch 3's data
    const p2 = fresh();
    const img = PersistentImage.create(p2, GEOMETRY);
    img.commit({ regions: [{ index: 0, words: words(10) }, { index: 1, words: words(11) }], persistentRegions: [0, 1], roots: { a: 1 }, types: TYPES });
    img.commit({ regions: [{ index: 1, words: words(21) }], persistentRegions: [0, 1], roots: { a: 2 }, types: TYPES, meta: { k: 2 } });
    const afterTwo = fs.readFileSync(p2);
    img.commit({ regions: [{ index: 0, words: words(30) }, { index: 4, words: words(34) }], persistentRegions: [0, 1, 4], roots: { a: 3 }, types: TYPES });
    img.close();
    const afterThree = fs.readFileSync(p2);
    const two: Expected = { epoch: 2, regions: new Map([[0, words(10)], [1, words(21)]]), roots: { a: 2 }, meta: { k: 2 } };
    const path = fresh();
    for (const cut of [afterTwo.length, afterTwo.length + 1, afterTwo.length + 17, afterTwo.length + 2000, afterThree.length - 1]) {
      const torn = Buffer.concat([afterTwo.subarray(0, DATA_START), afterThree.subarray(DATA_START, cut)]);
      fs.writeFileSync(path, torn);
      const hash = hashFile(path);
      expectRecovered(recoverImage(path), two);
      expect(hashFile(path)).toBe(hash);
    }
    // a torn superblock write: the new slot's first bytes written, the rest still the old slot's
    const newSlot = layout(p2).slot;
    for (const k of [1, 8, 30, 63]) {
      const torn = Buffer.from(afterThree);
      afterTwo.copy(torn, newSlot * SLOT_BYTES + k, newSlot * SLOT_BYTES + k, newSlot * SLOT_BYTES + SUPERBLOCK_BYTES);
      fs.writeFileSync(path, torn);
      expect(recoverImage(path).epoch, `torn after ${k} bytes`).toBe(2);
    }
    // open after a torn append overwrites the torn tail and goes on
    fs.writeFileSync(path, Buffer.concat([afterTwo.subarray(0, DATA_START), afterThree.subarray(DATA_START, afterThree.length - 5)]));
    const reopened = PersistentImage.open(path);
    expect(reopened.epoch).toBe(2);
    reopened.commit({ regions: [{ index: 7, words: words(77) }], persistentRegions: [0, 1, 7], roots: { a: 9 }, types: TYPES });
    reopened.close();
    expectRecovered(recoverImage(path), { epoch: 3, regions: new Map([[0, words(10)], [1, words(21)], [7, words(77)]]), roots: { a: 9 }, meta: {} });
    // truncating into data that a valid superblock names is corruption, not a crash
    const d = damaged((b) => b.subarray(0, b.length - 10));
    expect(corrupt(d.path, d.hash).message).toMatch(/truncated: the manifest of epoch 3 \(bytes \d+\.\.\d+\) lies beyond the end of the file/);
  });

  it('a file that is not an image is refused with one line', () => {
    const text = fresh();
    fs.writeFileSync(text, 'x'.repeat(20_000));
    expect(corrupt(text, hashFile(text)).message).toBe(`${text}: not a heaplab image (no 'HLPIMG01' superblock)`);
    const empty = fresh();
    fs.writeFileSync(empty, '');
    expect(corrupt(empty, hashFile(empty)).message).toMatch(/not a heaplab image \(0 bytes, too short/);
    const missing = join(work, 'nowhere.hlp');
    expect(() => recoverImage(missing)).toThrow(`${missing}: cannot open the image (no such file)`);
    expect(() => PersistentImage.open(text)).toThrow(ImageCorruptError);
  });
});

describe('compaction', () => {
  it('rewrites only the newest epoch into a smaller file once most of it is dead, keeping the epoch and content', () => {
    const path = fresh();
    const img = PersistentImage.create(path, GEOMETRY, { compactMinBytes: 64 * 1024, compactDeadFraction: 0.5 });
    const all = [0, 1, 2, 3, 4, 5, 6, 7];
    let current = new Map<number, Int32Array>();
    let compactions = 0;
    let maxFile = 0;
    for (let k = 1; k <= 60; k++) {
      const changed = all.filter((i) => k === 1 || (i + k) % 4 === 0);
      for (const i of changed) current.set(i, words(k * 100 + i));
      current = new Map(current);
      const s = img.commit({ regions: changed.map((i) => ({ index: i, words: current.get(i)! })), persistentRegions: all, roots: { k }, types: TYPES, meta: { k } });
      if (s.compactMs > 0) compactions++;
      maxFile = Math.max(maxFile, s.fileBytes);
      expect(fs.statSync(path).size).toBe(s.fileBytes);
      if (k % 7 === 0) expectRecovered(recoverImage(path), { epoch: k, regions: current, roots: { k }, meta: { k } });
    }
    img.close();
    expect(compactions).toBeGreaterThan(2);
    expect(maxFile).toBeLessThan(3 * 64 * 1024);
    expect(fs.existsSync(`${path}.compact`)).toBe(false);
    expectRecovered(recoverImage(path), { epoch: 60, regions: current, roots: { k: 60 }, meta: { k: 60 } });
    const again = PersistentImage.open(path);
    expect(again.epoch).toBe(60);
    again.close();
  });
});
