/**
 * The collector plug-in contract. A collector is plain-data constraints (as
 * MMTk's PlanConstraints or Whippet's attrs headers) plus a factory. The VM
 * reads the constraints once, at start-up, to pick the barrier class and the
 * paths it needs; it never asks per store or per allocation.
 *
 * Who calls what, and how often:
 *   create(vm, options)       once per VM, after the heap exists
 *   refillTlab(m, minWords)   allocation slow path: once per allocation buffer (tens of KiB)
 *   allocHumongous(words)     once per humongous object
 *   retireTlab(m)             at the start of every pause, for every mutator
 *   collectionRequired()      on every allocation slow path; cheap
 *   collect(cause)            in a pause (mutators stopped, TLABs retired), once per GC
 *   onDirtyCards(cards, n)    when a mutator's dirty-card buffer fills, and at every pause
 *   onSatbBuffer(refs, n)     when a mutator's SATB buffer fills, and at every pause
 *   usedWords()               by reports and the verifier's accounting check
 *   allocatedWords            by reports, at the end of a run
 *   checkInvariants(v)        by the verifier, before and after every pause
 */
import type { BarrierChoice } from '../barriers/select.js';
import type { Mutator } from './mutator.js';
import type { Vm } from './vm.js';

export interface CollectorConstraints {
  /** Objects may move: references held outside root slots go stale. */
  moves: boolean;
  /** False for epsilon: the VM never asks it to collect. */
  collects: boolean;
  generational: boolean;
  needsRemsets: boolean;
  concurrent: boolean;
  barriers: BarrierChoice;
}

export type OptionValue = number | string | boolean;

export interface OptionSpec {
  default: OptionValue;
  description: string;
  /** The only values a string option takes (a value outside them is a usage error). */
  choices?: readonly string[];
}

export interface CollectorPlugin {
  name: string;
  description: string;
  constraints: CollectorConstraints;
  options: Record<string, OptionSpec>;
  create(vm: Vm, options: Record<string, OptionValue>): Collector;
  /** The barriers when they depend on an option (gcpersist's persistMode=eager); default constraints.barriers. */
  barriersFor?(options: Record<string, OptionValue>): BarrierChoice;
}

export interface Collector {
  refillTlab(m: Mutator, minWords: number): boolean;
  allocHumongous(words: number): number;
  retireTlab(m: Mutator): void;
  collectionRequired(): boolean;
  collect(cause: string): void;
  usedWords(): number;
  /** Words handed to mutators since the VM started (allocation volume). */
  readonly allocatedWords: number;
  onDirtyCards?(cards: Int32Array, n: number): void;
  onSatbBuffer?(refs: Int32Array, n: number): void;
  checkInvariants?(when: string, problems: string[]): void;
}
