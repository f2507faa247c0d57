/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320: the one of zlib, PNG and
 * gzip) for the persistent image. Node's native zlib.crc32 (Node >= 20.15) does
 * the work when present; a slicing-by-8 table implementation in plain
 * JavaScript is the fallback and the reference the tests compare against.
 *
 * Crash-consistency role: every superblock, manifest and region block of an
 * image carries a CRC-32, so a torn or flipped write is detected at recovery
 * instead of being loaded into a heap.
 */
import * as zlib from 'node:zlib';

const TABLES: Uint32Array[] = (() => {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let b = 0; b < 8; b++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0][n];
    for (let k = 1; k < 8; k++) {
      c = t[0][c & 0xff] ^ (c >>> 8);
      t[k][n] = c >>> 0;
    }
  }
  return t;
})();

/** Pure-JavaScript CRC-32 of `data`, continuing from `initial` (the CRC of the bytes before). */
export function crc32Js(data: Uint8Array, initial = 0): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = ~initial >>> 0;
  let i = 0;
  const n = data.length;
  for (; i + 8 <= n; i += 8) {
    const lo = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    c = t7[lo & 0xff] ^ t6[(lo >>> 8) & 0xff] ^ t5[(lo >>> 16) & 0xff] ^ t4[lo >>> 24]
      ^ t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < n; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

const native: ((data: NodeJS.ArrayBufferView, value?: number) => number) | undefined =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? zlib.crc32 : undefined;

/** CRC-32 of `data` (any byte view, including views of a SharedArrayBuffer), continuing from `initial`; unsigned. */
export function crc32(data: Uint8Array, initial = 0): number {
  return native ? native(data, initial) >>> 0 : crc32Js(data, initial);
}

/** 8 lower-case hex digits, as error messages show a CRC. */
export function crcHex(crc: number): string {
  return (crc >>> 0).toString(16).padStart(8, '0');
}
