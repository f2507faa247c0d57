/**
 * Carving parallel typed arrays out of one SharedArrayBuffer.
 *
 * The region table, the side metadata and the counters are each one shared
 * buffer holding several typed arrays back to back. A SharedLayout is the list
 * of those arrays (name, element type, length); `allocate` places them at
 * 8-byte-aligned offsets, checks that no two overlap, and returns the views.
 * Workers receive the buffer and the same layout and rebuild identical views.
 */

export type ElementKind = 'u8' | 'i32' | 'f64';

export interface ArraySpec {
  name: string;
  kind: ElementKind;
  length: number;
}

export interface PlacedArray extends ArraySpec {
  byteOffset: number;
  byteLength: number;
}

const BYTES: Record<ElementKind, number> = { u8: 1, i32: 4, f64: 8 };

export function placeArrays(specs: ArraySpec[]): { placed: PlacedArray[]; totalBytes: number } {
  let offset = 0;
  const placed: PlacedArray[] = [];
  for (const spec of specs) {
    offset = (offset + 7) & ~7;
    const byteLength = spec.length * BYTES[spec.kind];
    placed.push({ ...spec, byteOffset: offset, byteLength });
    offset += byteLength;
  }
  checkNoOverlap(placed);
  return { placed, totalBytes: (offset + 7) & ~7 };
}

/** Start-up check that no two arrays of a layout share a byte (MMTk checks its side-metadata specs the same way). */
export function checkNoOverlap(placed: PlacedArray[]): void {
  const sorted = [...placed].sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const next = sorted[i];
    if (prev.byteOffset + prev.byteLength > next.byteOffset) {
      throw new Error(`shared layout: '${prev.name}' [${prev.byteOffset}, ${prev.byteOffset + prev.byteLength}) overlaps '${next.name}' at ${next.byteOffset}`);
    }
  }
}

export function viewOf(buffer: SharedArrayBuffer, p: PlacedArray): Uint8Array | Int32Array | Float64Array {
  switch (p.kind) {
    case 'u8': return new Uint8Array(buffer, p.byteOffset, p.length);
    case 'i32': return new Int32Array(buffer, p.byteOffset, p.length);
    case 'f64': return new Float64Array(buffer, p.byteOffset, p.length);
  }
}

export class SharedArrays {
  readonly buffer: SharedArrayBuffer;
  readonly placed: PlacedArray[];
  private readonly views = new Map<string, Uint8Array | Int32Array | Float64Array>();

  constructor(specs: ArraySpec[], buffer?: SharedArrayBuffer) {
    const { placed, totalBytes } = placeArrays(specs);
    this.placed = placed;
    this.buffer = buffer ?? new SharedArrayBuffer(Math.max(8, totalBytes));
    for (const p of placed) this.views.set(p.name, viewOf(this.buffer, p));
  }

  u8(name: string): Uint8Array { return this.get(name) as Uint8Array; }
  i32(name: string): Int32Array { return this.get(name) as Int32Array; }
  f64(name: string): Float64Array { return this.get(name) as Float64Array; }

  private get(name: string) {
    const v = this.views.get(name);
    if (!v) throw new Error(`shared layout has no array '${name}'`);
    return v;
  }
}
