/**
 * Side metadata (vm-core/side-metadata.ts, vm-core/shared-layout.ts): the
 * start-up check that no two tables of a shared layout overlap, the real spec
 * table passing it, table sizes, and the mark-bitmap helpers (one bit per two
 * words, since objects start at even words).
 */
import { describe, expect, it } from 'vitest';
import { RegionTable } from '../../vm-core/region-table.js';
import { type PlacedArray, checkNoOverlap, placeArrays } from '../../vm-core/shared-layout.js';
import {
  SIDE_METADATA_SPECS, SideMetadata, arraySpecFor, clearMarks, isMarked, nextMarked, setMark,
} from '../../vm-core/side-metadata.js';
import { TypeRegistry } from '../../vm-core/type-registry.js';

const placed = (name: string, byteOffset: number, byteLength: number): PlacedArray =>
  ({ name, kind: 'u8', length: byteLength, byteOffset, byteLength });

describe('checkNoOverlap', () => {
  it('throws for overlapping specs, naming both', () => {
    expect(() => checkNoOverlap([placed('a', 0, 16), placed('b', 8, 8)])).toThrow(/'a' \[0, 16\) overlaps 'b' at 8/);
  });

  it('throws whatever the order of the specs', () => {
    expect(() => checkNoOverlap([placed('late', 100, 50), placed('early', 0, 120)])).toThrow(/overlaps/);
  });

  it('throws when one table lies inside another', () => {
    expect(() => checkNoOverlap([placed('outer', 0, 64), placed('inner', 16, 8)])).toThrow(/overlaps/);
  });

  it('accepts adjacent tables', () => {
    expect(() => checkNoOverlap([placed('a', 0, 8), placed('b', 8, 8), placed('c', 16, 1)])).not.toThrow();
  });

  it('the real side-metadata spec table passes for many heap sizes', () => {
    for (const heapBytes of [16 * 1024, 64 * 1024, 1 << 20, 256 << 20, 1 << 30]) {
      const { placed: p } = placeArrays(SIDE_METADATA_SPECS.map((s) => arraySpecFor(s, heapBytes)));
      expect(() => checkNoOverlap(p)).not.toThrow();
      const meta = new SideMetadata(heapBytes);
      expect(() => checkNoOverlap(meta.arrays.placed)).not.toThrow();
    }
  });

  it('the region table and type registry layouts pass too', () => {
    expect(() => checkNoOverlap(new RegionTable(2048, 15).arrays.placed)).not.toThrow();
    expect(() => checkNoOverlap(new TypeRegistry().arrays.placed)).not.toThrow();
  });
});

describe('side metadata sizes', () => {
  it('one mark bit per 8 heap bytes, one card byte and one block offset per 512 heap bytes', () => {
    const heapBytes = 256 * 1024;
    const meta = new SideMetadata(heapBytes);
    expect(meta.markBitmap.length).toBe(heapBytes / 8 / 32);
    expect(meta.prevBitmap.length).toBe(heapBytes / 8 / 32);
    expect(meta.cards.length).toBe(heapBytes / 512);
    expect(meta.blockOffsets.length).toBe(heapBytes / 512);
  });
});

describe('mark bitmap helpers', () => {
  it('setMark marks once; isMarked sees it; neighbours stay clear', () => {
    const bitmap = new Int32Array(64);
    for (const ref of [0, 2, 62, 64, 126, 1000, 4094]) {
      expect(isMarked(bitmap, ref)).toBe(false);
      expect(setMark(bitmap, ref)).toBe(true);
      expect(setMark(bitmap, ref)).toBe(false);
      expect(isMarked(bitmap, ref)).toBe(true);
    }
    expect(isMarked(bitmap, 4)).toBe(false);
    expect(isMarked(bitmap, 998)).toBe(false);
    expect(isMarked(bitmap, 1002)).toBe(false);
  });

  it('bit 31 of a bitmap word works (word 62 of each 64)', () => {
    const bitmap = new Int32Array(2);
    setMark(bitmap, 62);
    expect(bitmap[0]).toBe(1 << 31);
    expect(isMarked(bitmap, 62)).toBe(true);
    expect(nextMarked(bitmap, 0, 128)).toBe(62);
  });

  it('nextMarked finds the first mark at or after from, and -1 when none is below to', () => {
    const bitmap = new Int32Array(64);
    for (const ref of [10, 200, 202, 1500]) setMark(bitmap, ref);
    expect(nextMarked(bitmap, 0, 4096)).toBe(10);
    expect(nextMarked(bitmap, 10, 4096)).toBe(10);
    expect(nextMarked(bitmap, 12, 4096)).toBe(200);
    expect(nextMarked(bitmap, 202, 4096)).toBe(202);
    expect(nextMarked(bitmap, 204, 4096)).toBe(1500);
    expect(nextMarked(bitmap, 204, 1500)).toBe(-1);
    expect(nextMarked(bitmap, 1502, 4096)).toBe(-1);
  });

  it('clearMarks clears exactly [from, to), across ragged bitmap-word ends', () => {
    const bitmap = new Int32Array(64);
    for (let ref = 0; ref < 4096; ref += 2) setMark(bitmap, ref);
    clearMarks(bitmap, 60, 330);
    for (let ref = 0; ref < 4096; ref += 2) expect(isMarked(bitmap, ref)).toBe(ref < 60 || ref >= 330);
    clearMarks(bitmap, 1024, 2048);
    expect(isMarked(bitmap, 1022)).toBe(true);
    expect(isMarked(bitmap, 1024)).toBe(false);
    expect(isMarked(bitmap, 2046)).toBe(false);
    expect(isMarked(bitmap, 2048)).toBe(true);
  });
});
