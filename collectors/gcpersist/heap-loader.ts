/**
 * Recovery into a fresh heap: loads a recovered epoch (recovery.ts, already
 * checksum-checked) into a new VM so the workload finds its persistent data.
 *
 *   1. geometry   the heap must have the image's region size and count (references are
 *                 word indices, so every region goes back to its own index)
 *   2. types      the image's type table is registered in order (same ids); a workload that
 *                 registers the same names later gets the same ids back
 *   3. regions    each image region is claimed at its index, its words copied, kind (old, or
 *                 humongous start/continuation, from the manifest's meta) and top restored,
 *                 flagged persistent
 *   4. log        eager mode: the write-through log of this epoch (eager-log.ts) is replayed:
 *                 OBJECT records materialize objects in regions claimed for them (gaps become
 *                 fillers) or rewrite objects of the image in place, STORE records rewrite
 *                 words, ROOT and TYPE records name roots and register types
 *   5. parse      every loaded region is walked object by object (valid headers, sizes that end
 *                 at top); the block-offset table is rebuilt
 *   6. roots      the persistent roots are restored (with their modes)
 *   7. trace      from the roots: every reachable reference must be an object start in a
 *                 loaded region, else the image is refused (one line naming the object)
 *   8. scrub      unreachable objects in loaded regions become fillers, unreachable humongous
 *                 runs are freed: no dead object keeps a reference into a region that was
 *                 not loaded
 *
 * Errors: ImageCorruptError (a UsageError: one line, exit 2) for an image or log that cannot
 * be loaded; the image file is only read, never written.
 */
import { UsageError } from '../../vm-core/errors.js';
import * as layout from '../../vm-core/layout.js';
import * as regionTable from '../../vm-core/region-table.js';
import { formatBytes } from '../../vm-core/sizes.js';
import * as typeRegistry from '../../vm-core/type-registry.js';
import type { Vm } from '../../vm-core/vm.js';
import { REC_HUMONGOUS, REC_OBJECT, REC_ROOT, REC_STORE, REC_STORE64, REC_TYPE, ROOT_MODES, type ReadLog, wordsName } from './eager-log.js';
import { ImageCorruptError, type RecoveredImage } from './image-format.js';

const { HEADER_WORDS, MIN_OBJECT_WORDS, PERSIST_MARK, STATE_MASK, STATE_NORMAL, TYPE_SHIFT, WORD_BYTES } = layout;
const { PERSISTENT_REGION, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD } = regionTable;
const { FILLER_TYPE_ID, TYPE_DATA_ARRAY, TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

export interface LoadResult {
  epoch: number;
  regions: number;
  bytes: number;
  roots: number;
  reachableObjects: number;
  scrubbedWords: number;
  log: { status: ReadLog['status']; batches: number; stores: number; objects: number; tornTail: boolean };
}

/** meta.regionKinds: "r:h,r:c,..." for the humongous regions of an epoch (others are old). */
export function encodeRegionKinds(kinds: Map<number, number>): string {
  const parts: string[] = [];
  for (const [r, k] of kinds) if (k === REGION_HUMONGOUS_START || k === REGION_HUMONGOUS_CONT) parts.push(`${r}:${k === REGION_HUMONGOUS_START ? 'h' : 'c'}`);
  return parts.join(',');
}

function decodeRegionKinds(text: unknown, fail: (what: string) => never): Map<number, number> {
  const out = new Map<number, number>();
  if (text === undefined || text === '') return out;
  if (typeof text !== 'string') fail('has a malformed regionKinds entry');
  for (const part of text.split(',')) {
    const m = /^(\d+):([hc])$/.exec(part);
    if (!m) fail(`has a malformed regionKinds entry '${part}'`);
    out.set(Number(m[1]), m[2] === 'h' ? REGION_HUMONGOUS_START : REGION_HUMONGOUS_CONT);
  }
  return out;
}

export function decodeRootModes(text: unknown): Record<string, string> {
  if (typeof text !== 'string' || text === '') return {};
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/** Loads `image` (and the replayable part of `log`) into `vm`, which must be fresh. */
export function loadImage(vm: Vm, image: RecoveredImage, path: string, log: ReadLog | null): LoadResult {
  const heap = vm.heap;
  const regions = heap.regions;
  const words = heap.words;
  const log2 = heap.logRegionWords;
  const epoch = image.epoch;
  const where = `${path}: epoch ${epoch}`;
  const fail = (what: string): never => { throw new ImageCorruptError(`${where}: ${what}`); };

  // 1. geometry
  const g = image.geometry;
  if (g.regionBytes !== heap.regionWords * WORD_BYTES || g.regionCount !== heap.regionCount) {
    throw new UsageError(
      `${path}: the image holds ${g.regionCount} regions of ${formatBytes(g.regionBytes)}, the heap ${heap.regionCount} of ${formatBytes(heap.regionWords * WORD_BYTES)}; `
      + `recover with --heap ${formatBytes(g.regionBytes * g.regionCount).replace(' ', '').replace('iB', '').toLowerCase()} --region-size ${formatBytes(g.regionBytes).replace(' ', '').replace('iB', '').toLowerCase()}`,
    );
  }
  if (vm.persistentRoots.count > 0) throw new UsageError(`${path}: recovery needs a fresh heap (this one already has persistent roots)`);

  // 2. types
  const types = heap.types;
  image.types.forEach((t, id) => {
    if (id < 2) {
      if (types.info(id).name !== t.name) fail(`type ${id} is '${t.name}', expected '${types.info(id).name}'`);
      return;
    }
    let got: number;
    try {
      if (t.kind === TYPE_STRUCT) got = types.struct(t.name, t.refs, t.dataWords);
      else if (t.kind === TYPE_REF_ARRAY) got = types.refArray(t.name);
      else if (t.kind === TYPE_DATA_ARRAY && (t.elementWords === 1 || t.elementWords === 2)) got = types.dataArray(t.name, t.elementWords);
      else fail(`type '${t.name}' has an unknown kind ${t.kind}`);
    } catch (e) {
      if (e instanceof ImageCorruptError) throw e;
      throw new UsageError(`${where}: type '${t.name}' cannot be registered: ${(e as Error).message}`);
    }
    if (got! !== id) throw new UsageError(`${where}: type '${t.name}' would get id ${got!} in this heap, the image says ${id} (recover into a fresh heap)`);
  });

  // 3. regions
  const kinds = decodeRegionKinds(image.meta.regionKinds, fail);
  const loaded = new Uint8Array(heap.regionCount);
  const loadedList = [...image.regions.keys()].sort((a, b) => a - b);
  let bytes = 0;
  for (const r of loadedList) {
    const w = image.regions.get(r)!;
    const start = r << log2;
    const kind = kinds.get(r) ?? REGION_OLD;
    if (w.length > heap.regionWords) fail(`region ${r} has ${w.length} words, more than a region`);
    if (kind !== REGION_HUMONGOUS_CONT && w.length > 0 && w.length < regions.bottom(r) - start + MIN_OBJECT_WORDS) fail(`region ${r} holds ${w.length} words, too few for an object`);
    if (!heap.free.has(r)) throw new UsageError(`${path}: region ${r} of the heap is in use; recovery needs a fresh heap`);
    heap.free.removeRun(r, 1);
    words.set(w, start);
    regions.kind[r] = kind;
    regions.top[r] = start + Math.max(w.length, regions.bottom(r) - start);
    regions.persistent[r] = PERSISTENT_REGION;
    regions.tams[r] = regions.bottom(r);
    regions.liveWords[r] = regions.top[r] - regions.bottom(r);
    heap.accountedWords += regions.top[r] - regions.bottom(r);
    loaded[r] = 1;
    bytes += w.byteLength;
  }
  for (const r of loadedList) {
    if (regions.kind[r] !== REGION_HUMONGOUS_CONT) continue;
    let first = r;
    while (first > 0 && regions.kind[first] === REGION_HUMONGOUS_CONT && loaded[first - 1] === 1) first--;
    if (regions.kind[first] !== REGION_HUMONGOUS_START) fail(`region ${r} continues a humongous object whose first region is not in the image`);
    regions.humongousStart[r] = first;
  }
  for (const r of loadedList) if (regions.kind[r] === REGION_HUMONGOUS_START) regions.humongousStart[r] = r;

  // 4. the eager log
  const roots: Record<string, number> = { ...image.roots };
  const modes = decodeRootModes(image.meta.rootModes);
  const replay = { status: log?.status ?? 'none', batches: 0, stores: 0, objects: 0, tornTail: log?.tornTail ?? false } as LoadResult['log'];
  if (log && log.status === 'ok') replayLog(vm, log, loaded, roots, modes, replay, (what) => { throw new ImageCorruptError(`${path}.wal: ${what}`); });

  // 5. parse every loaded region; object-start bits; block offsets
  const typeCount = types.count;
  const starts = new Int32Array(Math.ceil(heap.heapWords / 64));
  const isStart = (ref: number): boolean => ((starts[ref >> 6] >>> ((ref >> 1) & 31)) & 1) !== 0;
  const validSize = (obj: number): number => {
    const header = words[obj];
    if (header < 0 || (header & STATE_MASK) !== STATE_NORMAL) return -1;
    const type = header >>> TYPE_SHIFT;
    if (type <= 0 || type >= typeCount) return -1;
    if (types.kind[type] !== TYPE_STRUCT && words[obj + 1] < 0) return -1;
    return heap.sizeOf(obj);
  };
  for (let r = 0; r < heap.regionCount; r++) {
    if (loaded[r] === 0) continue;
    const kind = regions.kind[r];
    if (kind === REGION_HUMONGOUS_CONT) continue;
    const top = regions.top[r];
    if (kind === REGION_HUMONGOUS_START) {
      const obj = regions.bottom(r);
      const size = validSize(obj);
      if (size < 0) fail(`humongous region ${r} holds no valid object`);
      const end = obj + size;
      const n = Math.ceil(size / heap.regionWords);
      for (let k = 1; k < n; k++) {
        if (r + k >= heap.regionCount || regions.kind[r + k] !== REGION_HUMONGOUS_CONT || loaded[r + k] === 0) fail(`the humongous object of region ${r} lacks its region ${r + k}`);
        if (regions.top[r + k] !== Math.min(regions.end(r + k), end)) fail(`humongous region ${r + k} has the wrong length`);
      }
      if (regions.top[r + n - 1] !== end && n > 1) fail(`the humongous object of region ${r} does not end at its last region's top`);
      if (n === 1 && top !== end) fail(`the humongous object of region ${r} does not end at its top`);
      starts[obj >> 6] |= 1 << ((obj >> 1) & 31);
      heap.recordObjectStart(obj, end);
      continue;
    }
    let obj = r << log2;
    while (obj < top) {
      const size = validSize(obj);
      if (size < MIN_OBJECT_WORDS) fail(`region ${r} has no valid object header at word ${obj} (header ${words[obj]})`);
      if (obj + size > top) fail(`region ${r}: the object at word ${obj} runs past the region's end`);
      starts[obj >> 6] |= 1 << ((obj >> 1) & 31);
      heap.recordObjectStart(obj, obj + size);
      obj += size;
    }
  }
  const isObject = (ref: number): boolean =>
    ref > 0 && ref < heap.heapWords && (ref & 1) === 0 && loaded[ref >> log2] === 1 && isStart(ref) && words[ref] >>> TYPE_SHIFT !== FILLER_TYPE_ID;

  // 6. roots
  for (const [name, ref] of Object.entries(roots)) {
    if (ref !== 0 && !isObject(ref)) fail(`root '${name}' (${ref}) is not an object of the image`);
  }

  // 7. trace from the roots
  const reached = new Int32Array(starts.length);
  let stack = new Int32Array(1024);
  let sp = 0;
  let reachable = 0;
  const visit = (ref: number, from: string): void => {
    if (!isObject(ref)) fail(`${from} points to ${ref}, which is not an object of the image`);
    const i = ref >> 6;
    const bit = 1 << ((ref >> 1) & 31);
    if ((reached[i] & bit) !== 0) return;
    reached[i] |= bit;
    reachable++;
    if (sp === stack.length) { const s = new Int32Array(sp * 2); s.set(stack); stack = s; }
    stack[sp++] = ref;
  };
  for (const [name, ref] of Object.entries(roots)) if (ref !== 0) visit(ref, `root '${name}'`);
  while (sp > 0) {
    const obj = stack[--sp];
    const n = heap.refCount(obj);
    for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) if (words[s] !== 0) visit(words[s], `the object at ${obj} (slot ${s - obj - HEADER_WORDS})`);
  }

  // 8. scrub: unreachable objects become fillers; unreachable humongous runs are freed
  let scrubbed = 0;
  for (let r = 0; r < heap.regionCount; r++) {
    if (loaded[r] === 0) continue;
    const kind = regions.kind[r];
    if (kind === REGION_HUMONGOUS_CONT) continue;
    if (kind === REGION_HUMONGOUS_START) {
      const obj = regions.bottom(r);
      if ((reached[obj >> 6] >>> ((obj >> 1) & 31) & 1) === 0) {
        const n = heap.humongousRegionCount(r);
        scrubbed += heap.sizeOf(obj);
        for (let k = n - 1; k >= 0; k--) { regions.persistent[r + k] = 0; heap.releaseRegion(r + k); }
      }
      continue;
    }
    // a dead run is rewritten as one filler only when it holds an object (a run of fillers stays as is)
    const top = regions.top[r];
    let obj = r << log2;
    let deadStart = -1;
    let deadObjects = 0;
    while (obj < top) {
      const size = heap.sizeOf(obj);
      const live = ((reached[obj >> 6] >>> ((obj >> 1) & 31)) & 1) !== 0 || (r === 0 && obj === 0);
      if (live) {
        words[obj] &= ~PERSIST_MARK;
        if (deadStart >= 0 && deadObjects > 0) heap.writeFiller(deadStart, obj - deadStart);
        deadStart = -1;
      } else {
        if (deadStart < 0) { deadStart = obj; deadObjects = 0; }
        if (words[obj] >>> TYPE_SHIFT !== FILLER_TYPE_ID) { deadObjects++; scrubbed += size; }
      }
      obj += size;
    }
    if (deadStart >= 0 && deadObjects > 0) heap.writeFiller(deadStart, top - deadStart);
  }
  for (const [name, ref] of Object.entries(roots)) vm.persistRoot(name, ref, modes[name]);
  return { epoch, regions: loadedList.length, bytes, roots: Object.keys(roots).length, reachableObjects: reachable, scrubbedWords: scrubbed, log: replay };
}

/** Replays a log's batches into the heap: materializes OBJECT records, applies STORE records. */
function replayLog(vm: Vm, log: ReadLog, loaded: Uint8Array, roots: Record<string, number>, modes: Record<string, string>, out: LoadResult['log'], fail: (what: string) => never): void {
  const heap = vm.heap;
  const regions = heap.regions;
  const words = heap.words;
  const log2 = heap.logRegionWords;
  /** Regions materialized by this replay: their objects (address, size) in record order. */
  const placed = new Map<number, number[]>();
  const inLoaded = (addr: number): boolean => addr > 0 && addr < heap.heapWords && loaded[addr >> log2] === 1 && addr < regions.top[addr >> log2];
  /** Regions that came from the image (an object logged there is rewritten in place). */
  const fromImage = loaded.slice();
  const claim = (r: number, kind: number): void => {
    if (!heap.free.has(r)) fail(`a logged object lies in region ${r}, which the image already holds`);
    heap.free.removeRun(r, 1);
    regions.kind[r] = kind;
    regions.persistent[r] = PERSISTENT_REGION;
    regions.tams[r] = regions.bottom(r);
    loaded[r] = 1;
  };
  for (const [b, batch] of log.batches.entries()) {
    let p = 0;
    while (p < batch.length) {
      const tag = batch[p];
      const addr = batch[p + 1];
      if (tag === REC_STORE) {
        if (p + 3 > batch.length || !inLoaded(addr)) fail(`batch ${b}: a store to word ${addr}, outside the recovered heap`);
        words[addr] = batch[p + 2];
        out.stores++;
        p += 3;
      } else if (tag === REC_STORE64) {
        if (p + 4 > batch.length || !inLoaded(addr) || !inLoaded(addr + 1)) fail(`batch ${b}: a store to word ${addr}, outside the recovered heap`);
        words[addr] = batch[p + 2];
        words[addr + 1] = batch[p + 3];
        out.stores++;
        p += 4;
      } else if (tag === REC_OBJECT || tag === REC_HUMONGOUS) {
        const n = batch[p + 2];
        if (!(n >= MIN_OBJECT_WORDS) || p + 3 + n > batch.length || !(addr > 0) || (addr & 1) !== 0 || addr + n > heap.heapWords) fail(`batch ${b}: a malformed object record`);
        const r = addr >> log2;
        if (fromImage[r] === 1) {
          // an object of the image logged whole: it has not moved since the epoch, so it is rewritten in place
          const humongousHere = regions.kind[r] === REGION_HUMONGOUS_START;
          if ((tag === REC_HUMONGOUS) !== humongousHere || (humongousHere && addr !== regions.bottom(r)) || addr < regions.bottom(r)) fail(`batch ${b}: a logged object at ${addr} does not match region ${r} of the image`);
          const end = addr + n;
          const last = (end - 1) >> log2;
          for (let k = r; k <= last; k++) if (fromImage[k] !== 1) fail(`batch ${b}: a logged object at ${addr} runs past the image's regions`);
          if (end > regions.top[last]) fail(`batch ${b}: a logged object at ${addr} runs past the top of region ${last}`);
          words.set(batch.subarray(p + 3, p + 3 + n), addr);
        } else if (tag === REC_HUMONGOUS) {
          if (addr !== regions.bottom(r)) fail(`batch ${b}: a humongous object at ${addr}, not at a region's bottom`);
          const count = Math.ceil(n / heap.regionWords);
          const end = addr + n;
          for (let k = 0; k < count; k++) {
            claim(r + k, k === 0 ? REGION_HUMONGOUS_START : REGION_HUMONGOUS_CONT);
            regions.humongousStart[r + k] = r;
            regions.top[r + k] = Math.min(regions.end(r + k), end);
            heap.accountedWords += regions.top[r + k] - regions.bottom(r + k);
          }
          words.set(batch.subarray(p + 3, p + 3 + n), addr);
        } else {
          if ((addr + n - 1) >> log2 !== r) fail(`batch ${b}: a logged object crosses a region boundary`);
          let list = placed.get(r);
          if (!list) {
            claim(r, REGION_OLD);
            regions.top[r] = regions.bottom(r);
            list = [];
            placed.set(r, list);
          }
          if (addr < regions.bottom(r)) fail(`batch ${b}: a logged object overlaps region ${r}'s reserved words`);
          list.push(addr, n);
          words.set(batch.subarray(p + 3, p + 3 + n), addr);
          if (addr + n > regions.top[r]) {
            heap.accountedWords += addr + n - regions.top[r];
            regions.top[r] = addr + n;
          }
        }
        out.objects++;
        p += 3 + n;
      } else if (tag === REC_ROOT) {
        const n = batch[p + 3];
        const wordsOfName = (n + 3) >> 2;
        if (!(n > 0 && n <= 800) || p + 4 + wordsOfName > batch.length || !(batch[p + 2] >= 0 && batch[p + 2] <= ROOT_MODES.length)) fail(`batch ${b}: a malformed root record`);
        const name = wordsName(batch, p + 4, n);
        roots[name] = addr;
        if (batch[p + 2] < ROOT_MODES.length) modes[name] = ROOT_MODES[batch[p + 2]];
        else delete modes[name];
        out.stores++;
        p += 4 + wordsOfName;
      } else if (tag === REC_TYPE) {
        const [id, kind, refs, dataWords, elementWords, n] = [addr, batch[p + 2], batch[p + 3], batch[p + 4], batch[p + 5], batch[p + 6]];
        const wordsOfName = (n + 3) >> 2;
        if (!(n > 0 && n <= 800) || p + 7 + wordsOfName > batch.length) fail(`batch ${b}: a malformed type record`);
        const name = wordsName(batch, p + 7, n);
        const types = heap.types;
        let got = -1;
        try {
          if (kind === TYPE_STRUCT) got = types.struct(name, refs, dataWords);
          else if (kind === TYPE_REF_ARRAY) got = types.refArray(name);
          else if (kind === TYPE_DATA_ARRAY && (elementWords === 1 || elementWords === 2)) got = types.dataArray(name, elementWords);
        } catch (e) {
          fail(`batch ${b}: type '${name}' cannot be registered (${(e as Error).message})`);
        }
        if (got !== id) fail(`batch ${b}: type '${name}' gets id ${got}, the log says ${id}`);
        p += 7 + wordsOfName;
      } else {
        fail(`batch ${b} holds an unknown record (tag ${tag} at word ${p})`);
      }
    }
    out.batches++;
  }
  // materialized regions: fillers in the gaps between the logged objects
  for (const [r, list] of placed) {
    const objs: [number, number][] = [];
    for (let i = 0; i < list.length; i += 2) objs.push([list[i], list[i + 1]]);
    objs.sort((a, b) => a[0] - b[0]);
    let at = r << log2;
    for (const [addr, n] of objs) {
      if (addr < at) fail(`logged objects overlap in region ${r} (at word ${addr})`);
      if (addr > at) heap.writeFiller(at, addr - at);
      at = addr + n;
    }
    regions.liveWords[r] = regions.top[r] - regions.bottom(r);
  }
}
