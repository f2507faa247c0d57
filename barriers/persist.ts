/**
 * The eager persistence barrier: GCPersist's baseline (Wu et al. VEE 2020),
 * write-through persistency. On top of the card-marking post-write barrier of
 * the generational collector it adds, to every reference store AND every
 * data store:
 *
 *   store the value;                                  (card marking as card-marking.ts)
 *   if persistent[region(obj)] == 0     -> fast: not a persistent object (one check)
 *   slow path (collectors/gcpersist/persistence.ts):
 *     obj lacks PERSIST_EAGER          -> filtered (a lazy persistent object, or a volatile
 *                                         object in a region holding logged ones)
 *     a reference to a volatile object -> its closure is logged first (OBJECT records)
 *     append (address, value) to the write-through log; every `eagerBatch` stores the
 *     batch is written and fdatasync'ed before the store returns
 *
 * The class is chosen once per process (barriers/select.ts, from the
 * collector's barriersFor(options): persistMode=eager); collectors without
 * persistence never load it, and a lazy gcpersist run uses the plain card
 * barrier, so neither pays anything per store.
 */
import type { Persistence } from '../collectors/gcpersist/persistence.js';
import * as layout from '../vm-core/layout.js';
import type { Mutator, MutatorHost } from '../vm-core/mutator.js';
import * as sideMetadata from '../vm-core/side-metadata.js';
import * as barrierCounters from './counters.js';
import { CardMarkingMutator } from './card-marking.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { CARD_FAST, CARD_FILTERED, CARD_SLOW, OUTCOMES, BARRIER_PERSIST, OUTCOME_FAST, OUTCOME_FILTERED, OUTCOME_SLOW } = barrierCounters;
const { LOG_CARD_WORDS, PERSIST_EAGER, REF_BASE } = layout;
const { CARD_CLEAN, CARD_DIRTY } = sideMetadata;

const PERSIST_FAST = BARRIER_PERSIST * OUTCOMES + OUTCOME_FAST;
const PERSIST_SLOW = BARRIER_PERSIST * OUTCOMES + OUTCOME_SLOW;
const PERSIST_FILTERED = BARRIER_PERSIST * OUTCOMES + OUTCOME_FILTERED;

type MutatorArgs = ConstructorParameters<typeof Mutator>;

/** The persistence engine of the VM's collector (the barrier's slow path). */
function persistenceOf(host: MutatorHost): Persistence {
  const p = (host as unknown as { collector?: { persistence?: Persistence } }).collector?.persistence;
  if (!p || p.log === null) throw new Error('the eager persistence barrier needs a gcpersist collector with persistMode=eager');
  return p;
}

export class PersistMutator extends CardMarkingMutator {
  readonly persistFlags: Uint8Array;
  readonly persistence: Persistence;

  constructor(...args: MutatorArgs) {
    super(...args);
    this.persistFlags = (args[2] as unknown as { regions: { persistent: Uint8Array } }).regions.persistent;
    this.persistence = persistenceOf(args[1]);
  }

  override setRef(obj: number, i: number, val: number): void {
    const slot = obj + REF_BASE + i;
    this.words[slot] = val;
    if (val !== 0 && ((slot ^ val) >> this.logRegionWords) !== 0) {
      const card = slot >> LOG_CARD_WORDS;
      if (this.cards[card] === CARD_CLEAN) this.dirtyCard(card);
    }
    if (this.persistFlags[obj >> this.logRegionWords] !== 0) this.persistence.storeRef(obj, slot, val);
  }

  override setI32(obj: number, offset: number, v: number): void {
    this.words[obj + offset] = v;
    if (this.persistFlags[obj >> this.logRegionWords] !== 0) this.persistence.storeI32(obj, obj + offset, v);
  }

  override setF64(obj: number, offset: number, v: number): void {
    this.f64[(obj + offset) >> 1] = v;
    if (this.persistFlags[obj >> this.logRegionWords] !== 0) this.persistence.storeF64(obj, obj + offset);
  }
}

/** The same barrier with fast/slow/filtered counting (card and persist). */
export class CountedPersistMutator extends PersistMutator {
  override setRef(obj: number, i: number, val: number): void {
    const slot = obj + REF_BASE + i;
    const counters = this.barrierCounters;
    this.words[slot] = val;
    if (val !== 0 && ((slot ^ val) >> this.logRegionWords) !== 0) {
      const card = slot >> LOG_CARD_WORDS;
      const value = this.cards[card];
      if (value === CARD_CLEAN) { counters[CARD_SLOW]++; this.dirtyCard(card); } else counters[value === CARD_DIRTY ? CARD_FAST : CARD_FILTERED]++;
    } else {
      counters[CARD_FILTERED]++;
    }
    this.countPersist(obj);
    if (this.persistFlags[obj >> this.logRegionWords] !== 0) this.persistence.storeRef(obj, slot, val);
  }

  override setI32(obj: number, offset: number, v: number): void {
    this.words[obj + offset] = v;
    this.countPersist(obj);
    if (this.persistFlags[obj >> this.logRegionWords] !== 0) this.persistence.storeI32(obj, obj + offset, v);
  }

  override setF64(obj: number, offset: number, v: number): void {
    this.f64[(obj + offset) >> 1] = v;
    this.countPersist(obj);
    if (this.persistFlags[obj >> this.logRegionWords] !== 0) this.persistence.storeF64(obj, obj + offset);
  }

  private countPersist(obj: number): void {
    const c = this.barrierCounters;
    if (this.persistFlags[obj >> this.logRegionWords] === 0) c[PERSIST_FAST]++;
    else if ((this.words[obj] & PERSIST_EAGER) === 0) c[PERSIST_FILTERED]++;
    else c[PERSIST_SLOW]++;
  }
}
