/**
 * Snapshot-at-the-beginning pre-write barrier (Yuasa 1990; G1's SATB queues):
 * while concurrent marking runs, the reference a store overwrites is recorded
 * before it is lost, so the marker sees every object that was reachable when
 * marking started.
 *
 *   if !marking                 -> fast (one field check: the whole cost outside marking)
 *   old = slot; if old == null  -> filtered
 *   enqueue old                 -> slow (the buffer goes to the marker when full)
 *   store val into slot
 *
 * Invariant kept: no object reachable at the snapshot becomes unreachable to the
 * marker without passing through a SATB buffer.
 */
import * as barrierCounters from './counters.js';
import * as layout from '../vm-core/layout.js';
import { Mutator } from '../vm-core/mutator.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { SATB_FAST, SATB_FILTERED, SATB_SLOW } = barrierCounters;
const { REF_BASE } = layout;

export class SatbMutator extends Mutator {
  override setRef(obj: number, i: number, val: number): void {
    const slot = obj + REF_BASE + i;
    if (this.marking) {
      const old = this.words[slot];
      if (old !== 0) this.satbEnqueue(old);
    }
    this.words[slot] = val;
  }

  satbEnqueue(old: number): void {
    this.satbBuffer[this.satbCount++] = old;
    if (this.satbCount === this.satbBuffer.length) this.host.satbBufferFull(this);
  }
}

export class CountedSatbMutator extends SatbMutator {
  override setRef(obj: number, i: number, val: number): void {
    const slot = obj + REF_BASE + i;
    if (this.marking) {
      const old = this.words[slot];
      if (old !== 0) {
        this.barrierCounters[SATB_SLOW]++;
        this.satbEnqueue(old);
      } else {
        this.barrierCounters[SATB_FILTERED]++;
      }
    } else {
      this.barrierCounters[SATB_FAST]++;
    }
    this.words[slot] = val;
  }
}
