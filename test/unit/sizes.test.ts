/**
 * Sizes (vm-core/sizes.ts): parsing sizes as users write them, G1-style
 * region ergonomics (heap / 2048 clamped to [64 KiB, 32 MiB]), and heap
 * geometries that are rejected.
 */
import { describe, expect, it } from 'vitest';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import { UsageError } from '../../vm-core/errors.js';
import { ergonomicRegionBytes, formatBytes, heapGeometry, parseSize } from '../../vm-core/sizes.js';
import { Vm } from '../../vm-core/vm.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

describe('parseSize', () => {
  it.each([
    ['256m', 256 * MiB], ['64k', 64 * KiB], ['1g', GiB], ['1048576', 1048576], ['64K', 64 * KiB],
    ['2MiB', 2 * MiB], ['512kb', 512 * KiB], ['1.5m', 1.5 * MiB], [' 8m ', 8 * MiB],
  ])('accepts %s', (text, bytes) => {
    expect(parseSize(text, '--heap')).toBe(bytes);
  });

  it.each(['12q', '', 'm', '-1k', '0', 'abc', '1 2m'])('rejects %j with a UsageError', (text) => {
    expect(() => parseSize(text, '--heap')).toThrow(UsageError);
  });

  it('names the option and gives examples', () => {
    expect(() => parseSize('12q', '--heap')).toThrow(/--heap: '12q' is not a size \(examples: 256m/);
  });
});

describe('region ergonomics', () => {
  it.each([
    [256 * MiB, 128 * KiB],
    [1 * GiB, 512 * KiB],
    [4 * GiB, 2 * MiB],
    [100 * MiB, 64 * KiB], // 50 KiB rounds down to 32 KiB, then clamped up
    [64 * MiB, 64 * KiB], // 32 KiB clamped up to the 64 KiB minimum
    [1 * MiB, 64 * KiB],
    [128 * GiB, 32 * MiB], // 64 MiB clamped down to the 32 MiB maximum
  ])('heap %d -> regions of %d bytes', (heap, region) => {
    expect(ergonomicRegionBytes(heap)).toBe(region);
  });
});

describe('heap geometry', () => {
  it('rounds the heap down to whole regions', () => {
    expect(heapGeometry(64 * KiB, 4 * KiB)).toEqual({ heapBytes: 64 * KiB, regionBytes: 4 * KiB, regionCount: 16 });
    expect(heapGeometry(70_000, 4 * KiB)).toEqual({ heapBytes: 17 * 4 * KiB, regionBytes: 4 * KiB, regionCount: 17 });
  });

  it('uses the ergonomic region size when none is given', () => {
    expect(heapGeometry(256 * MiB).regionBytes).toBe(128 * KiB);
    expect(heapGeometry(256 * MiB).regionCount).toBe(2048);
  });

  it('rejects heaps of fewer than 4 regions', () => {
    expect(() => heapGeometry(12 * KiB, 4 * KiB)).toThrow(UsageError);
    expect(() => heapGeometry(128 * KiB)).toThrow(/holds 2 region\(s\) of 64 KiB; at least 4 are needed/);
    expect(() => new Vm({ heapBytes: 8 * KiB, regionBytes: 4 * KiB, collector: epsilon })).toThrow(UsageError);
  });

  it('rejects region sizes that are not powers of two or smaller than two cards', () => {
    expect(() => heapGeometry(1 * MiB, 3000)).toThrow(UsageError);
    expect(() => heapGeometry(1 * MiB, 512)).toThrow(UsageError);
    expect(heapGeometry(1 * MiB, 1024).regionCount).toBe(1024);
  });

  it('rejects heaps larger than 4 GiB (references must stay below 2^30 words)', () => {
    expect(() => heapGeometry(8 * GiB)).toThrow(UsageError);
  });

  it('formats sizes for messages', () => {
    expect(formatBytes(64 * KiB)).toBe('64 KiB');
    expect(formatBytes(1536 * KiB)).toBe('1.5 MiB');
    expect(formatBytes(2 * GiB)).toBe('2 GiB');
    expect(formatBytes(100)).toBe('100 B');
  });
});
