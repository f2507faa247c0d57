/**
 * Concurrent SATB marking for the remembered-set collector (the CRE element of
 * Zhao & Blackburn 2020; G1's concurrent cycle, Detlefs et al. 2004, HotSpot's
 * G1ConcurrentMark), driven by remset-collector.ts over the worker-thread
 * marker of vm-core/concurrent/:
 *
 *   concurrent start  piggy-backed on a young pause once old + humongous occupancy passes
 *                     ihopPercent, after its evacuation (eden empty, survivors just copied):
 *                     TAMS = top for old and humongous regions, TAMS = bottom for every other
 *                     region (eden, survivor, free), so the marker never reads or marks a young
 *                     object and every region claimed during the cycle (eden, survivor, the old
 *                     regions promotions go to, new humongous objects) is implicitly live;
 *                     roots = the mutators' roots plus every reference held by every object in
 *                     the survivor regions (young objects are never marked, what they hold is a
 *                     root): the worker scans these root regions first, concurrently (G1's
 *                     "Concurrent Scan Root Regions"); a pause that comes before it is done
 *                     finishes the scan first, since it moves survivors. The pause stays kind
 *                     'young' and counts `concurrentStart` (HotSpot: "Pause Young (Concurrent Start)").
 *   concurrent mark   the worker marks while the mutator runs; SATB buffers reach the marker
 *                     (onSatbBuffer). Young pauses go on (they move only young objects, whose
 *                     regions have TAMS = bottom, and promote into fresh regions above TAMS);
 *                     no mixed pause, no eager humongous reclaim, nothing below TAMS is freed.
 *                     Bracketed by concurrent-start / concurrent-end events ('mark').
 *   remark            a pause (kind 'remark') once the marker is idle (polled on allocation
 *                     slow paths; as it was when the pause began): SATB buffers were flushed by
 *                     the pause, marker.remark completes the closure on this thread, the SATB
 *                     barrier goes off. The collector then picks the collection-set candidates
 *                     (live words are marked words below TAMS + (top - TAMS)), tracks their
 *                     remembered sets, and hands the worker the rebuild task.
 *   rebuild           the worker rebuilds the candidates' remembered sets from every live old and
 *                     humongous object and scrubs the dead objects below TAMS into fillers
 *                     (vm-core/concurrent/rebuild-scrub.ts) while the mutator runs; the mutator
 *                     adds the (target, card) pairs it finds to the remembered sets on its
 *                     allocation slow paths. Bracketed by concurrent-start / -end ('rebuild').
 *   cleanup           a pause (kind 'cleanup') once the worker is done: the last pairs, free the
 *                     empty old regions and dead humongous objects, the candidates go to the
 *                     mixed pauses.
 *
 * The worker yields (suspend) whenever the mutators stop, when the collector
 * retires their TLABs (every pause and verification), and before the mutator
 * refines cards during the rebuild (refinement parses old regions the worker
 * scrubs); it goes on (resume) when the mutators do (the pause's last event)
 * or on the next allocation slow path. So a pause never shares the cores with
 * it, and nothing parses a region it writes.
 *
 * Why the root-region scan is enough: at the snapshot every young object is a
 * survivor, and every reference any survivor holds is marked at the start; a
 * path from the roots to an old object through young objects therefore meets a
 * marked object; references overwritten later go through SATB. Objects that
 * existed at the snapshot and are reachable at remark were reachable at the
 * snapshot, so they are marked.
 *
 * One marker worker serves the process: it is spawned (synchronously; ~40 ms
 * until ready, no event-loop turn needed) by the first collector that wants it,
 * unref'd so it never keeps the process alive, and re-attached to whichever
 * heap starts a cycle. A collector whose cycle is still active when another
 * heap's collector starts one (tests run many VMs one after another, often
 * ending mid-cycle) loses it: the marker is aborted, and the losing collector
 * discards its cycle at its next look (no region is freed on a discarded
 * cycle's marks). When the worker is not ready yet (or cannot start), a cycle
 * runs stop-the-world instead and is counted (`concurrentMarkFallbacks`).
 *
 * Verifier (any level but off): at concurrent start the old/humongous objects
 * below TAMS reachable from the roots are recorded; at remark each of them,
 * and each old/humongous object below TAMS reachable from the roots now
 * (through any object, young ones included), must be marked: the SATB
 * invariant.
 */
import { ConcurrentMarker, type RebuildResult, type RemarkResult, rebuildTask } from '../../vm-core/concurrent/concurrent-marker.js';
import { TASK_CLEAR, TASK_COUNT, TASK_WALK, taskFlagsBase, taskLimitBase, taskTargetBase } from '../../vm-core/concurrent/rebuild-scrub.js';
import { EV_MUTATORS_RESUMED, type GcEventListener } from '../../vm-core/events.js';
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as typeRegistry from '../../vm-core/type-registry.js';

const { HEADER_WORDS, TYPE_SHIFT } = layout;
const { REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_OLD } = regionTable;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

interface SharedMarker {
  marker: ConcurrentMarker | null;
  /** Why the worker could not be spawned (then every cycle falls back to stop-the-world). */
  error: string | null;
  owner: ConcurrentMarking | null;
}

const shared: SharedMarker = { marker: null, error: null, owner: null };

/** The process's marker worker, spawning it on first use (null if it cannot start). */
function sharedMarker(heap: Heap): ConcurrentMarker | null {
  if (shared.marker && shared.marker.unusable && shared.error === null) {
    shared.error = 'the marker worker failed or exited';
  }
  if (shared.marker === null && shared.error === null) {
    try {
      shared.marker = ConcurrentMarker.spawn(heap);
    } catch (e) {
      shared.error = e instanceof Error ? e.message : String(e);
    }
  }
  return shared.error === null ? shared.marker : null;
}

/** Ends the process's marker worker (optional: it is unref'd and never keeps the process alive). */
export async function terminateSharedMarker(): Promise<void> {
  const marker = shared.marker;
  shared.marker = null;
  shared.owner = null;
  shared.error = null;
  if (marker) await marker.terminate();
}

/** The references of obj's slots (contiguous after the header). */
function refSlots(words: Int32Array, typeKind: Int32Array, typeRefs: Int32Array, obj: number): number {
  const type = words[obj] >>> TYPE_SHIFT;
  const k = typeKind[type];
  return k === TYPE_STRUCT ? typeRefs[type] : k === TYPE_REF_ARRAY ? words[obj + 1] : 0;
}

export class ConcurrentMarking {
  private roots = new Int32Array(1024);
  private active = false;
  /** What the cycle does now: marking (concurrent start .. remark) or rebuilding (remark .. cleanup). */
  private stage: 'mark' | 'rebuild' = 'mark';
  /** The regions whose remembered sets the rebuild fills (tracked since remark; incomplete until cleanup). */
  private rebuildTargets: number[] = [];
  /** Old/humongous objects below TAMS reachable at concurrent start (verifier only). */
  private snapshot: Int32Array | null = null;
  /** The verifier should record the snapshot (after the concurrent-start pause) / check the SATB invariant (after remark). */
  private snapshotDue = false;
  private invariantDue = false;
  /** concurrent-end was emitted for the current cycle. */
  markEnded = false;
  lastResult: RemarkResult | null = null;

  /** paceUs (option markerPaceUs, for tests): the worker rests this long after every few objects, so the mutator races a slow marker. */
  constructor(private readonly heap: Heap, private readonly paceUs = 0) {
    sharedMarker(heap); // spawn early: it takes ~40 ms to become ready
  }

  /** A cycle of this collector is running on the marker. */
  get cycleActive(): boolean {
    return this.active && shared.owner === this;
  }

  /** A cycle was started but another heap took the marker since: it must be discarded. */
  get lost(): boolean {
    return this.active && shared.owner !== this;
  }

  /** Why concurrent marking is unavailable, if it is. */
  get unavailableReason(): string | null {
    return shared.error;
  }

  /**
   * Concurrent start, in a pause after a young evacuation (TLABs retired, eden
   * empty). Returns false, changing nothing, when the marker is not ready.
   */
  begin(mutators: readonly Mutator[], survivorRegions: readonly number[]): boolean {
    const heap = this.heap;
    const marker = sharedMarker(heap);
    if (marker === null || !marker.ready) return false;
    const previous = shared.owner;
    if (previous !== null && previous !== this) shared.owner = null; // previous.lost from now on
    try {
      if (marker.cycleActive) marker.abort();
      if (marker.attachedHeap !== heap) marker.attach(heap);
    } catch (e) {
      shared.error = e instanceof Error ? e.message : String(e);
      return false;
    }

    // TAMS: top for old and humongous regions, bottom for everything else
    const regions = heap.regions;
    const kinds = regions.kind;
    const tams = regions.tams;
    for (let r = 0; r < heap.regionCount; r++) {
      const k = kinds[r];
      tams[r] = k === REGION_OLD || k === REGION_HUMONGOUS_START || k === REGION_HUMONGOUS_CONT ? regions.top[r] : regions.bottom(r);
    }

    // roots: the mutators' root slots; the survivors are root regions the worker scans first
    // (G1's concurrent root-region scan), before the next pause may move them
    let n = 0;
    for (const m of mutators) {
      for (let i = 0; i < m.sp; i++) {
        const v = m.roots[i];
        if (v !== 0) n = this.pushRoot(n, v);
      }
    }
    this.snapshot = null;
    this.snapshotDue = true;
    this.invariantDue = false;
    // the worker starts when the mutators run again (resume on the first allocation slow path)
    marker.beginCycle(this.roots, n, { keepTams: true, paceUs: this.paceUs, start: false, rootRegions: survivorRegions });
    shared.owner = this;
    this.active = true;
    this.stage = 'mark';
    this.rebuildTargets = [];
    this.markEnded = false;
    for (const m of mutators) m.marking = true;
    return true;
  }

  private pushRoot(n: number, v: number): number {
    if (n === this.roots.length) {
      const bigger = new Int32Array(this.roots.length * 2);
      bigger.set(this.roots);
      this.roots = bigger;
    }
    this.roots[n] = v;
    return n + 1;
  }

  /** Overwritten references from a mutator's SATB buffer. */
  enqueueSatb(refs: Int32Array, n: number): void {
    if (this.cycleActive) shared.marker!.enqueueSatb(refs, n);
  }

  /** The worker has run out of work (cheap; call on allocation slow paths; kept while it is suspended). */
  get idle(): boolean {
    return this.cycleActive && shared.marker!.idle;
  }

  /** The cycle is past remark: the worker rebuilds remembered sets and scrubs. */
  get rebuilding(): boolean {
    return this.cycleActive && this.stage === 'rebuild';
  }

  /** The mutators stop (a pause, a verification): the worker yields until resume(). */
  suspend(): void {
    if (this.cycleActive) shared.marker!.suspend();
  }

  /** Mutator thread, before it parses old regions itself (card refinement): a rebuilding worker yields. */
  suspendForHeapWalk(): void {
    if (this.rebuilding) shared.marker!.suspend();
  }

  /** The mutators run: the worker goes on (or starts). */
  resume(): void {
    if (this.cycleActive) shared.marker!.resume();
  }

  /** Listens to the VM's pause events: the worker resumes as the mutators do, at the very end of a pause (after verification). */
  pauseListener(): GcEventListener {
    return {
      pauseEvent: (name) => { if (name === EV_MUTATORS_RESUMED) this.resume(); },
      phaseEnd: () => {},
      count: () => {},
      reclassify: () => {},
      concurrent: () => {},
    };
  }

  /** Remark, in a pause (SATB buffers already flushed): completes the closure, SATB barrier off. */
  remark(mutators: readonly Mutator[]): RemarkResult {
    if (!this.cycleActive || this.stage !== 'mark') throw new Error('concurrent marking: remark without an active cycle');
    let n = 0;
    for (const m of mutators) {
      for (let i = 0; i < m.sp; i++) {
        const v = m.roots[i];
        if (v !== 0) n = this.pushRoot(n, v);
      }
    }
    const result = shared.marker!.remark(this.roots, n);
    for (const m of mutators) {
      m.marking = false;
      m.satbCount = 0;
    }
    this.snapshotDue = false;
    this.invariantDue = true;
    this.lastResult = result;
    return result;
  }

  /**
   * Right after remark, in the same pause: the worker is to clear the dead
   * objects' references in `clear` (old regions with TAMS above bottom, dead
   * humongous objects), then walk `walk` (old regions with live data, live
   * humongous objects) up to their current tops, scrubbing and recording
   * references into `targets` (already tracked).
   */
  startRebuild(clear: readonly number[], walk: readonly number[], targets: readonly number[]): void {
    const heap = this.heap;
    const marker = shared.marker!;
    const task = rebuildTask(heap);
    const limitBase = taskLimitBase(heap.regionCount);
    const targetBase = taskTargetBase(heap.regionCount);
    const flagsBase = taskFlagsBase(heap.regionCount);
    task.fill(0);
    let n = 0;
    const add = (r: number, flag: number) => {
      if (task[flagsBase + r] === 0) task[1 + n++] = r;
      task[flagsBase + r] |= flag;
      task[limitBase + r] = heap.regions.top[r];
    };
    for (const r of clear) add(r, TASK_CLEAR);
    for (const r of walk) add(r, TASK_WALK);
    task[TASK_COUNT] = n;
    for (const t of targets) task[targetBase + t] = 1;
    marker.beginRebuild();
    this.stage = 'rebuild';
    this.rebuildTargets = [...targets];
  }

  /** Mutator thread, during the rebuild: the pairs the worker found so far go into the remembered sets. */
  drainRebuild(remsets: { add(target: number, card: number): void }): number {
    if (!this.rebuilding) return 0;
    return shared.marker!.drainPairs((t, c) => remsets.add(t, c));
  }

  /** Cleanup, in a pause: the rest of the rebuild (normally nothing), the last pairs; the cycle ends. */
  finishRebuild(mutators: readonly Mutator[], remsets: { add(target: number, card: number): void }): RebuildResult {
    if (!this.rebuilding) throw new Error('concurrent marking: cleanup without a rebuild');
    const result = shared.marker!.finishRebuild((t, c) => remsets.add(t, c));
    this.finish(mutators);
    return result;
  }

  /** The targets of a rebuild that was discarded (their remembered sets are incomplete: untrack them). */
  takeRebuildTargets(): number[] {
    const t = this.rebuildTargets;
    this.rebuildTargets = [];
    return t;
  }

  /**
   * The remembered sets as the completeness check should see them: during the
   * rebuild the targets' sets are being filled (G1 does not verify a region
   * whose set is being rebuilt either), so they are left out.
   */
  remsetsToVerify<T extends { tracked: Uint8Array }>(remsets: T): T {
    // (also when another heap took the worker: the targets stay incomplete until the collector discards the cycle)
    if (this.rebuildTargets.length === 0) return remsets;
    const tracked = remsets.tracked.slice();
    for (const t of this.rebuildTargets) tracked[t] = 0;
    return new Proxy(remsets, {
      get: (target, prop) => {
        if (prop === 'tracked') return tracked;
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }

  /** Discards the cycle (full collection, or the marker was taken by another heap). */
  abort(mutators: readonly Mutator[]): void {
    if (this.cycleActive) shared.marker!.abort();
    this.finish(mutators);
  }

  private finish(mutators: readonly Mutator[]): void {
    this.snapshotDue = false;
    this.invariantDue = false;
    if (shared.owner === this) shared.owner = null;
    this.active = false;
    this.stage = 'mark';
    for (const m of mutators) {
      m.marking = false;
      m.satbCount = 0;
    }
  }

  /**
   * The verifier's hook after every pause (checkInvariants 'after ...', so its
   * time is not pause time): after the concurrent-start pause it records what
   * is reachable at the snapshot; after remark it checks the SATB invariant.
   */
  verifyAfterPause(mutators: readonly Mutator[], problems: string[]): void {
    if (this.snapshotDue) {
      this.snapshotDue = false;
      if (this.cycleActive) this.snapshot = reachableBelowTams(this.heap, mutators);
    }
    if (this.invariantDue) {
      this.invariantDue = false;
      this.checkSatbInvariant(mutators, problems);
    }
  }

  /**
   * The SATB invariant, after remark: every old/humongous object below TAMS
   * reachable now, or reachable at concurrent start, is marked.
   */
  checkSatbInvariant(mutators: readonly Mutator[], problems: string[]): void {
    const heap = this.heap;
    const bitmap = heap.meta.markBitmap;
    const marked = (o: number) => ((bitmap[o >> 6] >>> ((o >> 1) & 31)) & 1) !== 0;
    const check = (list: Int32Array, what: string) => {
      for (let i = 0; i < list.length && problems.length < 20; i++) {
        const o = list[i];
        if (!marked(o)) problems.push(`SATB: object at ${o} (region ${o >> heap.logRegionWords}, below TAMS ${heap.regions.tams[o >> heap.logRegionWords]}) ${what} is not marked at remark`);
      }
    };
    check(reachableBelowTams(heap, mutators), 'reachable from the roots');
    if (this.snapshot) check(this.snapshot, 'reachable at concurrent start');
    this.snapshot = null;
  }
}

/** Old and humongous objects below TAMS reachable from the mutators' roots through any objects. */
function reachableBelowTams(heap: Heap, mutators: readonly Mutator[]): Int32Array {
  const words = heap.words;
  const typeKind = heap.types.kind;
  const typeRefs = heap.types.refs;
  const regions = heap.regions;
  const log = heap.logRegionWords;
  const seen = new Uint32Array((heap.heapWords >> 6) + 1);
  let stack = new Int32Array(1024);
  let sp = 0;
  const out: number[] = [];
  const visit = (v: number) => {
    if (v === 0) return;
    const bit = 1 << ((v >> 1) & 31);
    if ((seen[v >> 6] & bit) !== 0) return;
    seen[v >> 6] |= bit;
    const r = v >> log;
    const k = regions.kind[r];
    if ((k === REGION_OLD || k === REGION_HUMONGOUS_START) && v < regions.tams[r]) out.push(v);
    if (sp === stack.length) { const b = new Int32Array(sp * 2); b.set(stack); stack = b; }
    stack[sp++] = v;
  };
  for (const m of mutators) for (let i = 0; i < m.sp; i++) visit(m.roots[i]);
  while (sp > 0) {
    const obj = stack[--sp];
    for (let s = obj + HEADER_WORDS, end = s + refSlots(words, typeKind, typeRefs, obj); s < end; s++) visit(words[s]);
  }
  return Int32Array.from(out);
}

/** The process's marker worker is spawned and ready (tests wait for it before measuring coverage). */
export function concurrentMarkerReady(): boolean {
  return shared.marker !== null && shared.marker.ready;
}

