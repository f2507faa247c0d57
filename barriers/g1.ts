/**
 * G1's pair of barriers on one store: the SATB pre-write barrier (while
 * marking) and the card-marking post-write barrier with null and cross-region
 * filters. See satb.ts and card-marking.ts for each half's invariant.
 */
import * as barrierCounters from './counters.js';
import * as layout from '../vm-core/layout.js';
import { Mutator } from '../vm-core/mutator.js';
import * as sideMetadata from '../vm-core/side-metadata.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { CARD_FAST, CARD_FILTERED, CARD_SLOW, SATB_FAST, SATB_FILTERED, SATB_SLOW } = barrierCounters;
const { LOG_CARD_WORDS, REF_BASE } = layout;
const { CARD_CLEAN, CARD_DIRTY } = sideMetadata;

export class G1Mutator extends Mutator {
  override setRef(obj: number, i: number, val: number): void {
    const slot = obj + REF_BASE + i;
    const words = this.words;
    if (this.marking) {
      const old = words[slot];
      if (old !== 0) this.satbEnqueue(old);
    }
    words[slot] = val;
    if (val !== 0 && ((slot ^ val) >> this.logRegionWords) !== 0) {
      const card = slot >> LOG_CARD_WORDS;
      if (this.cards[card] === CARD_CLEAN) this.dirtyCard(card);
    }
  }

  satbEnqueue(old: number): void {
    this.satbBuffer[this.satbCount++] = old;
    if (this.satbCount === this.satbBuffer.length) this.host.satbBufferFull(this);
  }

  dirtyCard(card: number): void {
    this.cards[card] = CARD_DIRTY;
    this.dirtyCards[this.dirtyCardCount++] = card;
    if (this.dirtyCardCount === this.dirtyCards.length) this.host.dirtyCardBufferFull(this);
  }
}

export class CountedG1Mutator extends G1Mutator {
  override setRef(obj: number, i: number, val: number): void {
    const slot = obj + REF_BASE + i;
    const words = this.words;
    const counters = this.barrierCounters;
    if (this.marking) {
      const old = words[slot];
      if (old !== 0) { counters[SATB_SLOW]++; this.satbEnqueue(old); } else counters[SATB_FILTERED]++;
    } else {
      counters[SATB_FAST]++;
    }
    words[slot] = val;
    if (val !== 0 && ((slot ^ val) >> this.logRegionWords) !== 0) {
      const card = slot >> LOG_CARD_WORDS;
      const value = this.cards[card];
      if (value === CARD_CLEAN) { counters[CARD_SLOW]++; this.dirtyCard(card); } else counters[value === CARD_DIRTY ? CARD_FAST : CARD_FILTERED]++;
    } else {
      counters[CARD_FILTERED]++;
    }
  }
}
