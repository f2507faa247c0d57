/**
 * SATB stress programs for the concurrent collectors (cre, g1): random
 * programs that mutate an old object graph heavily while the real marker
 * worker marks it, checked against an exact shadow graph and by the heap
 * verifier (which checks the SATB invariant at every remark). Used by
 * test/unit/concurrent-satb-programs.test.ts, test/unit/satb-planted-bug.test.ts
 * and, with many more seeds, by `npm run test:deep`.
 *
 * One program (seeded, step by step, so several can be interleaved on the one
 * process-wide marker worker):
 *
 *   build     R root slots, each heading a chain of 50..800 Nodes (slot 0 = next),
 *             plus random cross links (slots 1, 2) between nodes reached by walks
 *   promote   a few pauses, so the graph is old (cre copies to old regions; g1 runs
 *             with tenuringThreshold 0)
 *   start     pause until a young pause starts a concurrent cycle (ihopPercent 1):
 *             the snapshot holds the whole graph
 *   mutate    while the worker marks (paced by markerPaceUs, so it is a slow core),
 *             mostly *hides*: a reference B read from an old object A reached by a
 *             walk is stored into a fresh young object Y (published in a root or
 *             another object) and cleared in A. The marker never scans young objects
 *             (TAMS = bottom) and the remark pause marks only from the roots, so if
 *             the worker had not reached B yet, only the SATB entry for A's slot
 *             keeps B alive: without it B is unmarked at remark (the verifier's SATB
 *             check fails) and its region is freed or B is scrubbed at cleanup (the
 *             shadow comparison fails). Also: links to new objects, cuts, roots
 *             loaded from the heap and cleared there, root drops, young pauses
 *             during marking (they flush the SATB buffers), short spins.
 *             Until the cycle has completed (remark and cleanup) and a few hundred
 *             ops more, or the op budget is spent.
 *   check     a couple more pauses, then every object reachable from the roots is
 *             compared with the shadow graph (ids kept in each Node's data word),
 *             and the heap verified.
 *
 * withoutSatbEnqueue(plugin) is the planted bug: the same collector whose SATB
 * barrier reads the overwritten reference and then drops it.
 */
import { CountedG1Mutator } from '../../barriers/g1.js';
import type { CollectorPlugin, OptionValue } from '../../vm-core/collector.js';
import type { GcEventListener } from '../../vm-core/events.js';
import { TYPE_SHIFT } from '../../vm-core/layout.js';
import type { Mutator } from '../../vm-core/mutator.js';
import type { VerifyLevel } from '../../vm-core/verifier.js';
import { Vm } from '../../vm-core/vm.js';
import { seededRandom } from '../kit/fixtures.js';

/** The G1 barrier with the SATB enqueue removed: the pre-write barrier reads the old value, then loses it. */
class CountedG1MutatorWithoutSatbEnqueue extends CountedG1Mutator {
  override satbEnqueue(_old: number): void {}
}

/** The planted bug: `plugin` (cre or g1, whose barriers are SATB + card) with the SATB enqueue removed from its barrier. */
export function withoutSatbEnqueue(plugin: CollectorPlugin): CollectorPlugin {
  if (plugin.constraints.barriers.preWrite !== 'satb' || plugin.constraints.barriers.postWrite !== 'card') {
    throw new Error(`withoutSatbEnqueue: ${plugin.name} does not use the SATB + card barrier`);
  }
  return {
    ...plugin,
    name: `${plugin.name}-without-satb-enqueue`,
    create: (vm, options) => {
      // the VM has picked its mutator class (CountedG1Mutator) and creates no mutator before the collector
      (vm as unknown as { mutatorClass: typeof Mutator }).mutatorClass = CountedG1MutatorWithoutSatbEnqueue;
      return plugin.create(vm, options);
    },
  };
}

/** Sums of the collector's counters and pause kinds. */
export class CycleCounts implements GcEventListener {
  readonly counters: Record<string, number> = {};
  readonly kinds: Record<string, number> = {};
  pauseEvent(name: string, _t: number, detail: { kind?: string }): void {
    if (name === 'prepare' && detail.kind) this.kinds[detail.kind] = (this.kinds[detail.kind] ?? 0) + 1;
  }
  phaseEnd(): void {}
  count(name: string, value: number): void { this.counters[name] = (this.counters[name] ?? 0) + value; }
  reclassify(): void {}
  concurrent(): void {}
  get(name: string): number { return this.counters[name] ?? 0; }
  kind(name: string): number { return this.kinds[name] ?? 0; }
}

export interface SatbProgramOptions {
  seed: number;
  /** markerPaceUs: the worker rests this many µs every 64 objects (0: full speed). */
  paceUs: number;
  heapBytes?: number;
  regionBytes?: number;
  verify?: VerifyLevel;
  /** Mutation ops at most (default 20 000). */
  maxOps?: number;
  /** Root slots heading chains (default 8..15, from the seed). */
  roots?: number;
}

export interface SatbProgramResult {
  seed: number;
  ops: number;
  hides: number;
  nodes: number;
  /** Concurrent cycles completed after the snapshot of the whole graph (0: the op budget ran out first, or the cycle was preempted). */
  cyclesCompleted: number;
  counts: CycleCounts;
}

const NODE_REFS = 3;

/**
 * One SATB stress program on a fresh VM. `step()` runs a few operations and
 * returns true when the program is over (then `result` is set); it throws on
 * a verifier failure or a difference from the shadow graph.
 */
export class SatbProgram {
  readonly vm: Vm;
  readonly counts = new CycleCounts();
  private readonly m: Mutator;
  private readonly node: number;
  private readonly dataOffset: number;
  private readonly rnd: () => number;
  private readonly rootCount: number;
  /** Shadow graph: node id -> the ids its three slots hold (0: null). */
  private readonly shadow = new Map<number, Int32Array>();
  private readonly rootIds: Int32Array;
  private nextId = 0;
  private stage: 'build' | 'promote' | 'start' | 'mutate' | 'done' = 'build';
  private chain = 0;
  private startedBefore = 0;
  private startDeadline = 0;
  private completedBefore = 0;
  private cleanupsBefore = 0;
  private extraOps = 0;
  private readonly maxOps: number;
  private ops = 0;
  private hides = 0;
  result: SatbProgramResult | null = null;

  constructor(readonly plugin: CollectorPlugin, readonly options: SatbProgramOptions) {
    this.rnd = seededRandom(options.seed);
    const collectorOptions: Record<string, OptionValue> = { concurrentMark: true, ihopPercent: 1, markerPaceUs: options.paceUs };
    if ('tenuringThreshold' in plugin.options) collectorOptions.tenuringThreshold = 0;
    this.vm = new Vm({
      heapBytes: options.heapBytes ?? 4 << 20,
      regionBytes: options.regionBytes ?? 32 << 10,
      collector: plugin,
      collectorOptions,
      verify: options.verify ?? 'debug',
      rootSlots: 512,
    });
    this.vm.events.subscribe(this.counts);
    this.m = this.vm.newMutator(512);
    this.node = this.vm.types.struct('Node', NODE_REFS, 1);
    this.dataOffset = this.vm.types.info(this.node).dataOffset;
    this.rootCount = options.roots ?? 8 + Math.floor(this.rnd() * 8);
    this.rootIds = new Int32Array(this.rootCount);
    for (let i = 0; i < this.rootCount; i++) this.m.push(0);
    this.maxOps = options.maxOps ?? 20_000;
  }

  /** Runs the program to its end (on this thread alone). */
  run(): SatbProgramResult {
    while (!this.step());
    return this.result!;
  }

  step(): boolean {
    switch (this.stage) {
      case 'build': this.buildChain(); break;
      case 'promote':
        for (let i = 0; i < 3; i++) this.vm.collect();
        this.stage = 'start';
        this.startedBefore = this.counts.get('concurrentStart');
        this.startDeadline = performance.now() + 20_000;
        break;
      case 'start': this.awaitStart(); break;
      case 'mutate':
        for (let i = 0; i < 64 && this.stage === 'mutate'; i++) this.mutateOnce();
        break;
      case 'done': break;
    }
    return this.stage === 'done';
  }

  // ---- the graph -------------------------------------------------------------------------------

  private idOf(obj: number): number { return this.vm.heap.words[obj + this.dataOffset]; }

  /** A new Node (may run a pause: hold every reference you need in a root slot). */
  private newNode(): number {
    const obj = this.m.alloc(this.node);
    const id = ++this.nextId;
    this.vm.heap.words[obj + this.dataOffset] = id;
    this.shadow.set(id, new Int32Array(NODE_REFS));
    return obj;
  }

  private setRef(a: number, s: number, b: number): void {
    this.m.setRef(a, s, b);
    this.shadow.get(this.idOf(a))![s] = b === 0 ? 0 : this.idOf(b);
  }

  private setRoot(j: number, b: number): void {
    this.m.set(j, b);
    this.rootIds[j] = b === 0 ? 0 : this.idOf(b);
  }

  private int(n: number): number { return Math.floor(this.rnd() * n); }

  /** A node reached from a random root by up to `steps` random non-null slots (0 if that root is null). */
  private walk(steps: number): number {
    let obj = this.m.get(this.int(this.rootCount));
    for (let k = 0; k < steps && obj !== 0; k++) {
      const next = this.m.getRef(obj, this.int(NODE_REFS));
      if (next === 0) break;
      obj = next;
    }
    return obj;
  }

  private buildChain(): void {
    const m = this.m;
    const length = 50 + this.int(750);
    const tmp = m.push(0);
    const head = this.newNode();
    this.setRoot(this.chain, head);
    m.set(tmp, head);
    for (let i = 1; i < length; i++) {
      const n = this.newNode();
      this.setRef(m.get(tmp), 0, n);
      m.set(tmp, n);
    }
    m.pop(1);
    if (++this.chain < this.rootCount) return;
    // cross links between nodes reached by walks (no allocation in between: nothing moves)
    for (let i = 0, links = this.nextId >> 1; i < links; i++) {
      const a = this.walk(this.int(400));
      const b = this.walk(this.int(400));
      if (a !== 0) this.setRef(a, 1 + this.int(2), b);
    }
    this.stage = 'promote';
  }

  /** Pauses (letting a running cycle finish first) until a young pause starts a fresh concurrent cycle. */
  private awaitStart(): void {
    const vm = this.vm;
    const spin = performance.now() + 10;
    while (!vm.collector.collectionRequired() && performance.now() < spin);
    vm.collect();
    if (this.counts.get('concurrentStart') > this.startedBefore) {
      this.stage = 'mutate';
      this.completedBefore = this.counts.get('concurrentCyclesCompleted');
      this.cleanupsBefore = this.counts.kind('cleanup');
    } else if (performance.now() > this.startDeadline) {
      throw new Error(`seed ${this.options.seed}: no concurrent cycle started within 20 s (${JSON.stringify(this.counts.counters)})`);
    }
  }

  // ---- mutation while the worker marks ------------------------------------------------------------

  private mutateOnce(): void {
    const m = this.m;
    this.ops++;
    const r = this.rnd();
    if (r < 0.4) {
      // hide: A.slot's reference moves into a fresh young object Y; A.slot is cleared (SATB must record it)
      const a = this.walk(this.int(200));
      if (a === 0) return;
      const s = this.int(NODE_REFS);
      if (m.getRef(a, s) === 0) return;
      const ta = m.push(a);
      const ty = m.push(this.newNode());
      const a2 = m.get(ta);
      this.setRef(m.get(ty), 0, m.getRef(a2, s));
      this.setRef(a2, s, 0);
      this.hides++;
      const c = this.rnd() < 0.5 ? this.walk(this.int(50)) : 0;
      if (c !== 0) this.setRef(c, 1 + this.int(2), m.get(ty));
      else this.setRoot(this.int(this.rootCount), m.get(ty));
      m.pop(2);
    } else if (r < 0.55) {
      // link: a new object pointing at an old one, stored into another
      const d = this.walk(this.int(100));
      const td = m.push(d);
      const tn = m.push(this.newNode());
      this.setRef(m.get(tn), 0, m.get(td));
      const c = this.walk(this.int(100));
      if (c !== 0) this.setRef(c, this.int(NODE_REFS), m.get(tn));
      m.pop(2);
    } else if (r < 0.7) {
      // move a reference between two old objects (the source keeps it or loses it)
      const a = this.walk(this.int(200));
      const b = this.walk(this.int(200));
      if (a === 0 || b === 0) return;
      const s = this.int(NODE_REFS);
      const v = m.getRef(a, s);
      this.setRef(b, this.int(NODE_REFS), v);
      if (this.rnd() < 0.7) this.setRef(a, s, 0);
    } else if (r < 0.8) {
      // load a reference into a root, then clear it in the heap
      const a = this.walk(this.int(200));
      if (a === 0) return;
      const s = this.int(NODE_REFS);
      const v = m.getRef(a, s);
      if (v === 0) return;
      this.setRoot(this.int(this.rootCount), v);
      this.setRef(a, s, 0);
    } else if (r < 0.84) {
      // cut
      const a = this.walk(this.int(200));
      if (a !== 0) this.setRef(a, this.int(NODE_REFS), 0);
    } else if (r < 0.86) {
      // drop or replace a root
      this.setRoot(this.int(this.rootCount), this.rnd() < 0.3 ? 0 : this.walk(this.int(20)));
    } else if (r < 0.862) {
      // a young pause while the worker marks (flushes the SATB buffer; remark if the worker is idle)
      this.vm.collect();
    } else if (r < 0.9) {
      // let the worker run ahead a little
      const until = performance.now() + this.rnd() * 0.03;
      while (performance.now() < until);
    } else {
      // garbage
      m.alloc(this.node);
      this.nextId++;
    }
    const completed = this.counts.get('concurrentCyclesCompleted') > this.completedBefore && this.counts.kind('cleanup') > this.cleanupsBefore;
    if (completed) this.extraOps++;
    if (this.extraOps > 300 || this.ops >= this.maxOps) this.finish();
  }

  // ---- the end: compare with the shadow graph ---------------------------------------------------------

  private finish(): void {
    const vm = this.vm;
    vm.collect();
    vm.collect();
    this.compare();
    vm.verifyNow(`seed ${this.options.seed}: at the end of the SATB program`, 'debug');
    this.stage = 'done';
    this.result = {
      seed: this.options.seed,
      ops: this.ops,
      hides: this.hides,
      nodes: this.nextId,
      cyclesCompleted: this.counts.get('concurrentCyclesCompleted') - this.completedBefore,
      counts: this.counts,
    };
  }

  /** Every object reachable from the roots is the shadow's node with the shadow's references. */
  private compare(): void {
    const words = this.vm.heap.words;
    const seen = new Set<number>();
    const stack: number[] = [];
    const same = (obj: number, id: number, where: string) => {
      if (id === 0) {
        if (obj !== 0) throw new Error(`seed ${this.options.seed}: ${where} should be null, holds ${obj}`);
        return;
      }
      if (obj === 0) throw new Error(`seed ${this.options.seed}: ${where} should hold node ${id}, is null`);
      if (words[obj] >>> TYPE_SHIFT !== this.node || this.idOf(obj) !== id) {
        throw new Error(`seed ${this.options.seed}: ${where} should hold node ${id}, holds type ${words[obj] >>> TYPE_SHIFT} id ${this.idOf(obj)} at ${obj} (lost: freed or scrubbed)`);
      }
      if (!seen.has(id)) { seen.add(id); stack.push(obj); }
    };
    for (let j = 0; j < this.rootCount; j++) same(this.m.get(j), this.rootIds[j], `root ${j}`);
    while (stack.length > 0) {
      const obj = stack.pop()!;
      const id = this.idOf(obj);
      const refs = this.shadow.get(id)!;
      for (let s = 0; s < NODE_REFS; s++) same(this.m.getRef(obj, s), refs[s], `node ${id} slot ${s}`);
    }
  }
}

/** Sums a counter over results. */
export function total(results: readonly SatbProgramResult[], name: string): number {
  return results.reduce((sum, r) => sum + r.counts.get(name), 0);
}
