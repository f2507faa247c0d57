/**
 * GCPersist's persistence engine (Wu et al., "GCPersist: an efficient
 * GC-assisted lazy persistency framework for resilient Java applications on
 * NVM", VEE 2020), attached to a generational region collector by
 * gcpersist-collector.ts through three hooks:
 *
 *   beforeEvacuation()   collection set flagged, evacuation not begun: the persist pass
 *                        (persist-pass.ts) copies persistent young/candidate objects into
 *                        persistent regions; the evacuation only follows their forwarding
 *   beforeFull/afterFull the full compaction keeps persistent regions in place
 *   afterPause(kind)     the pause is over (regions freed): reconcile the region flags and,
 *                        when the mode says this pause persists, COMMIT:
 *
 *   commit   1. trace from the persistent roots; stragglers -> stragglers.ts (moved, or
 *               their regions adopted); trace again: nothing may be left outside
 *            2. unreachable adopted humongous runs lose their flag
 *            3. dirty regions: every persistent region whose used words differ (CRC-32 and
 *               length) from what the image holds; the mutator's stores need no barrier
 *               in the lazy modes: the content comparison finds them
 *            4. the image (image-sink.ts) appends the dirty regions and a manifest (roots,
 *               types, region kinds, root modes, image id), syncs, then names the epoch
 *               in a superblock (persistent-image.ts: copy-on-write, crash consistent)
 *            5. eager: the write-through log starts over for the new epoch (eager-log.ts)
 *
 *   mode       pre-copy at every evacuation pause   commits at
 *   lazy       yes                                   every pause
 *   lazy-old   yes                                   mixed and full pauses, and explicit
 *                                                    'persist' collections (a checkpoint)
 *   eager      yes                                   every pause (the log's addresses are only
 *                                                    valid until objects move), plus every store
 *                                                    into an eager object is logged (barriers/persist.ts)
 *   off        no                                    never: the collector is gen
 *
 * Per root: persistRoot(name, ref, mode) overrides the run's mode for that
 * root. A pause commits when the mode of any root asks for it (a commit always
 * holds all persistent data, so an epoch stays one consistent snapshot);
 * eager roots are traced first and their objects carry PERSIST_EAGER, so only
 * stores into them are written through.
 */
import { randomBytes } from 'node:crypto';
import { writeSync } from 'node:fs';
import type { OptionValue } from '../../vm-core/collector.js';
import { UsageError } from '../../vm-core/errors.js';
import * as layout from '../../vm-core/layout.js';
import type { PersistMode } from '../../vm-core/persistent-roots.js';
import * as regionTable from '../../vm-core/region-table.js';
import type { Vm } from '../../vm-core/vm.js';
import { rebuildRememberedSets } from '../region/marking-cycle.js';
import type { RememberedSets } from '../region/remembered-sets.js';
import { crc32 } from './crc32.js';
import { EagerLog, type EagerLogStats, emptyEagerStats, readEagerLog } from './eager-log.js';
import { decodeRootModes, encodeRegionKinds, loadImage, type LoadResult } from './heap-loader.js';
import { checkPlacement, compareImage } from './image-check.js';
import type { CommitStats, EpochContent, RegionSnapshot, TypeDescription } from './image-format.js';
import { FileSink, type ImageSink, MemorySink } from './image-sink.js';
import { PersistPass } from './persist-pass.js';
import { PersistentSpace } from './persistent-space.js';
import { recoverImage } from './recovery.js';
import { handleStragglers } from './stragglers.js';

const { HEADER_WORDS, PERSIST_EAGER, WORD_BYTES } = layout;
const { PERSISTENT_LOGGED, PERSISTENT_NONE, PERSISTENT_REGION, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD, REGION_PERSISTENT } = regionTable;

export type RunPersistMode = PersistMode | 'off';
export const RUN_PERSIST_MODES: RunPersistMode[] = ['lazy', 'lazy-old', 'eager', 'off'];

export interface PersistenceOptions {
  mode: RunPersistMode;
  /** Image file to create (or to append to when it is the recovered one); '' keeps epochs in memory. */
  image: string;
  /** Image to recover from at start-up ('' none). */
  recover: string;
  /** Eager mode: stores per fdatasync of the write-through log (at most). */
  eagerBatch: number;
}

export function persistenceOptions(o: Record<string, OptionValue>): PersistenceOptions {
  const mode = String(o.persistMode); // one of RUN_PERSIST_MODES: the option's choices, checked by resolveOptions
  const batch = Number(o.eagerBatch);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new UsageError(`gcpersist: eagerBatch=${o.eagerBatch} must be a positive integer`);
  return { mode: mode as RunPersistMode, image: String(o.image ?? ''), recover: String(o.recover ?? ''), eagerBatch: batch };
}

/** Totals of a run, for the run report (`persistence`) and `heaplab persist study`. */
export interface PersistenceReport {
  mode: RunPersistMode;
  image: string;
  epoch: number;
  commits: number;
  commitsSkipped: number;
  bytesPersisted: number;
  regionsWritten: number;
  writeMs: number;
  syncMs: number;
  compactMs: number;
  /** Whole commit time (trace, stragglers, dirty detection, write, sync). */
  commitMs: number;
  prePassMs: number;
  objectsPreCopied: number;
  bytesPreCopied: number;
  stragglers: number;
  stragglerWalkMs: number;
  adoptedRegions: number;
  persistentBytes: number;
  persistentRegions: number;
  eager: EagerLogStats & { nsPerStore: number; batch: number };
  recovery: (LoadResult & { ms: number; from: string }) | null;
}

const PHASES = process.env.HEAPLAB_PERSIST_PHASES === '1';
/** Crash-test phase lines on stderr (HEAPLAB_PERSIST_PHASES=1): the parent aims some kills at commits. */
function phase(text: string): void {
  if (PHASES) writeSync(2, `heaplab-persist: ${text}\n`);
}

export class Persistence {
  readonly space: PersistentSpace;
  readonly pass: PersistPass;
  readonly log: EagerLog | null;
  private sink: ImageSink | null = null;
  private imageId = '';
  /** Per region: CRC and length of what the image holds (-1: nothing). */
  private readonly committedCrc: Float64Array;
  private readonly committedLen: Int32Array;
  private lastPayload = '';
  /** Did the last pause commit (the verifier checks the image after such pauses)? */
  lastPauseCommitted = false;
  /** Kinds of the regions hidden from the full compaction (beforeFull). */
  private hidden: number[] = [];
  private readonly totals = {
    commits: 0, commitsSkipped: 0, bytesPersisted: 0, regionsWritten: 0, writeMs: 0, syncMs: 0, compactMs: 0, commitMs: 0,
    prePassMs: 0, objectsPreCopied: 0, bytesPreCopied: 0, stragglers: 0, stragglerWalkMs: 0, adoptedRegions: 0,
  };
  private recovery: PersistenceReport['recovery'] = null;

  constructor(private readonly vm: Vm, readonly options: PersistenceOptions, private readonly remsets: RememberedSets | null) {
    const heap = vm.heap;
    this.space = new PersistentSpace(heap, remsets);
    this.pass = new PersistPass(heap, vm.persistentRoots, this.space, remsets);
    this.committedCrc = new Float64Array(heap.regionCount).fill(-1);
    this.committedLen = new Int32Array(heap.regionCount).fill(-1);
    const eagerRun = options.mode === 'eager';
    this.log = eagerRun ? new EagerLog(options.image || options.recover ? `${options.image || options.recover}.wal` : '', options.eagerBatch) : null;
    if (eagerRun) {
      vm.persistentRoots.onSet = (i, ref) => {
        if (this.sink !== null && this.isEager(i)) this.storeRoot(i, ref);
      };
    }
    vm.persistentRoots.checkMode = (name, mode) => {
      if (mode === 'eager' && !eagerRun && options.mode !== 'off') {
        throw new UsageError(`persistRoot('${name}'): mode eager needs the write-through barrier, chosen per process: run with --persist-mode eager`);
      }
    };
  }

  get active(): boolean { return this.options.mode !== 'off'; }

  /**
   * At the start of every pause (eager mode): no object keeps PERSIST_EAGER,
   * neither the objects logged since the last pause nor those of the
   * persistent regions. The pause's traces (pre-copy, commit) set it again on
   * exactly the objects reachable from an eager root, which the commit puts in
   * the epoch; so for the log that starts after it, "eager" means "this
   * object and its closure are in the epoch". Clearing before the evacuation
   * matters: an eager object that is no longer eager-reachable would be copied
   * by the evacuation with the bit, and look logged when it is not.
   */
  atPauseStart(): void {
    if (this.log === null) return;
    const words = this.vm.heap.words;
    const logged = this.logged;
    for (let i = 0; i < this.loggedCount; i++) words[logged[i]] &= ~PERSIST_EAGER;
    this.loggedCount = 0;
    this.clearEagerBits();
  }

  /** Opens (or recovers) the image. Called once, by the collector's constructor. */
  start(): void {
    const o = this.options;
    const heap = this.vm.heap;
    const geometry = { regionBytes: heap.regionWords * WORD_BYTES, regionCount: heap.regionCount };
    if (o.recover !== '') {
      this.recover(o.recover);
      return;
    }
    if (!this.active) return;
    if (o.image !== '') {
      this.sink = FileSink.create(o.image, geometry);
      phase('image-created');
    } else {
      this.sink = new MemorySink(geometry);
    }
    this.imageId = randomBytes(8).toString('hex');
    // epoch 1 names the image id at once, so an eager log can be matched to its image from the start
    this.commit('create', true);
    if (this.log !== null && !this.lastPauseCommitted) this.log.reset(this.sink.epoch, this.imageId);
    this.lastPauseCommitted = false;
  }

  /** Recovery at start-up: the newest valid epoch (and its eager log) into this fresh heap. */
  private recover(path: string): void {
    const t0 = performance.now();
    const image = recoverImage(path);
    const imageId = typeof image.meta.imageId === 'string' ? image.meta.imageId : '';
    const wal = readEagerLog(`${path}.wal`, image.epoch, imageId);
    const loaded = loadImage(this.vm, image, path, wal);
    if (this.remsets !== null) {
      // humongous regions are tracked by the generational collector; their remembered sets are rebuilt
      // (else a recovered humongous object referenced only from recovered old regions would look
      // unreferenced to eager reclaim)
      let humongous = 0;
      for (let r = 0; r < this.vm.heap.regionCount; r++) if (this.vm.heap.regions.kind[r] === REGION_HUMONGOUS_START) { this.remsets.track(r); humongous++; }
      if (humongous > 0) rebuildRememberedSets(this.vm.heap, this.remsets);
    }
    const ms = performance.now() - t0;
    this.recovery = { ...loaded, ms, from: path };
    phase(`recovered ${image.epoch}`);
    if (!this.active) return;
    const o = this.options;
    const geometry = { regionBytes: this.vm.heap.regionWords * WORD_BYTES, regionCount: this.vm.heap.regionCount };
    if (o.image === '' || o.image === path) {
      // go on appending epochs to the recovered image (copy-on-write: nothing valid is rewritten)
      this.sink = FileSink.open(path);
      this.imageId = imageId || randomBytes(8).toString('hex');
      for (const [r, w] of image.regions) {
        this.committedCrc[r] = crc32(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
        this.committedLen[r] = w.length;
      }
      this.lastPayload = '';
    } else {
      this.sink = FileSink.create(o.image, geometry);
      this.imageId = randomBytes(8).toString('hex');
      phase('image-created');
    }
    // the replayed log and the scrub are folded into a new epoch now, so the log can start over
    this.commit('recovery', true);
    if (this.log !== null && !this.lastPauseCommitted) this.log.reset(this.sink.epoch, this.imageId);
    this.lastPauseCommitted = false;
  }

  // ---- pause hooks -------------------------------------------------------------------

  private isEager = (i: number): boolean => (this.vm.persistentRoots.modes[i] ?? this.options.mode) === 'eager';

  /** The collection set is flagged; the evacuation has not begun. */
  beforeEvacuation(): void {
    if (!this.active || this.vm.persistentRoots.count === 0) return;
    const t0 = performance.now();
    this.pass.copyCollectionSet(this.isEager);
    const w = this.pass.work;
    const events = this.vm.events;
    events.phaseEnd('persist-copy');
    events.count('persistObjectsCopied', w.objectsCopied);
    events.count('persistBytesCopied', w.wordsCopied * WORD_BYTES);
    events.count('persistCopyFailures', w.copyFailures);
    this.totals.prePassMs += performance.now() - t0;
    this.totals.objectsPreCopied += w.objectsCopied;
    this.totals.bytesPreCopied += w.wordsCopied * WORD_BYTES;
  }

  /** Before a full compaction: persistent old regions become kind PERSISTENT so the compactor keeps them in place. */
  beforeFull(): void {
    const regions = this.vm.heap.regions;
    this.hidden = [];
    for (let r = 0; r < this.vm.heap.regionCount; r++) {
      if (regions.persistent[r] === PERSISTENT_REGION && regions.kind[r] === REGION_OLD) {
        regions.kind[r] = REGION_PERSISTENT;
        this.hidden.push(r);
      }
    }
  }

  /** After it: back to old, and their slots into tracked regions recorded (the compaction rebuilt the sets without them). */
  afterFull(): void {
    const heap = this.vm.heap;
    const regions = heap.regions;
    for (const r of this.hidden) regions.kind[r] = REGION_OLD;
    if (this.remsets !== null && this.hidden.length > 0) {
      const tracked = this.remsets.tracked;
      const words = heap.words;
      const log = heap.logRegionWords;
      for (const r of this.hidden) {
        let obj = r << log;
        const top = regions.top[r];
        while (obj < top) {
          const n = heap.refCount(obj);
          for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
            const v = words[s];
            if (v === 0) continue;
            const t = v >> log;
            if (t !== r && tracked[t] !== 0) this.remsets.add(t, s >> layout.LOG_CARD_WORDS);
          }
          obj += heap.sizeOf(obj);
        }
      }
    }
    this.hidden = [];
  }

  /** The pause (of `kind`, for `cause`) is over; commit when the mode says so. */
  afterPause(kind: string, cause: string): void {
    this.lastPauseCommitted = false;
    this.space.reconcile();
    if (!this.active) return;
    const roots = this.vm.persistentRoots;
    if (roots.count === 0 && this.space.regionsList().length === 0) return;
    if (!this.pauseCommits(kind, cause)) return;
    this.commit(kind, false);
  }

  private pauseCommits(kind: string, cause: string): boolean {
    if (cause === 'persist' || kind === 'full' || kind === 'mixed') return true;
    const roots = this.vm.persistentRoots;
    if (roots.count === 0) return this.options.mode !== 'lazy-old';
    for (let i = 0; i < roots.count; i++) if ((roots.modes[i] ?? this.options.mode) !== 'lazy-old') return true;
    return false;
  }

  // ---- commit -------------------------------------------------------------------------

  /** Commits the heap's persistent data as the next epoch (inside a pause, or right after recovery). */
  commit(reason: string, outsidePause: boolean): void {
    const sink = this.sink;
    if (sink === null) return;
    const t0 = performance.now();
    const vm = this.vm;
    const heap = vm.heap;
    const events = vm.events;
    const pass = this.pass;

    // 1. placement: stragglers are moved (or their regions adopted) before anything is written
    pass.traceOnly(this.isEager);
    if (pass.stragglerCount > 0) {
      const found = pass.stragglerCount;
      const s = handleStragglers(heap, vm.mutators, this.space, this.remsets, pass.stragglers, pass.stragglerCount);
      this.totals.stragglers += found;
      this.totals.stragglerWalkMs += s.walkMs;
      this.totals.adoptedRegions += s.adoptedRegions;
      if (!outsidePause) {
        events.count('persistStragglers', found);
        events.count('persistStragglerWalkMs', s.walkMs);
        events.count('persistAdoptedRegions', s.adoptedRegions);
      }
      pass.traceOnly(this.isEager);
      if (pass.stragglerCount > 0) throw new Error(`gcpersist: ${pass.stragglerCount} persistent objects are still outside persistent regions after the straggler step`);
    }
    // 2. adopted humongous runs no longer reachable are dropped
    const regions = heap.regions;
    for (let r = 0; r < heap.regionCount; r++) {
      if (regions.kind[r] === REGION_HUMONGOUS_START && regions.persistent[r] === PERSISTENT_REGION && pass.humongousReached[r] === 0) this.space.dropHumongous(r);
    }
    // volatile regions that held logged objects: those objects have moved or died
    for (let r = 0; r < heap.regionCount; r++) {
      if (regions.persistent[r] !== PERSISTENT_LOGGED) continue;
      regions.persistent[r] = PERSISTENT_NONE;
    }

    // 3. dirty regions
    const persistentRegions = this.space.regionsList();
    const changed: RegionSnapshot[] = [];
    const kinds = new Map<number, number>();
    const words = heap.words;
    const log = heap.logRegionWords;
    const seen = new Uint8Array(heap.regionCount);
    for (const r of persistentRegions) {
      seen[r] = 1;
      kinds.set(r, regions.kind[r]);
      const start = r << log;
      const len = regions.top[r] - start;
      const crc = crc32(new Uint8Array(heap.buffer, start * WORD_BYTES, len * WORD_BYTES));
      if (this.committedCrc[r] !== crc || this.committedLen[r] !== len) {
        changed.push({ index: r, words: words.subarray(start, start + len) });
        this.committedCrc[r] = crc;
        this.committedLen[r] = len;
      }
    }
    for (let r = 0; r < heap.regionCount; r++) {
      if (seen[r] === 0) { this.committedCrc[r] = -1; this.committedLen[r] = -1; }
    }
    const rootModes: Record<string, string> = {};
    const roots = vm.persistentRoots;
    // only explicit per-root modes are kept: a recovered root otherwise follows the new run's mode
    for (let i = 0; i < roots.count; i++) if (roots.modes[i] !== null) rootModes[roots.names[i]] = roots.modes[i]!;
    const types: TypeDescription[] = [];
    for (let id = 0; id < heap.types.count; id++) {
      const t = heap.types.info(id);
      types.push({ name: t.name, kind: t.kind, refs: t.refs, dataWords: t.dataWords, elementWords: t.elementWords });
    }
    const meta = { heaplab: 'gcpersist', imageId: this.imageId, regionKinds: encodeRegionKinds(kinds), rootModes: JSON.stringify(rootModes), mode: this.options.mode, gcCount: vm.gcCount, reason };
    const content: EpochContent = { regions: changed, persistentRegions, roots: roots.entries(), types, meta };
    const payload = JSON.stringify([persistentRegions, content.roots, types, meta.regionKinds, meta.rootModes]);
    const logPending = this.log !== null && this.log.stats.stores + this.log.stats.objectsLogged > this.logMark;
    if (changed.length === 0 && payload === this.lastPayload && !logPending) {
      this.totals.commitsSkipped++;
      if (!outsidePause) events.phaseEnd('persist-commit');
      return;
    }

    // 4. the epoch: blocks + manifest, sync, superblock, sync
    phase(`commit-begin ${sink.epoch + 1}`);
    const stats: CommitStats = sink.commit(content);
    phase(`commit-durable ${stats.epoch}`);
    this.lastPayload = payload;
    // 5. eager: a new log for the new epoch (only now: the image covers every logged store)
    if (this.log !== null) {
      this.log.reset(stats.epoch, this.imageId);
      this.logMark = this.log.stats.stores + this.log.stats.objectsLogged;
    }
    this.typesDurable = types.length;
    this.lastPauseCommitted = true;
    const tot = this.totals;
    tot.commits++;
    tot.bytesPersisted += stats.bytesWritten;
    tot.regionsWritten += stats.regionsWritten;
    tot.writeMs += stats.writeMs;
    tot.syncMs += stats.syncMs;
    tot.compactMs += stats.compactMs;
    tot.commitMs += performance.now() - t0;
    if (!outsidePause) {
      events.phaseEnd('persist-commit');
      events.count('persistEpoch', stats.epoch);
      events.count('persistBytesWritten', stats.bytesWritten);
      events.count('persistRegionsWritten', stats.regionsWritten);
      events.count('persistWriteMs', stats.writeMs);
      events.count('persistSyncMs', stats.syncMs);
    }
  }

  /** Log records counted at the last reset: more since then means the log holds stores the image lacks. */
  private logMark = 0;
  /** Types the image and the log know (ids below this); newer ones are logged before their first object. */
  private typesDurable = 0;
  /** Objects the eager barrier logged since the last pause (their addresses are valid until it starts). */
  private logged: Int32Array<ArrayBuffer> = new Int32Array(256);
  private loggedCount = 0;

  /** Clears PERSIST_EAGER on every object of the persistent regions (a walk of their headers). */
  private clearEagerBits(): void {
    const heap = this.vm.heap;
    const regions = heap.regions;
    const words = heap.words;
    for (let r = 0; r < heap.regionCount; r++) {
      if (regions.persistent[r] !== PERSISTENT_REGION) continue;
      const kind = regions.kind[r];
      if (kind === REGION_HUMONGOUS_CONT) continue;
      if (kind === REGION_HUMONGOUS_START) { words[regions.bottom(r)] &= ~PERSIST_EAGER; continue; }
      const top = regions.top[r];
      for (let obj = r << heap.logRegionWords; obj < top; obj += heap.sizeOf(obj)) words[obj] &= ~PERSIST_EAGER;
    }
  }

  // ---- the eager barrier's slow path (barriers/persist.ts) ----------------------------------

  /** A reference store into an object of a persistent or logged region: logged when the object is eager. */
  storeRef(obj: number, slot: number, val: number): void {
    const words = this.vm.heap.words;
    if ((words[obj] & PERSIST_EAGER) === 0) return;
    const t0 = performance.now();
    const log = this.log!;
    if (val !== 0 && (words[val] & PERSIST_EAGER) === 0) this.logClosure(val);
    log.store(slot, val);
    log.stats.barrierMs += performance.now() - t0;
  }

  /** An eager root named or retargeted: its target's closure and the root itself are logged. */
  private storeRoot(i: number, ref: number): void {
    const t0 = performance.now();
    const heap = this.vm.heap;
    if (ref !== 0 && (heap.words[ref] & PERSIST_EAGER) === 0) this.logClosure(ref);
    const roots = this.vm.persistentRoots;
    this.log!.root(roots.names[i], ref, roots.modes[i]);
    this.log!.stats.barrierMs += performance.now() - t0;
  }

  /** A data store (int32) into an object of a persistent or logged region. */
  storeI32(obj: number, address: number, value: number): void {
    if ((this.vm.heap.words[obj] & PERSIST_EAGER) === 0) return;
    const t0 = performance.now();
    const log = this.log!;
    log.store(address, value);
    log.stats.barrierMs += performance.now() - t0;
  }

  /** A float64 store (two words at address, address + 1). */
  storeF64(obj: number, address: number): void {
    const words = this.vm.heap.words;
    if ((words[obj] & PERSIST_EAGER) === 0) return;
    const t0 = performance.now();
    const log = this.log!;
    log.store64(address, words[address], words[address + 1]);
    log.stats.barrierMs += performance.now() - t0;
  }

  /**
   * Logs `root` and every object reachable from it that is not yet eager
   * (they become eager-persistent now). An eager object needs nothing: the
   * image holds it and everything it referred to when it was committed (the
   * commit's trace found it reachable from an eager root), and every store
   * into it since then was logged, with the closure of what it stored. Every
   * other object is logged whole at its current address: a volatile one
   * (eden, survivor, old) is not in the image at all, and one in a persistent
   * region may have changed since the commit without being logged.
   */
  private logClosure(root: number): void {
    const heap = this.vm.heap;
    const words = heap.words;
    const regions = heap.regions;
    const log2 = heap.logRegionWords;
    const log = this.log!;
    const stack = [root];
    words[root] |= PERSIST_EAGER;
    while (stack.length > 0) {
      const obj = stack.pop()!;
      const r = obj >> log2;
      if (regions.persistent[r] === PERSISTENT_NONE) regions.persistent[r] = PERSISTENT_LOGGED;
      const humongous = regions.kind[r] === REGION_HUMONGOUS_START;
      if (humongous) {
        // a humongous run holds only its object: it can be flagged LOGGED as a whole
        const n = heap.humongousRegionCount(r);
        for (let k = 1; k < n; k++) if (regions.persistent[r + k] === PERSISTENT_NONE) regions.persistent[r + k] = PERSISTENT_LOGGED;
      }
      const size = heap.sizeOf(obj);
      const n = heap.refCount(obj);
      if (heap.types.count > this.typesDurable) this.logTypes();
      if (this.loggedCount === this.logged.length) { const bigger = new Int32Array(this.logged.length * 2); bigger.set(this.logged); this.logged = bigger; }
      this.logged[this.loggedCount++] = obj;
      for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
        const v = words[s];
        if (v === 0 || (words[v] & PERSIST_EAGER) !== 0) continue;
        words[v] |= PERSIST_EAGER;
        stack.push(v);
      }
      log.object(obj, words.subarray(obj, obj + size), humongous);
    }
  }

  /** Logs the types registered since the last commit (the image has the older ones). */
  private logTypes(): void {
    const types = this.vm.heap.types;
    for (let id = this.typesDurable; id < types.count; id++) {
      const t = types.info(id);
      this.log!.type(id, t.kind, t.refs, t.dataWords, t.elementWords, t.name);
    }
    this.typesDurable = types.count;
  }

  // ---- checks and reports ----------------------------------------------------------------------

  /** The verifier's hook after a committing pause: placement, and the image against the heap. */
  checkAfterCommit(problems: string[]): void {
    if (!this.lastPauseCommitted || this.sink === null) return;
    checkPlacement(this.vm.heap, this.vm.persistentRoots, problems);
    if (problems.length === 0) compareImage(this.vm.heap, this.vm.persistentRoots, this.sink.readBack(), problems);
  }

  /** The newest committed epoch as recovery would see it (tests). */
  readBack() {
    return this.sink?.readBack() ?? null;
  }

  get epoch(): number { return this.sink?.epoch ?? 0; }

  /** Root modes as committed (tests). */
  static rootModes(meta: Record<string, number | string>): Record<string, string> {
    return decodeRootModes(meta.rootModes);
  }

  report(): PersistenceReport {
    const t = this.totals;
    const eager = this.log?.stats ?? emptyEagerStats();
    return {
      mode: this.options.mode,
      image: this.sink?.path ?? '',
      epoch: this.epoch,
      ...t,
      persistentBytes: this.space.usedWords() * WORD_BYTES,
      persistentRegions: this.space.regionsList().length,
      eager: { ...eager, nsPerStore: eager.stores > 0 ? (eager.barrierMs * 1e6) / eager.stores : 0, batch: this.options.eagerBatch },
      recovery: this.recovery,
    };
  }

  /** End of the run: the eager log's last batch is flushed, files are closed. */
  close(): void {
    this.log?.close();
    this.sink?.close();
  }
}

