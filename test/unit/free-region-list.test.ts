/**
 * The free-region list (vm-core/free-region-list.ts): lowest address first,
 * no region listed twice, runs of contiguous free regions for humongous
 * objects, removal of a claimed run, and taking regions by a flag (residency:
 * see region-residency.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { FreeRegionList } from '../../vm-core/free-region-list.js';

function listOf(count: number, regions: number[]): FreeRegionList {
  const list = new FreeRegionList(count);
  for (const r of regions) list.add(r);
  return list;
}

describe('FreeRegionList', () => {
  it('hands out the lowest region first when filled high-to-low (as the heap does)', () => {
    const list = listOf(8, [7, 6, 5, 4, 3, 2, 1, 0]);
    expect(list.length).toBe(8);
    expect([list.take(), list.take(), list.take()]).toEqual([0, 1, 2]);
    expect(list.length).toBe(5);
    expect(list.has(0)).toBe(false);
    expect(list.has(3)).toBe(true);
  });

  it('sortLowFirst restores low-first order after regions come back in any order', () => {
    const list = listOf(16, [5, 12, 2, 7]);
    list.sortLowFirst();
    expect([list.take(), list.take(), list.take(), list.take()]).toEqual([2, 5, 7, 12]);
  });

  it('returns -1 when empty', () => {
    const list = listOf(4, [1]);
    expect(list.take()).toBe(1);
    expect(list.take()).toBe(-1);
  });

  it('refuses to list a region twice', () => {
    const list = listOf(4, [2]);
    expect(() => list.add(2)).toThrow(/already free/);
  });

  it('finds the lowest run of n contiguous free regions', () => {
    const list = listOf(12, [1, 3, 4, 6, 7, 8, 10, 11]);
    expect(list.findRun(1, 12)).toBe(1);
    expect(list.findRun(2, 12)).toBe(3);
    expect(list.findRun(3, 12)).toBe(6);
    expect(list.findRun(4, 12)).toBe(-1);
  });

  it('removeRun takes a run out and keeps the rest in order', () => {
    const list = listOf(12, [11, 10, 8, 7, 6, 4, 3, 1]);
    list.removeRun(6, 3);
    expect([6, 7, 8].map((r) => list.has(r))).toEqual([false, false, false]);
    expect(list.length).toBe(5);
    const rest = [];
    for (let r = list.take(); r >= 0; r = list.take()) rest.push(r);
    expect(rest).toEqual([1, 3, 4, 10, 11]);
  });

  it('removeRun refuses a run that is not all free', () => {
    const list = listOf(8, [2, 3, 5]);
    expect(() => list.removeRun(2, 3)).toThrow(/region 4 of a claimed run is not free/);
  });
});

describe('FreeRegionList preferences', () => {
  it('takePreferring hands out the lowest region with the wanted flag, else the lowest of all', () => {
    const list = listOf(8, [7, 6, 5, 4, 3, 2, 1]);
    const flags = Uint8Array.from([0, 0, 1, 0, 1, 0, 0, 0]);
    expect(list.takePreferring(flags, 1)).toBe(2);
    expect(list.takePreferring(flags, 1)).toBe(4);
    expect(list.takePreferring(flags, 1)).toBe(1);
    expect(list.has(1) || list.has(2) || list.has(4)).toBe(false);
    expect(list.takePreferring(flags, 0)).toBe(3);
    const rest = [];
    for (let r = list.take(); r >= 0; r = list.take()) rest.push(r);
    expect(rest).toEqual([5, 6, 7]);
  });

  it('takeAllPreferring empties the list, flagged regions first, each group low-first', () => {
    const list = listOf(8, [7, 6, 5, 3, 2, 0]);
    const flags = Uint8Array.from([0, 0, 0, 1, 0, 0, 1, 1]);
    const into = new Int32Array(8);
    expect(list.takeAllPreferring(into, flags, 1)).toBe(6);
    expect([...into.subarray(0, 6)]).toEqual([3, 6, 7, 0, 2, 5]);
    expect(list.length).toBe(0);
    expect(list.has(3)).toBe(false);
    list.add(3);
    expect(list.take()).toBe(3);
  });

  it('countFlagged and highestFlagged read the list without changing it', () => {
    const list = listOf(8, [7, 6, 4, 2, 1]);
    const flags = Uint8Array.from([0, 1, 0, 1, 1, 1, 0, 0]);
    expect(list.countFlagged(flags, 1)).toBe(2);
    expect(list.countFlagged(flags, 0)).toBe(3);
    expect(list.highestFlagged(flags, 0)).toBe(7);
    expect(list.highestFlagged(flags, 1)).toBe(4);
    expect(list.length).toBe(5);
    expect(listOf(8, [6, 2]).highestFlagged(flags, 1)).toBe(-1);
  });
});
