/**
 * The VM: a heap, one collector, its mutators, the event bus and the
 * verifier, wired together. It runs the allocation slow path and the pause
 * protocol; everything collector-specific is behind the Collector interface.
 *
 * A pause (collect):
 *   1. requested          the cause is recorded
 *   2. mutators stopped   every TLAB retired, root depths published, barrier buffers flushed
 *   3. verify before      (--verify debug|extreme; its time is recorded but not counted as pause)
 *   4. collector.collect  emits prepare, roots-traced, heap-traced, evacuated as it goes
 *   5. verify after
 *   6. mutators resumed
 *
 * The allocation slow path: collect if the collector asks; refill the TLAB
 * (or claim a humongous run); on failure collect and retry, then collect once
 * more (last-ditch) and retry, then report out of memory.
 */
import { mutatorClassFor } from '../barriers/select.js';
import { newBarrierCounters } from '../barriers/counters.js';
import type { Collector, CollectorPlugin, OptionSpec, OptionValue } from './collector.js';
import { OutOfMemoryError, UsageError } from './errors.js';
import { EV_MUTATORS_RESUMED, EV_MUTATORS_STOPPED, EV_REQUESTED, GcEvents } from './events.js';
import { Heap } from './heap.js';
import * as layout from './layout.js';
import { type MutatorHost, Mutator } from './mutator.js';
import { MAX_PERSISTENT_ROOTS, PersistentRoots } from './persistent-roots.js';
import { DEFAULT_ROOT_SLOTS } from './roots.js';
import { type StressMutator, withStressGc } from './stress-mutator.js';
import { formatBytes, heapGeometry } from './sizes.js';
import { type TypeRegistry } from './type-registry.js';
import * as typeRegistry from './type-registry.js';
import { type VerifyLevel, Verifier } from './verifier.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { TYPE_SHIFT, WORD_BYTES } = layout;
const { NOT_A_STRUCT, TYPE_STRUCT } = typeRegistry;

export interface VmConfig {
  heapBytes: number;
  /** Region size in bytes (power of two); default: G1 ergonomics. */
  regionBytes?: number;
  collector: CollectorPlugin;
  /** Collector options as given by the user (strings from the CLI are converted by the option specs). */
  collectorOptions?: Record<string, OptionValue>;
  verify?: VerifyLevel;
  /** Collect at every N-th allocation and poison released regions. 0: off. */
  stressGc?: number;
  /** Count barrier fast/slow/filtered outcomes (default true). */
  countBarriers?: boolean;
  rootSlots?: number;
  /**
   * Touch every heap page at start-up (as HotSpot's -XX:+AlwaysPreTouch), so
   * first-touch page faults (about 0.6 GB/s on this machine) are not charged to
   * the first allocations. Default off.
   */
  pretouch?: boolean;
}

export class Vm implements MutatorHost {
  readonly heap: Heap;
  readonly types: TypeRegistry;
  readonly events = new GcEvents();
  readonly plugin: CollectorPlugin;
  readonly collector: Collector;
  readonly options: Record<string, OptionValue>;
  readonly mutators: Mutator[] = [];
  readonly verifier: Verifier;
  readonly barrierCounters = newBarrierCounters();
  readonly pollWord = new Int32Array(new SharedArrayBuffer(4));
  readonly mutatorClass: typeof Mutator;
  readonly stressGc: number;
  gcCount = 0;
  /** Used words right after the last pause (the closest thing to the live size a collector reports). */
  usedAfterLastGc = -1;
  lastGcCause = '';
  /** Named persistent roots (GCPersist), held in a holder mutator's root slots so every collector scans them. */
  readonly persistentRoots = new PersistentRoots(() => this.newRootHolder());
  private inPause = false;

  constructor(readonly config: VmConfig) {
    const geometry = heapGeometry(config.heapBytes, config.regionBytes);
    this.heap = new Heap(geometry);
    if (config.pretouch) this.heap.pretouch();
    this.types = this.heap.types;
    this.plugin = config.collector;
    this.options = resolveOptions(config.collector, config.collectorOptions ?? {});
    this.stressGc = config.stressGc ?? 0;
    this.heap.poisonReleased = this.stressGc > 0;
    // a plug-in whose barrier depends on an option (gcpersist: persistMode=eager) says so with barriersFor
    const barriers = this.plugin.barriersFor?.(this.options) ?? this.plugin.constraints.barriers;
    const base = mutatorClassFor(barriers, config.countBarriers ?? true);
    this.mutatorClass = this.stressGc > 0 ? withStressGc(base, this) : base;
    this.verifier = new Verifier(this, config.verify ?? 'off');
    this.collector = this.plugin.create(this, this.options);
  }

  get verifyLevel(): VerifyLevel { return this.verifier.level; }

  /** Creates a mutator (one per mutator thread; workloads here use one). */
  newMutator(rootSlots = this.config.rootSlots ?? DEFAULT_ROOT_SLOTS): Mutator {
    const Cls = this.mutatorClass;
    const m = new Cls(this.mutators.length, this, this.heap, rootSlots, this.barrierCounters, this.pollWord);
    if (this.stressGc > 0) (m as StressMutator).stressInterval = (m as StressMutator).stressCountdown = this.stressGc;
    this.mutators.push(m);
    return m;
  }

  /** The mutator whose root slots hold the persistent roots: plain Mutator class, never allocates. */
  private newRootHolder(): Mutator {
    const m = new Mutator(this.mutators.length, this, this.heap, MAX_PERSISTENT_ROOTS, this.barrierCounters, this.pollWord);
    this.mutators.push(m);
    return m;
  }

  persistRoot(name: string, ref: number, mode?: string): void {
    this.persistentRoots.set(name, ref, mode);
  }

  persistentRoot(name: string): number {
    return this.persistentRoots.get(name);
  }

  // ---- the allocation slow path ----------------------------------------------------

  allocateSlow(m: Mutator, type: number, sizeWords: number, length: number): number {
    const types = this.types;
    if (!types.isValid(type)) throw new UsageError(`allocation of unregistered type id ${type}`);
    const kind = types.kind[type];
    if (length < 0) {
      if (kind !== TYPE_STRUCT || sizeWords === NOT_A_STRUCT) throw new UsageError(`alloc(${types.info(type).name}): not a struct type; use allocArray`);
    } else {
      if (kind === TYPE_STRUCT) throw new UsageError(`allocArray(${types.info(type).name}): a struct type; use alloc`);
      if (!Number.isInteger(length) || length < 0 || length > 0x3fffffff) throw new UsageError(`allocArray: bad length ${length}`);
      sizeWords = types.arrayWords(type, length);
      if (sizeWords > this.heap.heapWords) this.outOfMemory(sizeWords);
    }
    const collects = this.plugin.constraints.collects;
    for (let attempt = 0; ; attempt++) {
      if (collects && attempt === 0 && this.collector.collectionRequired()) this.collect('allocation');
      let obj = 0;
      if (sizeWords >= this.heap.humongousWords) {
        obj = this.collector.allocHumongous(sizeWords);
      } else if (this.collector.refillTlab(m, sizeWords)) {
        obj = m.top;
        m.top = obj + sizeWords;
        if (m.top > m.limit) throw new Error(`collector ${this.plugin.name}: refillTlab gave fewer than ${sizeWords} words`);
        this.heap.recordObjectStart(obj, obj + sizeWords);
      }
      if (obj !== 0) {
        this.heap.words[obj] = type << TYPE_SHIFT;
        this.heap.words[obj + 1] = length < 0 ? 0 : length;
        return obj;
      }
      if (attempt === 2 && this.heap.quarantinedRegions > 0) {
        this.heap.releaseQuarantine();
        attempt = 1;
        continue;
      }
      if (!collects || attempt === 2) this.outOfMemory(sizeWords);
      this.collect(attempt === 0 ? 'allocation-failure' : 'last-ditch');
    }
  }

  private outOfMemory(requestWords: number): never {
    const heap = this.heap;
    const used = formatBytes(heap.usedBytes());
    const live = this.usedAfterLastGc >= 0 ? `, ${formatBytes(this.usedAfterLastGc * WORD_BYTES)} in use after GC #${this.gcCount} (${this.lastGcCause})` : '';
    const why = this.plugin.constraints.collects ? '' : ` (${this.plugin.name} never collects)`;
    throw new OutOfMemoryError(
      `out of memory: heap ${formatBytes(heap.heapBytes)}, used ${used}${live}; could not allocate ${formatBytes(requestWords * WORD_BYTES)}${why}`,
    );
  }

  // ---- pauses -------------------------------------------------------------------------

  /** Runs one stop-the-world collection now (a safepoint: only call where the mutator may allocate). */
  collect(cause = 'explicit'): void {
    if (!this.plugin.constraints.collects) return;
    if (this.inPause) throw new Error('collect() called during a pause');
    this.inPause = true;
    const events = this.events;
    events.emit(EV_REQUESTED, { cause });
    this.stopMutators();
    events.emit(EV_MUTATORS_STOPPED);
    events.phaseEnd('stop-mutators');
    this.verifier.verifyHeap(`before GC #${this.gcCount + 1}`);
    events.phaseEnd('verify-before');
    this.collector.collect(cause);
    this.heap.endPause();
    this.gcCount++;
    this.lastGcCause = cause;
    this.verifier.verifyHeap(`after GC #${this.gcCount}`);
    events.phaseEnd('verify-after');
    const used = this.collector.usedWords();
    this.usedAfterLastGc = used;
    this.inPause = false;
    events.emit(EV_MUTATORS_RESUMED, { usedWords: used });
  }

  private stopMutators(): void {
    for (const m of this.mutators) {
      this.collector.retireTlab(m);
      m.publishRoots();
      this.dirtyCardBufferFull(m);
      this.satbBufferFull(m);
    }
  }

  safepointSlow(_m: Mutator): void {
    this.pollWord[0] = 0;
    this.collect('requested');
  }

  dirtyCardBufferFull(m: Mutator): void {
    if (m.dirtyCardCount > 0) this.collector.onDirtyCards?.(m.dirtyCards, m.dirtyCardCount);
    m.dirtyCardCount = 0;
  }

  satbBufferFull(m: Mutator): void {
    if (m.satbCount > 0) this.collector.onSatbBuffer?.(m.satbBuffer, m.satbCount);
    m.satbCount = 0;
  }

  /** Retires every TLAB (as a pause does) and verifies the heap now, at any level but off. */
  verifyNow(when = 'on request', level: VerifyLevel = this.verifier.level === 'off' ? 'debug' : this.verifier.level): void {
    for (const m of this.mutators) this.collector.retireTlab(m);
    this.verifier.verifyHeap(when, level);
  }
}

/** Converts user-given option values (CLI strings) to the types of the collector's option specs. */
export function resolveOptions(plugin: CollectorPlugin, given: Record<string, OptionValue>): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const [name, spec] of Object.entries(plugin.options)) out[name] = spec.default;
  for (const [name, value] of Object.entries(given)) {
    const spec = plugin.options[name];
    if (!spec) {
      const known = Object.keys(plugin.options);
      throw new UsageError(`collector ${plugin.name} has no option '${name}'${known.length ? ` (options: ${known.join(', ')})` : ''}`);
    }
    out[name] = convertOption(plugin.name, name, spec, value);
  }
  return out;
}

function convertOption(collector: string, name: string, spec: OptionSpec, value: OptionValue): OptionValue {
  const like = spec.default;
  if (typeof like === 'number') {
    const n = typeof value === 'number' ? value : Number(value);
    if (!Number.isFinite(n)) throw new UsageError(`collector ${collector}: option ${name}=${value} is not a number`);
    return n;
  }
  if (typeof like === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === 'on' || value === '1') return true;
    if (value === 'false' || value === 'off' || value === '0') return false;
    throw new UsageError(`collector ${collector}: option ${name}=${value} is not on/off`);
  }
  const text = String(value);
  if (spec.choices !== undefined && !spec.choices.includes(text)) {
    throw new UsageError(`collector ${collector}: option ${name} '${text}' is not one of ${spec.choices.join(', ')}`);
  }
  return text;
}
