/**
 * Picks the one Mutator class a process uses, from the collector's barrier
 * constraints and whether barrier counters are on. The choice is made once per
 * VM, never per store: each combination is its own class, so a workload's call
 * sites stay monomorphic and V8 inlines the barrier.
 *
 *   preWrite \ postWrite   none                      card
 *   none                   Mutator                   CardMarkingMutator
 *   satb                   SatbMutator               G1Mutator
 *   (each with a Counted* twin that also counts fast/slow/filtered stores)
 *   persist 'eager' (+ card)   PersistMutator (gcpersist --persist-mode eager)
 */
import { CardMarkingMutator, CountedCardMarkingMutator } from './card-marking.js';
import { CountedG1Mutator, G1Mutator } from './g1.js';
import { CountedPersistMutator, PersistMutator } from './persist.js';
import { CountedSatbMutator, SatbMutator } from './satb.js';
import { Mutator } from '../vm-core/mutator.js';

export type PreWriteBarrier = 'none' | 'satb';
export type PostWriteBarrier = 'none' | 'card';
export type ReadBarrier = 'none';
/** GCPersist's eager write-through barrier (barriers/persist.ts); only with postWrite 'card'. */
export type PersistBarrier = 'none' | 'eager';

export interface BarrierChoice {
  preWrite: PreWriteBarrier;
  postWrite: PostWriteBarrier;
  read: ReadBarrier;
  persist?: PersistBarrier;
}

export const NO_BARRIERS: BarrierChoice = { preWrite: 'none', postWrite: 'none', read: 'none' };

export function mutatorClassFor(barriers: BarrierChoice, counted: boolean): typeof Mutator {
  const satb = barriers.preWrite === 'satb';
  const card = barriers.postWrite === 'card';
  if (barriers.persist === 'eager') {
    if (satb || !card) throw new Error('the eager persistence barrier comes only with the card post-write barrier');
    return counted ? CountedPersistMutator : PersistMutator;
  }
  if (satb && card) return counted ? CountedG1Mutator : G1Mutator;
  if (satb) return counted ? CountedSatbMutator : SatbMutator;
  if (card) return counted ? CountedCardMarkingMutator : CardMarkingMutator;
  return Mutator;
}

export function describeBarriers(b: BarrierChoice): string {
  const parts = [];
  if (b.preWrite !== 'none') parts.push(`${b.preWrite} pre-write`);
  if (b.postWrite !== 'none') parts.push(`${b.postWrite} post-write`);
  if (b.read !== 'none') parts.push(`${b.read} read`);
  if (b.persist === 'eager') parts.push('eager persist');
  return parts.length ? parts.join(' + ') : 'none';
}
