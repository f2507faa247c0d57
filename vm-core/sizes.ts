/**
 * Byte sizes as users write them ("256m", "64k", "1g", "1048576") and the
 * G1-style region size ergonomics: heap / 2048, rounded down to a power of two,
 * clamped to [64 KiB, 32 MiB]. HotSpot's G1 aims at 2048 regions too but never
 * goes below 1 MiB (HeapRegionBounds' minimum region size), so for
 * heaps under 2 GiB its regions are larger than these: a 512 MiB heap has 512
 * regions of 1 MiB there, 2048 of 256 KiB here. The lower floor keeps small
 * heaps divided into enough regions (DESIGN.md); --region-size 1m gives G1's.
 */
import { UsageError } from './errors.js';
import * as layout from './layout.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { CARD_BYTES, MAX_HEAP_BYTES } = layout;

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

export const DEFAULT_REGION_COUNT = 2048;
export const MIN_ERGONOMIC_REGION_BYTES = 64 * KIB;
export const MAX_ERGONOMIC_REGION_BYTES = 32 * MIB;
/** Smallest region a user may ask for: two cards' worth of words at least, for tiny test heaps. */
export const MIN_REGION_BYTES = 2 * CARD_BYTES;
/** A heap must hold at least this many regions to be useful to a region collector. */
export const MIN_REGIONS = 4;

export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$/i.exec(text);
  if (!m) throw new UsageError(`${what}: '${text}' is not a size (examples: 256m, 64k, 1g, 1048576)`);
  const unit = m[2].toLowerCase();
  const scale = unit === 'k' ? KIB : unit === 'm' ? MIB : unit === 'g' ? GIB : unit === 't' ? 1024 * GIB : 1;
  const bytes = Math.floor(Number(m[1]) * scale);
  if (!Number.isFinite(bytes) || bytes <= 0) throw new UsageError(`${what}: '${text}' must be a positive size`);
  return bytes;
}

export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${(bytes / GIB).toFixed(bytes % GIB === 0 ? 0 : 2)} GiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1)} MiB`;
  if (bytes >= KIB) return `${(bytes / KIB).toFixed(bytes % KIB === 0 ? 0 : 1)} KiB`;
  return `${bytes} B`;
}

function floorPowerOfTwo(n: number): number {
  return 2 ** Math.floor(Math.log2(n));
}

export function ergonomicRegionBytes(heapBytes: number): number {
  const raw = floorPowerOfTwo(Math.max(1, Math.floor(heapBytes / DEFAULT_REGION_COUNT)));
  return Math.min(MAX_ERGONOMIC_REGION_BYTES, Math.max(MIN_ERGONOMIC_REGION_BYTES, raw));
}

export interface HeapGeometry {
  heapBytes: number;
  regionBytes: number;
  regionCount: number;
}

/** Checks and completes a heap size and optional region size; the heap is rounded down to whole regions. */
export function heapGeometry(heapBytes: number, regionBytes?: number): HeapGeometry {
  if (heapBytes > MAX_HEAP_BYTES) {
    throw new UsageError(`--heap ${formatBytes(heapBytes)} is larger than the ${formatBytes(MAX_HEAP_BYTES)} heaplab can address`);
  }
  const region = regionBytes ?? ergonomicRegionBytes(heapBytes);
  if (region < MIN_REGION_BYTES || (region & (region - 1)) !== 0) {
    throw new UsageError(`--region-size ${formatBytes(region)} must be a power of two of at least ${formatBytes(MIN_REGION_BYTES)}`);
  }
  const regionCount = Math.floor(heapBytes / region);
  if (regionCount < MIN_REGIONS) {
    throw new UsageError(
      `--heap ${formatBytes(heapBytes)} holds ${regionCount} region(s) of ${formatBytes(region)}; at least ${MIN_REGIONS} are needed`,
    );
  }
  return { heapBytes: regionCount * region, regionBytes: region, regionCount };
}
