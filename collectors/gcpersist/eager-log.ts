/**
 * The eager mode's write-through log (`<image>.wal`): the baseline GCPersist
 * is measured against. Every store into an eager persistent object is appended
 * here and made durable (fdatasync) before the store returns, `batch` stores
 * per sync at most (group commit: with batch = 1 every store is durable when
 * it returns; with batch = N a crash loses at most the last N - 1 stores).
 * The log belongs to one epoch of one image: each commit of the image starts
 * a fresh log, and recovery replays the log only if it names the recovered
 * epoch and image (image-id in the manifest's meta).
 *
 *   file    0        32                                     ...
 *           [ header ][ batch ][ batch ] ... [ torn batch? ]
 *
 *   header (32 bytes, little-endian)
 *     0  8  magic 'HLPWAL01'      8  8  epoch (u64)       16  8  image id (8 bytes)
 *    24  4  reserved (0)         28  4  CRC-32 of bytes 0..27
 *   batch
 *     0  4  magic 'HLPL'          4  4  payload words m   8  4  sequence number (0, 1, ...)
 *    12  4  CRC-32 of the payload           16 ...  payload: m int32 words of records
 *   records (int32 words)
 *     STORE      [1, address, value]                     a reference or int32 data store
 *     STORE64    [2, address, low, high]                 a float64 store (atomic: one record)
 *     OBJECT     [3, address, n, w0 .. wn-1]             an object that became eager, whole
 *     HUMONGOUS  [4, address, n, w0 .. wn-1]             ... that is humongous
 *     ROOT       [5, reference, mode, n, name...]        a persistent root named or retargeted
 *                                                        (mode 0 lazy, 1 lazy-old, 2 eager, 3 the run's; the
 *                                                        name's UTF-8 bytes, 4 per word, n bytes)
 *     TYPE       [6, id, kind, refs, dataWords, elementWords, n, name...]
 *                                                        a type registered since the epoch, logged
 *                                                        before the first object of its type
 *
 * Why OBJECT records: a store that links an object that is not yet eager (a
 * volatile one in eden, say) into an eager object makes it persistent now,
 * but it lives outside the image until the next pause moves it into a
 * persistent region (or, in a persistent region, may have changed unlogged
 * since the epoch). So the barrier logs its contents (and those of every
 * not-yet-eager object it reaches) at its current address; replay writes them
 * there (claiming the region when the image does not hold it). Addresses are
 * stable between two pauses and every eager pause commits the image and
 * starts a new log, so a log's addresses all refer to one heap layout: the
 * one its epoch's image was taken from.
 *
 * Crash consistency: batches are appended in order and each is checked by its
 * CRC; replay stops at the first batch that is short or fails its CRC (a torn
 * append), so recovery sees a prefix of the stores in program order. A log
 * reset (truncate, new header, fsync) happens only after the image commit that
 * covers its stores is durable; a crash in between leaves a log of the older
 * epoch, which recovery ignores since the image names the newer one.
 */
import * as fs from 'node:fs';
import { crc32 } from './crc32.js';
import { ImageCorruptError } from './image-format.js';

export const WAL_MAGIC = 'HLPWAL01';
export const WAL_HEADER_BYTES = 32;
export const BATCH_MAGIC = 0x4c504c48; // 'HLPL' little-endian
export const BATCH_HEADER_BYTES = 16;
export const REC_STORE = 1;
export const REC_STORE64 = 2;
export const REC_OBJECT = 3;
export const REC_HUMONGOUS = 4;
export const REC_ROOT = 5;
export const REC_TYPE = 6;
export const ROOT_MODES = ['lazy', 'lazy-old', 'eager'];

export interface EagerLogStats {
  /** Stores written through. */
  stores: number;
  /** Objects logged because a store made them persistent. */
  objectsLogged: number;
  wordsLogged: number;
  /** Batches written (each one fdatasync). */
  syncs: number;
  bytesWritten: number;
  writeMs: number;
  syncMs: number;
  /** Time in the barrier slow path, sync included (ms). */
  barrierMs: number;
}

export function emptyEagerStats(): EagerLogStats {
  return { stores: 0, objectsLogged: 0, wordsLogged: 0, syncs: 0, bytesWritten: 0, writeMs: 0, syncMs: 0, barrierMs: 0 };
}

function encodeHeader(epoch: number, imageId: string): Buffer {
  const b = Buffer.alloc(WAL_HEADER_BYTES);
  b.write(WAL_MAGIC, 0, 'latin1');
  b.writeBigUInt64LE(BigInt(epoch), 8);
  Buffer.from(imageId.padEnd(16, '0').slice(0, 16), 'hex').copy(b, 16);
  b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
  return b;
}

/** The log writer. With path '' it only counts (a run without an image file). */
export class EagerLog {
  private fd = -1;
  private buf = new Int32Array(4096);
  private len = 0;
  private pendingStores = 0;
  private pos = WAL_HEADER_BYTES;
  private seq = 0;
  readonly stats: EagerLogStats = emptyEagerStats();

  constructor(readonly path: string, readonly batch: number) {
    if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`eager log: batch ${batch} is not a positive integer`);
  }

  /** Starts the log of `epoch` (truncating any older one). Durable when it returns. */
  reset(epoch: number, imageId: string): void {
    this.len = 0;
    this.pendingStores = 0;
    this.seq = 0;
    this.pos = WAL_HEADER_BYTES;
    if (this.path === '') return;
    if (this.fd < 0) this.fd = fs.openSync(this.path, 'w');
    fs.ftruncateSync(this.fd, 0);
    const h = encodeHeader(epoch, imageId);
    fs.writeSync(this.fd, h, 0, h.length, 0);
    fs.fdatasyncSync(this.fd);
  }

  private reserve(words: number): void {
    if (this.len + words <= this.buf.length) return;
    let n = this.buf.length * 2;
    while (n < this.len + words) n *= 2;
    const bigger = new Int32Array(n);
    bigger.set(this.buf.subarray(0, this.len));
    this.buf = bigger;
  }

  store(address: number, value: number): void {
    this.reserve(3);
    const b = this.buf;
    b[this.len] = REC_STORE;
    b[this.len + 1] = address;
    b[this.len + 2] = value;
    this.len += 3;
    this.stats.stores++;
    if (++this.pendingStores >= this.batch) this.flush();
  }

  store64(address: number, low: number, high: number): void {
    this.reserve(4);
    const b = this.buf;
    b[this.len] = REC_STORE64;
    b[this.len + 1] = address;
    b[this.len + 2] = low;
    b[this.len + 3] = high;
    this.len += 4;
    this.stats.stores++;
    if (++this.pendingStores >= this.batch) this.flush();
  }

  /** Logs an object's current words (it becomes persistent by a store about to be logged). */
  object(address: number, words: Int32Array, humongous: boolean): void {
    const n = words.length;
    this.reserve(3 + n);
    const b = this.buf;
    b[this.len] = humongous ? REC_HUMONGOUS : REC_OBJECT;
    b[this.len + 1] = address;
    b[this.len + 2] = n;
    b.set(words, this.len + 3);
    this.len += 3 + n;
    this.stats.objectsLogged++;
    this.stats.wordsLogged += n;
  }

  /** Logs a type registration (before any object of the type). */
  type(id: number, kind: number, refs: number, dataWords: number, elementWords: number, name: string): void {
    const words = nameWords(name);
    this.reserve(7 + words.length);
    const b = this.buf;
    b[this.len] = REC_TYPE;
    b[this.len + 1] = id;
    b[this.len + 2] = kind;
    b[this.len + 3] = refs;
    b[this.len + 4] = dataWords;
    b[this.len + 5] = elementWords;
    b[this.len + 6] = Buffer.byteLength(name, 'utf8');
    b.set(words, this.len + 7);
    this.len += 7 + words.length;
  }

  /** Logs a persistent root's (new) target and its explicit mode (null: the run's); counts as a store. */
  root(name: string, ref: number, mode: string | null): void {
    const words = nameWords(name);
    const n = words.length;
    this.reserve(4 + n);
    const b = this.buf;
    b[this.len] = REC_ROOT;
    b[this.len + 1] = ref;
    b[this.len + 2] = mode === null ? ROOT_MODES.length : Math.max(0, ROOT_MODES.indexOf(mode));
    b[this.len + 3] = Buffer.byteLength(name, 'utf8');
    b.set(words, this.len + 4);
    this.len += 4 + n;
    this.stats.stores++;
    if (++this.pendingStores >= this.batch) this.flush();
  }

  /** Writes the pending records as one batch and syncs it. */
  flush(): void {
    if (this.len === 0) return;
    const n = this.len;
    this.len = 0;
    this.pendingStores = 0;
    if (this.path === '' || this.fd < 0) return;
    const payload = Buffer.from(this.buf.buffer, this.buf.byteOffset, n * 4);
    const header = Buffer.alloc(BATCH_HEADER_BYTES);
    header.writeUInt32LE(BATCH_MAGIC, 0);
    header.writeUInt32LE(n, 4);
    header.writeUInt32LE(this.seq++, 8);
    header.writeUInt32LE(crc32(payload), 12);
    const t0 = performance.now();
    writeAll(this.fd, header, this.pos);
    writeAll(this.fd, payload, this.pos + BATCH_HEADER_BYTES);
    const t1 = performance.now();
    fs.fdatasyncSync(this.fd);
    const t2 = performance.now();
    this.pos += BATCH_HEADER_BYTES + n * 4;
    this.stats.syncs++;
    this.stats.bytesWritten += BATCH_HEADER_BYTES + n * 4;
    this.stats.writeMs += t1 - t0;
    this.stats.syncMs += t2 - t1;
  }

  close(): void {
    this.flush();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** A name's UTF-8 bytes packed 4 per int32 word (little-endian, zero padded). */
export function nameWords(name: string): Int32Array {
  const bytes = Buffer.from(name, 'utf8');
  const padded = Buffer.alloc(((bytes.length + 3) >> 2) * 4);
  bytes.copy(padded);
  const out = new Int32Array(padded.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = padded.readInt32LE(i * 4);
  return out;
}

/** The name packed by nameWords (n bytes) from words[at ..]. */
export function wordsName(words: Int32Array, at: number, n: number): string {
  const count = (n + 3) >> 2;
  const bytes = Buffer.alloc(count * 4);
  for (let i = 0; i < count; i++) bytes.writeInt32LE(words[at + i], i * 4);
  return bytes.toString('utf8', 0, n);
}

function writeAll(fd: number, buf: Uint8Array, position: number): void {
  let done = 0;
  while (done < buf.length) done += fs.writeSync(fd, buf, done, buf.length - done, position + done);
}

export interface ReadLog {
  /** 'none': no log file; 'stale': the log belongs to another epoch or image (ignored); 'ok': its batches follow. */
  status: 'none' | 'stale' | 'ok';
  /** Valid batches, in order (each an Int32Array of records). */
  batches: Int32Array[];
  /** True when the file ends in a short or CRC-failing batch (a torn append), which is ignored. */
  tornTail: boolean;
  why?: string;
}

/** Reads a log read-only; only the batches of the given epoch and image count. */
export function readEagerLog(path: string, epoch: number, imageId: string): ReadLog {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'none', batches: [], tornTail: false };
    throw new ImageCorruptError(`${path}: cannot read the eager log (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (bytes.length < WAL_HEADER_BYTES || bytes.toString('latin1', 0, 8) !== WAL_MAGIC || bytes.readUInt32LE(28) !== crc32(bytes.subarray(0, 28))) {
    return { status: 'stale', batches: [], tornTail: false, why: 'no valid log header' };
  }
  const logEpoch = Number(bytes.readBigUInt64LE(8));
  const logId = bytes.toString('hex', 16, 24);
  if (logEpoch !== epoch || logId !== imageId.padEnd(16, '0').slice(0, 16)) {
    return { status: 'stale', batches: [], tornTail: false, why: `log of epoch ${logEpoch} (image ${logId}), image at epoch ${epoch}` };
  }
  const batches: Int32Array[] = [];
  let pos = WAL_HEADER_BYTES;
  let seq = 0;
  let tornTail = false;
  while (pos < bytes.length) {
    if (pos + BATCH_HEADER_BYTES > bytes.length || bytes.readUInt32LE(pos) !== BATCH_MAGIC) { tornTail = true; break; }
    const n = bytes.readUInt32LE(pos + 4);
    const end = pos + BATCH_HEADER_BYTES + n * 4;
    if (end > bytes.length || bytes.readUInt32LE(pos + 8) !== seq) { tornTail = true; break; }
    const payload = bytes.subarray(pos + BATCH_HEADER_BYTES, end);
    if (crc32(payload) !== bytes.readUInt32LE(pos + 12)) { tornTail = true; break; }
    const words = new Int32Array(n);
    for (let i = 0; i < n; i++) words[i] = payload.readInt32LE(i * 4);
    batches.push(words);
    pos = end;
    seq++;
  }
  return { status: 'ok', batches, tornTail };
}
