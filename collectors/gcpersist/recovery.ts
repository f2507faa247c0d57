/**
 * Recovery of a GCPersist image (format in image-format.ts): finds the newest
 * valid epoch and loads its regions, roots, types and metadata, checking every
 * checksum on the way. The file is opened read-only and never modified.
 *
 * Which epoch: both superblock slots are read; a slot is valid when its magic,
 * version, slot number and CRC hold. The valid slot with the highest epoch
 * wins. A slot that fails its CRC is a torn superblock write (the crash hit the
 * last step of a commit), so falling back to the other slot is correct: the
 * epoch it names was left intact by copy-on-write. But once a valid superblock
 * names an epoch, that epoch's manifest and blocks were fsynced before the
 * superblock was written, so a checksum failure there is corruption, not a
 * crash: it is reported (ImageCorruptError, one line naming the region or
 * manifest and the expected vs actual CRC), never papered over by loading an
 * older epoch.
 */
import * as fs from 'node:fs';
import { crc32, crcHex } from './crc32.js';
import {
  BLOCK_HEADER_BYTES, BLOCK_MAGIC, DATA_START, ImageCorruptError, SLOT_BYTES, SLOT_COUNT, SLOT_NAMES, SUPERBLOCK_BYTES, WORD_BYTES,
  blockBytes, decodeBlockHeader, decodeManifest, decodeSuperblock, wordsFromBytes,
  type Manifest, type ManifestEntry, type Payload, type RecoveredImage, type SlotState, type Superblock,
} from './image-format.js';

/** Opens an image read-only; a missing or unreadable file is a one-line ImageCorruptError. */
export function openImageReadOnly(path: string): number {
  try {
    return fs.openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ImageCorruptError(`${path}: cannot open the image (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
  }
}

/** The current epoch of an open image: its superblock and its (CRC-checked, decoded) manifest. */
export interface ImageHead {
  sb: Superblock;
  manifest: Manifest & Payload;
  fileBytes: number;
}

/** Reads exactly `length` bytes at `position` (short only at end of file). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, b, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done === length ? b : b.subarray(0, done);
}

/** Finds the newest valid superblock and reads and checks its manifest. Throws ImageCorruptError. */
export function readHead(fd: number, path: string): ImageHead {
  const fileBytes = fs.fstatSync(fd).size;
  if (fileBytes < SUPERBLOCK_BYTES) throw new ImageCorruptError(`${path}: not a heaplab image (${fileBytes} bytes, too short for a superblock)`);
  const slots: SlotState[] = [];
  for (let s = 0; s < SLOT_COUNT; s++) slots.push(decodeSuperblock(readAt(fd, s * SLOT_BYTES, SUPERBLOCK_BYTES), s));
  let best: Superblock | undefined;
  for (const st of slots) if (st.ok && (!best || st.sb.epoch > best.epoch)) best = st.sb;
  if (!best) {
    if (!slots.some((st) => !st.ok && st.hasMagic)) throw new ImageCorruptError(`${path}: not a heaplab image (no 'HLPIMG01' superblock)`);
    const why = slots.map((st, s) => `slot ${SLOT_NAMES[s]} ${st.ok ? 'ok' : st.reason}`).join('; ');
    throw new ImageCorruptError(`${path}: no valid superblock (${why})`);
  }
  const sb = best;
  const { regionBytes, regionCount } = sb.geometry;
  if (regionBytes <= 0 || regionBytes % WORD_BYTES !== 0 || regionCount <= 0) {
    throw new ImageCorruptError(`${path}: superblock of epoch ${sb.epoch} has an impossible geometry (${regionCount} regions of ${regionBytes} bytes)`);
  }
  const end = sb.manifestOffset + sb.manifestLength;
  if (sb.manifestOffset < DATA_START || end > fileBytes) {
    throw new ImageCorruptError(`${path}: truncated: the manifest of epoch ${sb.epoch} (bytes ${sb.manifestOffset}..${end}) lies beyond the end of the file (${fileBytes} bytes)`);
  }
  const bytes = readAt(fd, sb.manifestOffset, sb.manifestLength);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  const stored = bytes.length >= 4 ? bytes.readUInt32LE(bytes.length - 4) : -1;
  if (actual !== sb.manifestCrc || actual !== stored) {
    const expected = actual !== sb.manifestCrc ? sb.manifestCrc : stored;
    throw new ImageCorruptError(`${path}: the manifest of epoch ${sb.epoch} fails its checksum (crc ${crcHex(actual)} != ${crcHex(expected)})`);
  }
  const manifest = decodeManifest(bytes, (what) => {
    throw new ImageCorruptError(`${path}: the manifest of epoch ${sb.epoch} ${what}`);
  });
  if (manifest.epoch !== sb.epoch) throw new ImageCorruptError(`${path}: the superblock names epoch ${sb.epoch} but its manifest is epoch ${manifest.epoch}`);
  const regionWords = regionBytes / WORD_BYTES;
  let last = -1;
  for (const e of manifest.entries) {
    if (e.index >= regionCount || e.index <= last) throw new ImageCorruptError(`${path}: the manifest of epoch ${sb.epoch} lists region ${e.index} out of order or beyond ${regionCount} regions`);
    if (e.wordCount > regionWords) throw new ImageCorruptError(`${path}: region ${e.index} of epoch ${sb.epoch} has ${e.wordCount} words, more than a region (${regionWords})`);
    if (e.offset < DATA_START || e.offset + blockBytes(e.wordCount) > sb.manifestOffset) {
      throw new ImageCorruptError(`${path}: region ${e.index} of epoch ${sb.epoch} has its block at an impossible offset ${e.offset}`);
    }
    last = e.index;
  }
  return { sb, manifest, fileBytes };
}

/**
 * Reads one region block named by a manifest entry and checks it: header
 * agrees with the entry, words match the CRC. Returns the words.
 */
export function readBlock(fd: number, path: string, epoch: number, e: ManifestEntry, fileBytes: number): Int32Array {
  const where = `region ${e.index} of epoch ${epoch}${e.writtenBy !== epoch ? ` (block written by epoch ${e.writtenBy})` : ''}`;
  const len = blockBytes(e.wordCount);
  if (e.offset + len > fileBytes) throw new ImageCorruptError(`${path}: truncated: ${where} (bytes ${e.offset}..${e.offset + len}) lies beyond the end of the file (${fileBytes} bytes)`);
  const header = decodeBlockHeader(readAt(fd, e.offset, BLOCK_HEADER_BYTES));
  const words = new Int32Array(e.wordCount);
  const bytes = Buffer.from(words.buffer);
  const n = bytes.length === 0 ? 0 : fs.readSync(fd, bytes, 0, bytes.length, e.offset + BLOCK_HEADER_BYTES);
  if (n !== bytes.length) {
    const rest = readAt(fd, e.offset + BLOCK_HEADER_BYTES + n, bytes.length - n);
    rest.copy(bytes, n);
  }
  const actual = crc32(bytes);
  if (header.magic !== BLOCK_MAGIC || header.index !== e.index || header.wordCount !== e.wordCount) {
    throw new ImageCorruptError(`${path}: ${where}: the block at offset ${e.offset} has a damaged header (region ${header.index}, ${header.wordCount} words, magic ${crcHex(header.magic)})`);
  }
  if (actual !== e.crc || header.crc !== e.crc) {
    const expected = actual !== e.crc ? e.crc : header.crc;
    throw new ImageCorruptError(`${path}: ${where} fails its checksum (crc ${crcHex(actual)} != ${crcHex(expected)})`);
  }
  return wordsFromBytes(bytes, e.wordCount);
}

/**
 * Opens the newest valid epoch: both superblocks are checked; a corrupt or
 * truncated newest epoch falls back to the previous valid one only if the
 * superblock naming it is itself corrupt (a torn superblock write) — but if a
 * superblock is valid and the data it names fails its checksum, that is
 * corruption: throws ImageCorruptError naming what is wrong (which
 * region/manifest, expected vs actual CRC). Never modifies the file.
 */
export function recoverImage(path: string): RecoveredImage {
  const fd = openImageReadOnly(path);
  try {
    const { sb, manifest, fileBytes } = readHead(fd, path);
    const regions = new Map<number, Int32Array>();
    for (const e of manifest.entries) regions.set(e.index, readBlock(fd, path, sb.epoch, e, fileBytes));
    return {
      epoch: sb.epoch,
      geometry: { ...sb.geometry },
      regions,
      roots: { ...manifest.roots },
      types: manifest.types.map((t) => ({ ...t })),
      meta: { ...manifest.meta },
    };
  } finally {
    fs.closeSync(fd);
  }
}
