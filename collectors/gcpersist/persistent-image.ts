/**
 * PersistentImage: the writer of a GCPersist image file (format and layout in
 * image-format.ts). Each `commit` makes one epoch durable: the regions that
 * changed since the last epoch are appended as checksummed blocks, unchanged
 * persistent regions are carried by reference to their earlier blocks, and a
 * manifest lists them all with the roots, types and metadata.
 *
 * Crash-consistency argument, in commit order:
 *   1. blocks and manifest are appended past the end of the current epoch's
 *      manifest: no byte that the current (or any valid) epoch refers to is
 *      rewritten (copy-on-write);
 *   2. fsync: the new epoch's data is durable, but nothing names it yet;
 *   3. the superblock slot NOT holding the current epoch is written, naming the
 *      new epoch (manifest offset, length, CRC), then fsync again.
 * A crash before 3 leaves the current epoch's slot and data untouched; a crash
 * during 3 leaves a slot that fails its CRC (recovery uses the other, intact
 * slot) or one that is complete and names fully durable data. Either the
 * previous or the new epoch is recovered, never a mix.
 *
 * Compaction (when the file is at least `compactMinBytes` long and more than
 * `compactDeadFraction` of it is no longer referenced by the newest epoch):
 * the current epoch is copied, checksums verified, into a fresh image
 * `<path>.compact`, fsynced, then renamed over `<path>` (atomic on POSIX) and
 * the directory fsynced. A crash before the rename leaves the old image (a
 * stray .compact file is overwritten by the next compaction); after it, the new
 * image, which holds the same epoch.
 */
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../../vm-core/errors.js';
import { crc32 } from './crc32.js';
import {
  BLOCK_HEADER_BYTES, DATA_START, SLOT_BYTES, SLOT_COUNT, SUPERBLOCK_BYTES, WORD_BYTES,
  blockBytes, encodeBlockHeader, encodeManifest, encodePayload, encodeSuperblock, wordBytes,
  type CommitStats, type EpochContent, type Geometry, type ManifestEntry,
} from './image-format.js';
import { readBlock, readHead } from './recovery.js';

export {
  ImageCorruptError, type CommitStats, type EpochContent, type Geometry, type RecoveredImage, type RegionSnapshot, type TypeDescription,
} from './image-format.js';
export { recoverImage } from './recovery.js';

export interface ImageOptions {
  /** Compact only when the image is at least this long (default 64 MiB; Infinity: never). */
  compactMinBytes?: number;
  /** ... and more than this fraction of it is dead (default 0.5). */
  compactDeadFraction?: number;
}

const DEFAULT_COMPACT_MIN_BYTES = 64 * 1024 * 1024;
const DEFAULT_COMPACT_DEAD_FRACTION = 0.5;

function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

function fsyncDir(path: string): void {
  let dfd = -1;
  try {
    dfd = fs.openSync(dirname(path), 'r');
    fs.fsyncSync(dfd);
  } catch {
    // directories cannot be fsynced on every platform; the file itself is durable
  } finally {
    if (dfd >= 0) fs.closeSync(dfd);
  }
}

function now(): number { return performance.now(); }

export class PersistentImage {
  private fd: number;
  private currentEpoch: number;
  /** The slot holding the current epoch's superblock. */
  private slot: number;
  /** End of the current epoch's manifest: where the next commit appends. */
  private appendPos: number;
  /** The current epoch's persistent regions, by index. */
  private entries: Map<number, ManifestEntry>;
  /** The current epoch's manifest payload (roots, types, meta as JSON). */
  private payload: string;
  private manifestBytes: number;
  private broken: string | undefined;
  private closed = false;
  private readonly compactMinBytes: number;
  private readonly compactDeadFraction: number;

  private constructor(
    readonly path: string,
    readonly geometry: Geometry,
    fd: number,
    state: { epoch: number; slot: number; appendPos: number; entries: ManifestEntry[]; payload: string; manifestBytes: number },
    options: ImageOptions,
  ) {
    this.fd = fd;
    this.currentEpoch = state.epoch;
    this.slot = state.slot;
    this.appendPos = state.appendPos;
    this.entries = new Map(state.entries.map((e) => [e.index, e]));
    this.payload = state.payload;
    this.manifestBytes = state.manifestBytes;
    this.compactMinBytes = options.compactMinBytes ?? DEFAULT_COMPACT_MIN_BYTES;
    this.compactDeadFraction = options.compactDeadFraction ?? DEFAULT_COMPACT_DEAD_FRACTION;
  }

  /**
   * Creates a new image holding epoch 0 (no regions, no roots). Refuses to
   * overwrite an existing file (UsageError). A crash during create leaves a
   * file that recovery refuses as not an image (no valid superblock yet).
   */
  static create(path: string, geometry: Geometry, options: ImageOptions = {}): PersistentImage {
    const { regionBytes, regionCount } = geometry;
    if (!Number.isInteger(regionBytes) || regionBytes <= 0 || regionBytes % WORD_BYTES !== 0 || regionBytes > 0xffffffff) {
      throw new UsageError(`${path}: region size ${regionBytes} is not a positive multiple of ${WORD_BYTES} bytes`);
    }
    if (!Number.isInteger(regionCount) || regionCount <= 0 || regionCount > 0xffffffff) {
      throw new UsageError(`${path}: region count ${regionCount} is not a positive integer`);
    }
    let fd: number;
    try {
      fd = fs.openSync(path, 'wx+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new UsageError(`${path}: already exists; an image is never overwritten (remove it or choose another path)`);
      throw new UsageError(`${path}: cannot create the image (${code ?? String(e)})`);
    }
    try {
      const payload = JSON.stringify({ roots: {}, types: [], meta: {} });
      const manifest = encodeManifest({ epoch: 0, entries: [], payload });
      const header = Buffer.alloc(DATA_START);
      encodeSuperblock({
        slot: 0, epoch: 0, geometry: { regionBytes, regionCount }, manifestOffset: DATA_START, manifestLength: manifest.length,
        manifestCrc: crc32(manifest.subarray(0, manifest.length - 4)), timestamp: Date.now(),
      }).copy(header, 0);
      // manifest first, fsync, then the header: even creation follows the commit order
      writeAll(fd, manifest, DATA_START);
      fs.fsyncSync(fd);
      writeAll(fd, header, 0);
      fs.fsyncSync(fd);
      fsyncDir(path);
      return new PersistentImage(path, { regionBytes, regionCount }, fd,
        { epoch: 0, slot: 0, appendPos: DATA_START + manifest.length, entries: [], payload, manifestBytes: manifest.length }, options);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /**
   * Opens an existing image to append further epochs after the newest valid
   * one (bytes past it, a torn append, are overwritten). Checks the superblocks
   * and the manifest, not the region blocks (run recoverImage for that; a
   * compaction verifies every block it copies). ImageCorruptError when the
   * image is not usable.
   */
  static open(path: string, options: ImageOptions = {}): PersistentImage {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r+');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(`${path}: cannot open the image (${code === 'ENOENT' ? 'no such file' : code ?? String(e)})`);
    }
    try {
      const { sb, manifest } = readHead(fd, path);
      return new PersistentImage(path, { ...sb.geometry }, fd, {
        epoch: sb.epoch, slot: sb.slot, appendPos: sb.manifestOffset + sb.manifestLength,
        entries: manifest.entries, payload: manifest.payload, manifestBytes: sb.manifestLength,
      }, options);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** The newest durable epoch. */
  get epoch(): number { return this.currentEpoch; }

  /** Logical length of the image: the end of the newest epoch's manifest. */
  get fileBytes(): number { return this.appendPos; }

  /** Bytes referenced by the newest epoch (header, its blocks, its manifest). */
  get liveBytes(): number {
    let live = DATA_START + this.manifestBytes;
    for (const e of this.entries.values()) live += blockBytes(e.wordCount);
    return live;
  }

  /** Makes `content` the next epoch, durably; returns what it cost. */
  commit(content: EpochContent): CommitStats {
    this.checkUsable();
    const epoch = this.currentEpoch + 1;
    const { entries: newEntries, changed } = this.plan(content, epoch);
    const payload = encodePayload(content);
    const t0 = now();
    let bytesWritten = 0;
    let syncMs = 0;
    try {
      // 1. append the changed regions' blocks and the manifest (copy-on-write)
      let pos = this.appendPos;
      for (const r of changed) {
        const bytes = wordBytes(r.words);
        const crc = crc32(bytes);
        const e = newEntries.get(r.index)!;
        e.offset = pos;
        e.crc = crc;
        writeAll(this.fd, encodeBlockHeader(r.index, r.words.length, crc), pos);
        writeAll(this.fd, bytes, pos + BLOCK_HEADER_BYTES);
        pos += blockBytes(r.words.length);
      }
      const entries = [...newEntries.values()].sort((a, b) => a.index - b.index);
      const manifest = encodeManifest({ epoch, entries, payload });
      const manifestOffset = pos;
      writeAll(this.fd, manifest, manifestOffset);
      pos += manifest.length;
      bytesWritten = pos - this.appendPos;
      // 2. the new epoch's data is durable before anything names it
      let t = now();
      fs.fsyncSync(this.fd);
      syncMs += now() - t;
      // 3. the other slot names the new epoch
      const slot = (this.slot + 1) % SLOT_COUNT;
      const sb = encodeSuperblock({
        slot, epoch, geometry: this.geometry, manifestOffset, manifestLength: manifest.length,
        manifestCrc: manifest.readUInt32LE(manifest.length - 4), timestamp: Date.now(),
      });
      writeAll(this.fd, sb, slot * SLOT_BYTES);
      bytesWritten += SUPERBLOCK_BYTES;
      t = now();
      fs.fsyncSync(this.fd);
      syncMs += now() - t;
      this.currentEpoch = epoch;
      this.slot = slot;
      this.appendPos = pos;
      this.entries = newEntries;
      this.payload = payload;
      this.manifestBytes = manifest.length;
    } catch (e) {
      // after a failed write or fsync the file's state is unknown: stop using this handle
      this.broken = `a commit of epoch ${epoch} failed (${(e as Error).message}); reopen the image to continue`;
      throw e;
    }
    const elapsed = now() - t0;
    let compactMs = 0;
    if (this.shouldCompact()) {
      const tc = now();
      this.compact();
      compactMs = now() - tc;
    }
    return { epoch, bytesWritten, regionsWritten: changed.length, writeMs: elapsed - syncMs, syncMs, fileBytes: this.appendPos, compactMs };
  }

  /** Closes the file; the image stays as the last commit left it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    fs.closeSync(this.fd);
  }

  // ---- internals --------------------------------------------------------------

  private checkUsable(): void {
    if (this.closed) throw new UsageError(`${this.path}: the image is closed`);
    if (this.broken) throw new UsageError(`${this.path}: ${this.broken}`);
  }

  /** Validates the content and builds the new epoch's entries (changed ones get their offset and CRC while written). */
  private plan(content: EpochContent, epoch: number): { entries: Map<number, ManifestEntry>; changed: EpochContent['regions'] } {
    const where = `${this.path}: epoch ${epoch}`;
    const { regionCount, regionBytes } = this.geometry;
    const regionWords = regionBytes / WORD_BYTES;
    const persistent = new Set<number>();
    for (const r of content.persistentRegions) {
      if (!Number.isInteger(r) || r < 0 || r >= regionCount) throw new UsageError(`${where}: persistent region ${r} is not a region index below ${regionCount}`);
      if (persistent.has(r)) throw new UsageError(`${where}: persistent region ${r} is listed twice`);
      persistent.add(r);
    }
    const changed = new Set<number>();
    const entries = new Map<number, ManifestEntry>();
    for (const r of content.regions) {
      if (!persistent.has(r.index)) throw new UsageError(`${where}: region ${r.index} is written but not listed among the persistent regions`);
      if (changed.has(r.index)) throw new UsageError(`${where}: region ${r.index} is written twice`);
      if (!(r.words instanceof Int32Array) || r.words.length > regionWords) {
        throw new UsageError(`${where}: region ${r.index} must be an Int32Array of at most ${regionWords} words`);
      }
      changed.add(r.index);
      entries.set(r.index, { index: r.index, wordCount: r.words.length, offset: 0, crc: 0, writtenBy: epoch });
    }
    for (const r of persistent) {
      if (changed.has(r)) continue;
      const prev = this.entries.get(r);
      if (!prev) throw new UsageError(`${where}: persistent region ${r} is unchanged but epoch ${this.currentEpoch} holds no data for it`);
      entries.set(r, prev);
    }
    for (const [name, ref] of Object.entries(content.roots)) {
      if (!Number.isSafeInteger(ref) || ref < 0) throw new UsageError(`${where}: root '${name}' is not a reference (${ref})`);
    }
    for (const t of content.types) {
      if (typeof t.name !== 'string' || ![t.kind, t.refs, t.dataWords, t.elementWords].every(Number.isInteger)) {
        throw new UsageError(`${where}: type ${JSON.stringify(t.name)} has a malformed description`);
      }
    }
    for (const [k, v] of Object.entries(content.meta ?? {})) {
      if (typeof v !== 'string' && !(typeof v === 'number' && Number.isFinite(v))) throw new UsageError(`${where}: meta '${k}' is neither a string nor a finite number`);
    }
    return { entries, changed: content.regions };
  }

  private shouldCompact(): boolean {
    const file = this.appendPos;
    return file >= this.compactMinBytes && (file - this.liveBytes) / file > this.compactDeadFraction;
  }

  /** Rewrites the current epoch alone into `<path>.compact` and renames it over the image. */
  private compact(): void {
    const tmp = `${this.path}.compact`;
    const fd = fs.openSync(tmp, 'w');
    let fdOpen = true;
    let renamed = false;
    try {
      const fileBytes = fs.fstatSync(this.fd).size;
      const entries: ManifestEntry[] = [];
      let pos = DATA_START;
      for (const e of [...this.entries.values()].sort((a, b) => a.index - b.index)) {
        const words = readBlock(this.fd, this.path, this.currentEpoch, e, fileBytes); // verifies the CRC
        writeAll(fd, encodeBlockHeader(e.index, e.wordCount, e.crc), pos);
        writeAll(fd, wordBytes(words), pos + BLOCK_HEADER_BYTES);
        entries.push({ ...e, offset: pos });
        pos += blockBytes(e.wordCount);
      }
      const manifest = encodeManifest({ epoch: this.currentEpoch, entries, payload: this.payload });
      writeAll(fd, manifest, pos);
      const manifestOffset = pos;
      pos += manifest.length;
      fs.fsyncSync(fd);
      const header = Buffer.alloc(DATA_START);
      encodeSuperblock({
        slot: 0, epoch: this.currentEpoch, geometry: this.geometry, manifestOffset, manifestLength: manifest.length,
        manifestCrc: manifest.readUInt32LE(manifest.length - 4), timestamp: Date.now(),
      }).copy(header, 0);
      writeAll(fd, header, 0);
      fs.fsyncSync(fd);
      fdOpen = false;
      fs.closeSync(fd);
      fs.renameSync(tmp, this.path);
      renamed = true;
      fsyncDir(this.path);
      fs.closeSync(this.fd);
      this.fd = fs.openSync(this.path, 'r+');
      this.slot = 0;
      this.appendPos = pos;
      this.entries = new Map(entries.map((e) => [e.index, e]));
      this.manifestBytes = manifest.length;
    } catch (e) {
      if (!renamed) {
        if (fdOpen) fs.closeSync(fd);
        fs.rmSync(tmp, { force: true });
      } else {
        this.broken = `compaction renamed the new image but could not reopen it (${(e as Error).message}); reopen the image to continue`;
      }
      throw e;
    }
  }
}
