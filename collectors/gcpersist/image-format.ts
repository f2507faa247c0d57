/**
 * The on-disk format of a GCPersist image file (`*.hlp`): the NVM stand-in into
 * which the collector persists the persistent regions, one epoch per commit.
 * This module holds the layout, the constants, the encoders/decoders and the
 * shared types; persistent-image.ts writes images, recovery.ts reads them.
 *
 *   byte 0          4096            8192
 *   +---------------+---------------+------------------------------------------------------------+
 *   | superblock A  | superblock B  | data area (append-only):                                   |
 *   | (slot 0)      | (slot 1)      | [manifest e0][blk][blk][manifest e1][blk][manifest e2] ... |
 *   +---------------+---------------+------------------------------------------------------------+
 *   Each slot is SLOT_BYTES (one page, so a torn write of one slot cannot touch
 *   the other); only its first SUPERBLOCK_BYTES are used, the rest is zero.
 *
 *   superblock (little-endian, 64 bytes)
 *     0  8  magic 'HLPIMG01'
 *     8  4  format version (FORMAT_VERSION)
 *    12  4  slot number (0 or 1): a superblock found in the wrong slot is invalid
 *    16  8  epoch (u64, monotonic; epoch 0 is the empty image written by create)
 *    24  4  regionBytes           28  4  regionCount          (heap geometry)
 *    32  8  manifest file offset  40  4  manifest length (bytes, including its CRC)
 *    44  4  manifest CRC-32
 *    48  8  commit timestamp (float64, ms since the Unix epoch)
 *    56  4  reserved (0)
 *    60  4  CRC-32 of bytes 0..59
 *
 *   region block (appended for every region that changed in an epoch)
 *     0  4  magic 'HLPB'     4  4  region index     8  4  word count
 *    12  4  CRC-32 of the words      16 ...  the words (int32, little-endian)
 *
 *   manifest (appended once per epoch, after its blocks)
 *     0  4  magic 'HLPM'     4  4  entry count n    8  8  epoch (u64)
 *    16  4  payload length m                        20  4  reserved (0)
 *    24  n * 24  entries, one per persistent region of the epoch, by region index:
 *                 0 4 region index  4 4 word count  8 8 block offset (new or from an
 *                 earlier epoch)  16 4 CRC-32 of the words  20 4 epoch that wrote the block
 *    24+24n  m   payload: UTF-8 JSON { roots, types, meta } (types in type-id order)
 *    ...     4   CRC-32 of every manifest byte before it
 *
 * Crash consistency: a commit appends its blocks and manifest past the end of
 * the current epoch (copy-on-write: bytes a valid epoch refers to are never
 * rewritten), fsyncs, and only then writes the superblock slot that does NOT
 * hold the current epoch, and fsyncs again. Until that slot write is durable
 * the current epoch's slot and data are untouched; a torn slot write fails its
 * CRC and recovery uses the other slot. So a crash leaves the previous or the
 * new epoch, never a mix.
 */
import { UsageError } from '../../vm-core/errors.js';
import { crc32, crcHex } from './crc32.js';

export const MAGIC = 'HLPIMG01';
export const FORMAT_VERSION = 1;
export const SLOT_BYTES = 4096;
export const SLOT_COUNT = 2;
export const SUPERBLOCK_BYTES = 64;
export const DATA_START = SLOT_COUNT * SLOT_BYTES;
export const BLOCK_MAGIC = 0x42504c48; // 'HLPB' read as a little-endian u32
export const BLOCK_HEADER_BYTES = 16;
export const MANIFEST_MAGIC = 0x4d504c48; // 'HLPM'
export const MANIFEST_HEADER_BYTES = 24;
export const MANIFEST_ENTRY_BYTES = 24;
export const WORD_BYTES = 4;
/** Slot names in messages. */
export const SLOT_NAMES = ['A', 'B'];

// ---- the shared API types ---------------------------------------------------

export interface Geometry { regionBytes: number; regionCount: number }
export interface RegionSnapshot { index: number; words: Int32Array /* the region's words, length = used words or full region */ }
export interface TypeDescription { name: string; kind: number; refs: number; dataWords: number; elementWords: number }
export interface EpochContent {
  /** Changed regions only. */
  regions: RegionSnapshot[];
  /** All persistent regions of this epoch (unchanged ones are carried from the previous epoch). */
  persistentRegions: number[];
  roots: Record<string, number>;
  types: TypeDescription[];
  meta?: Record<string, number | string>;
}
export interface CommitStats {
  epoch: number;
  /** Bytes written by this commit: region blocks + manifest + superblock (a compaction's copy is not counted here). */
  bytesWritten: number;
  regionsWritten: number;
  writeMs: number;
  syncMs: number;
  /** Extra: logical length of the image file after the commit. */
  fileBytes: number;
  /** Extra: ms spent compacting after the commit (0 when it did not compact). */
  compactMs: number;
}
export interface RecoveredImage {
  epoch: number;
  geometry: Geometry;
  regions: Map<number, Int32Array>;
  roots: Record<string, number>;
  types: TypeDescription[];
  meta: Record<string, number | string>;
}

/** A corrupt, truncated or foreign image file: one-line message naming the file and what is wrong. Exit code 2. */
export class ImageCorruptError extends UsageError {
  override name = 'ImageCorruptError';
}

// ---- superblock ---------------------------------------------------------------

export interface Superblock {
  slot: number;
  epoch: number;
  geometry: Geometry;
  manifestOffset: number;
  manifestLength: number;
  manifestCrc: number;
  timestamp: number;
}

export function encodeSuperblock(sb: Superblock): Buffer {
  const b = Buffer.alloc(SUPERBLOCK_BYTES);
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt32LE(FORMAT_VERSION, 8);
  b.writeUInt32LE(sb.slot, 12);
  b.writeBigUInt64LE(BigInt(sb.epoch), 16);
  b.writeUInt32LE(sb.geometry.regionBytes, 24);
  b.writeUInt32LE(sb.geometry.regionCount, 28);
  b.writeBigUInt64LE(BigInt(sb.manifestOffset), 32);
  b.writeUInt32LE(sb.manifestLength, 40);
  b.writeUInt32LE(sb.manifestCrc >>> 0, 44);
  b.writeDoubleLE(sb.timestamp, 48);
  b.writeUInt32LE(crc32(b.subarray(0, 60)), 60);
  return b;
}

/** What a slot holds: a valid superblock, or why not. */
export type SlotState =
  | { ok: true; sb: Superblock }
  | { ok: false; hasMagic: boolean; reason: string };

export function decodeSuperblock(bytes: Uint8Array, slot: number): SlotState {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < SUPERBLOCK_BYTES) return { ok: false, hasMagic: false, reason: 'missing (file too short)' };
  const hasMagic = b.toString('latin1', 0, 8) === MAGIC;
  const stored = b.readUInt32LE(60);
  const actual = crc32(b.subarray(0, 60));
  if (stored !== actual) {
    return { ok: false, hasMagic, reason: hasMagic ? `fails its checksum (crc ${crcHex(actual)} != ${crcHex(stored)})` : 'holds no superblock' };
  }
  if (!hasMagic) return { ok: false, hasMagic, reason: 'holds no superblock' };
  const version = b.readUInt32LE(8);
  if (version !== FORMAT_VERSION) return { ok: false, hasMagic, reason: `has format version ${version} (this heaplab reads version ${FORMAT_VERSION})` };
  if (b.readUInt32LE(12) !== slot) return { ok: false, hasMagic, reason: `names slot ${b.readUInt32LE(12)}` };
  return {
    ok: true,
    sb: {
      slot,
      epoch: Number(b.readBigUInt64LE(16)),
      geometry: { regionBytes: b.readUInt32LE(24), regionCount: b.readUInt32LE(28) },
      manifestOffset: Number(b.readBigUInt64LE(32)),
      manifestLength: b.readUInt32LE(40),
      manifestCrc: b.readUInt32LE(44),
      timestamp: b.readDoubleLE(48),
    },
  };
}

// ---- region blocks --------------------------------------------------------------

export function encodeBlockHeader(index: number, wordCount: number, crc: number): Buffer {
  const b = Buffer.alloc(BLOCK_HEADER_BYTES);
  b.writeUInt32LE(BLOCK_MAGIC, 0);
  b.writeUInt32LE(index, 4);
  b.writeUInt32LE(wordCount, 8);
  b.writeUInt32LE(crc >>> 0, 12);
  return b;
}

export interface BlockHeader { magic: number; index: number; wordCount: number; crc: number }

export function decodeBlockHeader(b: Buffer): BlockHeader {
  return { magic: b.readUInt32LE(0), index: b.readUInt32LE(4), wordCount: b.readUInt32LE(8), crc: b.readUInt32LE(12) };
}

export function blockBytes(wordCount: number): number {
  return BLOCK_HEADER_BYTES + wordCount * WORD_BYTES;
}

/** The bytes of `words` as stored in a block (little-endian); a view, not a copy, on little-endian hosts. */
export function wordBytes(words: Int32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(words.buffer, words.byteOffset, words.byteLength);
  const b = Buffer.alloc(words.byteLength);
  for (let i = 0; i < words.length; i++) b.writeInt32LE(words[i], i * WORD_BYTES);
  return b;
}

/** Words from stored little-endian bytes (in place on little-endian hosts). */
export function wordsFromBytes(bytes: Buffer, wordCount: number): Int32Array {
  if (LITTLE_ENDIAN && bytes.byteOffset % WORD_BYTES === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, wordCount);
  const w = new Int32Array(wordCount);
  for (let i = 0; i < wordCount; i++) w[i] = bytes.readInt32LE(i * WORD_BYTES);
  return w;
}

export const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// ---- manifest ---------------------------------------------------------------------

export interface ManifestEntry {
  index: number;
  wordCount: number;
  offset: number;
  crc: number;
  /** The epoch whose commit wrote the block. */
  writtenBy: number;
}

export interface Manifest {
  epoch: number;
  entries: ManifestEntry[];
  /** The JSON payload: roots, types, meta. */
  payload: string;
}

export interface Payload { roots: Record<string, number>; types: TypeDescription[]; meta: Record<string, number | string> }

export function encodeManifest(m: Manifest): Buffer {
  const json = Buffer.from(m.payload, 'utf8');
  const n = m.entries.length;
  const len = MANIFEST_HEADER_BYTES + n * MANIFEST_ENTRY_BYTES + json.length + 4;
  const b = Buffer.alloc(len);
  b.writeUInt32LE(MANIFEST_MAGIC, 0);
  b.writeUInt32LE(n, 4);
  b.writeBigUInt64LE(BigInt(m.epoch), 8);
  b.writeUInt32LE(json.length, 16);
  let p = MANIFEST_HEADER_BYTES;
  for (const e of m.entries) {
    b.writeUInt32LE(e.index, p);
    b.writeUInt32LE(e.wordCount, p + 4);
    b.writeBigUInt64LE(BigInt(e.offset), p + 8);
    b.writeUInt32LE(e.crc >>> 0, p + 16);
    b.writeUInt32LE(e.writtenBy, p + 20);
    p += MANIFEST_ENTRY_BYTES;
  }
  json.copy(b, p);
  b.writeUInt32LE(crc32(b.subarray(0, len - 4)), len - 4);
  return b;
}

/**
 * Decodes a manifest whose CRC the caller has already checked; `fail` turns a
 * structural problem into the caller's error (the manifest passed its CRC, so
 * this only happens for a file written by a broken writer).
 */
export function decodeManifest(b: Buffer, fail: (what: string) => never): Manifest & Payload {
  if (b.length < MANIFEST_HEADER_BYTES + 4 || b.readUInt32LE(0) !== MANIFEST_MAGIC) fail('is not a manifest');
  const n = b.readUInt32LE(4);
  const epoch = Number(b.readBigUInt64LE(8));
  const m = b.readUInt32LE(16);
  if (MANIFEST_HEADER_BYTES + n * MANIFEST_ENTRY_BYTES + m + 4 !== b.length) fail(`has inconsistent lengths (${n} entries, ${m} payload bytes, ${b.length} bytes)`);
  const entries: ManifestEntry[] = [];
  let p = MANIFEST_HEADER_BYTES;
  for (let i = 0; i < n; i++, p += MANIFEST_ENTRY_BYTES) {
    entries.push({
      index: b.readUInt32LE(p),
      wordCount: b.readUInt32LE(p + 4),
      offset: Number(b.readBigUInt64LE(p + 8)),
      crc: b.readUInt32LE(p + 16),
      writtenBy: b.readUInt32LE(p + 20),
    });
  }
  const payload = b.toString('utf8', p, p + m);
  let parsed: Payload;
  try {
    parsed = JSON.parse(payload) as Payload;
  } catch {
    fail('holds an unreadable payload');
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.roots !== 'object' || !Array.isArray(parsed.types) || typeof parsed.meta !== 'object') {
    fail('holds a payload without roots, types and meta');
  }
  return { epoch, entries, payload, roots: parsed.roots, types: parsed.types, meta: parsed.meta };
}

export function encodePayload(content: EpochContent): string {
  const types = content.types.map((t) => ({ name: t.name, kind: t.kind, refs: t.refs, dataWords: t.dataWords, elementWords: t.elementWords }));
  return JSON.stringify({ roots: content.roots, types, meta: content.meta ?? {} });
}
