/**
 * checkCollector: the one call that property-tests a collector plug-in.
 *
 *   import { checkCollector } from './test/kit/index.js';
 *   checkCollector(myPlugin, { runs: 1000, heapBytes: 64 * 1024, regionBytes: 4096, stressGc: 3 });
 *
 * It generates mutator programs (program.ts), runs each on a fresh VM with the
 * plug-in and heap verification on (verify: 'debug' by default, so the
 * verifier throws VerificationError before and after every pause), runs the
 * same program on the oracle (oracle.ts), and after every pause and at the end
 * compares the two object graphs (interpreter.ts). A failing program is shrunk
 * by fast-check and reported as a numbered listing with root slots resolved,
 * the failing operation marked, and the error as the failure's cause, e.g.
 *
 *   Property failed after 2 tests
 *   { seed: 7, path: "1:1:1:6:8:9", endOnFailure: true }
 *   Counterexample: [evac-stale-root on heap 32 KiB (regions of 4 KiB), verify debug; 2 ops:
 *       0  r0 = new Empty
 *       1  gc  <-- fails here]
 *   Shrunk 5 time(s)
 *   Caused by: Error: op 1 `gc` threw VerificationError: heap verification failed after
 *     GC #1: 1 problem(s); first: mutator 0 root slot 0: reference 2 into free region 0
 *
 * Heaps: a collector that never collects (constraints.collects false) gets a
 * heap large enough for everything the program allocates. For the others an
 * allocation that would take the oracle's live data past `liveFraction` of the
 * heap (humongous objects counted by whole regions) is skipped on both sides,
 * and shown as skipped in listings, so an out-of-memory error is a failure:
 * the collector did not reclaim enough (unless outOfMemory: 'end').
 *
 * Reproduce a run with the same seed: HEAPLAB_SEED=<seed> (and HEAPLAB_PATH=<path>
 * from a failure report to replay only the shrunk case), or the seed/path options.
 */
import fc from 'fast-check';
import type { CollectorPlugin, OptionValue } from '../../vm-core/collector.js';
import { OutOfMemoryError } from '../../vm-core/errors.js';
import type { GcEventListener } from '../../vm-core/events.js';
import { REGION_FREE, REGION_HUMONGOUS_START } from '../../vm-core/region-table.js';
import { MIN_REGIONS, formatBytes, heapGeometry } from '../../vm-core/sizes.js';
import { TypeRegistry } from '../../vm-core/type-registry.js';
import type { VerifyLevel } from '../../vm-core/verifier.js';
import { Vm } from '../../vm-core/vm.js';
import { Interpreter } from './interpreter.js';
import { registerKitTypes } from './kit-types.js';
import { type Op, opsArbitrary, regionsForOp } from './program.js';

export interface CheckCollectorOptions {
  /** Programs to run (fast-check numRuns). Default 100. */
  runs?: number;
  /** Heap size in bytes. Default 64 KiB. Raised per program for collectors that never collect. */
  heapBytes?: number;
  /** Region size in bytes (power of two, >= 1 KiB). Default 4 KiB, so humongous objects are small. */
  regionBytes?: number;
  /** Collect at every N-th allocation and poison released regions (VM stress mode). Default 0: off. */
  stressGc?: number;
  /** The plug-in's options (names must be among plugin.options). */
  collectorOptions?: Record<string, OptionValue>;
  /** Heap verification level for every pause and at the end. Default 'debug'. */
  verify?: VerifyLevel;
  /** Longest program. Default 80 operations. */
  maxOps?: number;
  /** Allocations that would take the live data above this share of the heap are skipped. Default 0.5. */
  liveFraction?: number;
  /** Relative weight of explicit `gc` operations (default 2; 0 leaves collection to the collector). */
  gcWeight?: number;
  /**
   * What an OutOfMemoryError means. 'fail' (default): a failure, since the
   * live budget keeps every program's live data well inside the heap. 'end':
   * the program ends there (its partial operation undone from the roots), the
   * graphs are compared and the heap verified after the error; for
   * configurations that push a collector past what it promises to survive,
   * e.g. evacuation failure with no to-space reserve.
   */
  outOfMemory?: 'fail' | 'end';
  /** Compare the graphs after every operation, not only after pauses. Default false. */
  compareAfterEveryOp?: boolean;
  /** fast-check seed; default: HEAPLAB_SEED from the environment, else random. */
  seed?: number;
  /** fast-check replay path (with seed); default: HEAPLAB_PATH from the environment. */
  path?: string;
  /** A label for listings and messages (e.g. the configuration's name). */
  label?: string;
}

/** What one program run did, from the VM's events and the interpreter. */
export interface RunStats {
  ops: number;
  allocations: number;
  humongousAllocations: number;
  skippedAllocations: number;
  pauses: number;
  /** Sums of the work counters collectors report through events.count (e.g. evacuationFailedRegions). */
  counters: Record<string, number>;
  /** How often a pause was reclassified, by kind (e.g. 'evacuation-failure'). */
  reclassified: Record<string, number>;
  /** Pauses by the kind announced in their prepare event (young, mixed, remark, cleanup, full, evacuation...). */
  pauseKinds: Record<string, number>;
  /** Regions flagged evacFailed in the region table, as a listener saw at phase ends (most per pause, summed). */
  regionsFlaggedEvacFailed: number;
  /** Regions in use when a pause stopped the mutators and free when it resumed them (read from the region table). */
  regionsReleased: number;
  /** Of those, humongous-start regions: humongous objects reclaimed. */
  humongousReleased: number;
  /** Programs ended by an out-of-memory error (only with outOfMemory: 'end'). */
  outOfMemory: number;
}

/** Totals over all runs of a checkCollector call. */
export interface CheckSummary extends RunStats {
  runs: number;
  seed: number;
}

/** A configuration with every default filled in, as a Program carries it. */
export interface ProgramConfig {
  label: string;
  heapBytes: number;
  regionBytes: number;
  stressGc: number;
  collectorOptions: Record<string, OptionValue>;
  verify: VerifyLevel;
  maxOps: number;
  liveFraction: number;
  gcWeight: number;
  compareAfterEveryOp: boolean;
  outOfMemory: 'fail' | 'end';
}

export const DEFAULT_REGION_BYTES = 4096;
export const DEFAULT_HEAP_BYTES = 64 * 1024;
const ROOT_SLOTS = 4096;

function resolveConfig(plugin: CollectorPlugin, o: CheckCollectorOptions): ProgramConfig {
  return {
    label: o.label ?? plugin.name,
    heapBytes: o.heapBytes ?? DEFAULT_HEAP_BYTES,
    regionBytes: o.regionBytes ?? DEFAULT_REGION_BYTES,
    stressGc: o.stressGc ?? 0,
    collectorOptions: o.collectorOptions ?? {},
    verify: o.verify ?? 'debug',
    maxOps: o.maxOps ?? 80,
    liveFraction: o.liveFraction ?? 0.5,
    gcWeight: o.gcWeight ?? 2,
    compareAfterEveryOp: o.compareAfterEveryOp ?? false,
    outOfMemory: o.outOfMemory ?? 'fail',
  };
}

/** A generated program together with the plug-in and heap it runs on; prints as a numbered listing. */
export class Program {
  readonly heapBytes: number;
  readonly liveLimitWords: number;
  /** Set by runProgram when an operation fails: listings mark it and the operations never reached. */
  failedAt = -1;

  constructor(readonly plugin: CollectorPlugin, readonly ops: readonly Op[], readonly config: ProgramConfig) {
    if (plugin.constraints.collects) {
      this.heapBytes = config.heapBytes;
      const geometry = heapGeometry(config.heapBytes, config.regionBytes);
      this.liveLimitWords = Math.floor((geometry.heapBytes / 4) * config.liveFraction);
    } else {
      let regions = MIN_REGIONS + 1;
      for (const op of ops) regions += regionsForOp(op, config.regionBytes);
      this.heapBytes = Math.max(config.heapBytes, regions * config.regionBytes);
      this.liveLimitWords = Infinity;
    }
  }

  newInterpreter(types: TypeRegistry): Interpreter {
    return new Interpreter(types, registerKitTypes(types), this.liveLimitWords, this.config.regionBytes / 4 / 2);
  }

  /** The program as a numbered listing, with root slots resolved (a dry run on the oracle alone). */
  toString(): string {
    const c = this.config;
    const lines: string[] = [];
    const options = Object.keys(c.collectorOptions).length ? `, options ${JSON.stringify(c.collectorOptions)}` : '';
    const stress = c.stressGc > 0 ? `, stressGc ${c.stressGc}` : '';
    const oom = c.outOfMemory === 'end' ? ', out of memory ends the program' : '';
    const label = c.label === this.plugin.name ? '' : `${c.label}: `;
    lines.push(`${label}${this.plugin.name} on heap ${formatBytes(this.heapBytes)} (regions of ${formatBytes(c.regionBytes)})${stress}${options}, verify ${c.verify}${oom}; ${this.ops.length} ops:`);
    try {
      const interp = this.newInterpreter(new TypeRegistry());
      this.ops.forEach((op, k) => {
        const step = interp.resolve(op);
        step.oracle();
        const mark = k === this.failedAt ? '  <-- fails here' : this.failedAt >= 0 && k > this.failedAt ? '  (not reached)' : '';
        lines.push(`  ${String(k).padStart(3)}  ${step.text}${mark}`);
      });
    } catch (e) {
      lines.push(`  (listing failed: ${(e as Error).message}); raw ops: ${JSON.stringify(this.ops)}`);
    }
    return lines.join('\n');
  }

  [fc.toStringMethod](): string {
    return this.toString();
  }
}

/** A hand-written program (for unit tests and for replaying a listing by hand). */
export function programOf(plugin: CollectorPlugin, ops: readonly Op[], options: CheckCollectorOptions = {}): Program {
  return new Program(plugin, ops, resolveConfig(plugin, options));
}

/** Programs for a plug-in and configuration, as fast-check values that print as listings. */
export function programArbitrary(plugin: CollectorPlugin, options: CheckCollectorOptions = {}): fc.Arbitrary<Program> {
  const config = resolveConfig(plugin, options);
  return opsArbitrary({ regionBytes: config.regionBytes, maxOps: config.maxOps, gcWeight: config.gcWeight })
    .map((ops) => new Program(plugin, ops, config));
}

class StatsListener implements GcEventListener {
  pauses = 0;
  readonly counters: Record<string, number> = {};
  readonly reclassified: Record<string, number> = {};
  readonly pauseKinds: Record<string, number> = {};
  /** Regions flagged evacFailed in the region table at some phase end, summed over pauses. */
  regionsFlaggedEvacFailed = 0;
  regionsReleased = 0;
  humongousReleased = 0;
  private flaggedThisPause = 0;
  private readonly kindsAtStop: Uint8Array;

  constructor(private readonly vm: Vm) {
    this.kindsAtStop = new Uint8Array(vm.heap.regionCount);
  }

  pauseEvent(name: string, _timeMs: number, detail: { kind?: string }): void {
    if (name === 'prepare' && detail.kind) this.pauseKinds[detail.kind] = (this.pauseKinds[detail.kind] ?? 0) + 1;
    const kinds = this.vm.heap.regions.kind;
    if (name === 'mutators-stopped') this.kindsAtStop.set(kinds);
    if (name === 'mutators-resumed') {
      this.pauses++;
      this.regionsFlaggedEvacFailed += this.flaggedThisPause;
      this.flaggedThisPause = 0;
      for (let r = 0; r < kinds.length; r++) {
        if (kinds[r] !== REGION_FREE || this.kindsAtStop[r] === REGION_FREE) continue;
        this.regionsReleased++;
        if (this.kindsAtStop[r] === REGION_HUMONGOUS_START) this.humongousReleased++;
      }
    }
  }

  /** Reads the region table itself, so evacuation failure is seen even if a collector does not count it. */
  phaseEnd(): void {
    const flags = this.vm.heap.regions.evacFailed;
    let n = 0;
    for (let r = 0; r < flags.length; r++) if (flags[r] !== 0) n++;
    if (n > this.flaggedThisPause) this.flaggedThisPause = n;
  }

  count(name: string, value: number): void {
    this.counters[name] = (this.counters[name] ?? 0) + value;
  }

  reclassify(kind: string): void {
    this.reclassified[kind] = (this.reclassified[kind] ?? 0) + 1;
  }

  concurrent(): void {}
}

/**
 * Runs one program on a fresh VM and on the oracle, comparing the graphs after
 * every pause and at the end, and verifying the heap at the end. Throws on the
 * first difference, verification failure or unexpected error, naming the
 * operation.
 */
export function runProgram(program: Program): RunStats {
  const { plugin, config } = program;
  const vm = new Vm({
    heapBytes: program.heapBytes,
    regionBytes: config.regionBytes,
    collector: plugin,
    collectorOptions: config.collectorOptions,
    verify: config.verify,
    stressGc: config.stressGc,
    rootSlots: ROOT_SLOTS,
  });
  const listener = new StatsListener(vm);
  vm.events.subscribe(listener);
  const interp = program.newInterpreter(vm.types);
  const m = vm.newMutator(ROOT_SLOTS);
  const stats: RunStats = {
    ops: program.ops.length, allocations: 0, humongousAllocations: 0, skippedAllocations: 0, pauses: 0,
    counters: listener.counters, reclassified: listener.reclassified, pauseKinds: listener.pauseKinds, regionsFlaggedEvacFailed: 0, regionsReleased: 0, humongousReleased: 0, outOfMemory: 0,
  };
  for (let k = 0; k < program.ops.length; k++) {
    const step = interp.resolve(program.ops[k]);
    const pausesBefore = listener.pauses;
    try {
      step.heap(m, vm);
    } catch (e) {
      const err = e as Error;
      if (err instanceof OutOfMemoryError && config.outOfMemory === 'end') {
        // undo the operation's partial effect on the roots (a chain pushes its slot first)
        m.popFrame(interp.rootCount);
        stats.outOfMemory++;
        interp.compare(m, vm, `after op ${k} \`${step.text}\` ran out of memory`);
        break;
      }
      program.failedAt = k;
      const oom = err instanceof OutOfMemoryError
        ? ` (the oracle's live data is ${interp.oracle.liveWords()} words of ${vm.heap.heapWords}; the collector failed to reclaim garbage)`
        : '';
      throw new Error(`op ${k} \`${step.text}\` threw ${err.name}: ${err.message}${oom}`, { cause: err });
    }
    step.oracle();
    if (step.allocates) stats.allocations++;
    if (step.allocates && step.humongous) stats.humongousAllocations++;
    if (step.skipped) stats.skippedAllocations++;
    if (config.compareAfterEveryOp || listener.pauses !== pausesBefore || program.ops[k].op === 'gc') {
      try {
        interp.compare(m, vm, `after op ${k} \`${step.text}\`${listener.pauses !== pausesBefore ? ` (GC #${vm.gcCount})` : ''}`);
      } catch (e) {
        program.failedAt = k;
        throw e;
      }
    }
  }
  interp.compare(m, vm, 'at the end of the program');
  if (config.verify !== 'off') vm.verifyNow('at the end of the program', config.verify);
  stats.pauses = listener.pauses;
  stats.regionsFlaggedEvacFailed = listener.regionsFlaggedEvacFailed;
  stats.regionsReleased = listener.regionsReleased;
  stats.humongousReleased = listener.humongousReleased;
  return stats;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name}=${v} is not an integer`);
  return n;
}

/** The seed checkCollector uses when none is given: HEAPLAB_SEED, else a random one. */
export function defaultSeed(): number {
  return envInt('HEAPLAB_SEED') ?? ((Math.random() * 0x7fffffff) | 0);
}

function addStats(total: CheckSummary, s: RunStats): void {
  total.runs++;
  total.ops += s.ops;
  total.allocations += s.allocations;
  total.humongousAllocations += s.humongousAllocations;
  total.skippedAllocations += s.skippedAllocations;
  total.pauses += s.pauses;
  total.regionsFlaggedEvacFailed += s.regionsFlaggedEvacFailed;
  total.regionsReleased += s.regionsReleased;
  total.humongousReleased += s.humongousReleased;
  total.outOfMemory += s.outOfMemory;
  for (const [k, v] of Object.entries(s.counters)) total.counters[k] = (total.counters[k] ?? 0) + v;
  for (const [k, v] of Object.entries(s.reclassified)) total.reclassified[k] = (total.reclassified[k] ?? 0) + v;
  for (const [k, v] of Object.entries(s.pauseKinds)) total.pauseKinds[k] = (total.pauseKinds[k] ?? 0) + v;
}

/**
 * Property-tests a collector plug-in: `runs` random programs, each checked
 * against the oracle and the verifier. Throws (with the shrunk program as a
 * listing, the seed and the replay path) when any program fails; otherwise
 * returns totals of what the runs exercised.
 */
export function checkCollector(plugin: CollectorPlugin, options: CheckCollectorOptions = {}): CheckSummary {
  const seed = options.seed ?? defaultSeed();
  const path = options.path ?? (options.seed === undefined ? process.env.HEAPLAB_PATH || undefined : undefined);
  const summary: CheckSummary = {
    runs: 0, seed, ops: 0, allocations: 0, humongousAllocations: 0, skippedAllocations: 0, pauses: 0,
    counters: {}, reclassified: {}, pauseKinds: {}, regionsFlaggedEvacFailed: 0, regionsReleased: 0, humongousReleased: 0, outOfMemory: 0,
  };
  let shrinking = false;
  fc.assert(
    fc.property(programArbitrary(plugin, options), (program) => {
      try {
        const stats = runProgram(program);
        if (!shrinking) addStats(summary, stats);
      } catch (e) {
        shrinking = true;
        throw e;
      }
    }),
    { numRuns: options.runs ?? 100, seed, path, endOnFailure: false },
  );
  return summary;
}
