/**
 * Card-marking post-write barrier, G1 style (Detlefs et al. 2004; HotSpot's
 * G1BarrierSet post barrier):
 *
 *   store val into slot;
 *   if val == null                                   -> filtered (no pointer created)
 *   if (slot ^ val) >> LOG_REGION_WORDS == 0         -> filtered (same region, remsets ignore it)
 *   card = slot >> LOG_CARD_WORDS
 *   if cards[card] == YOUNG                          -> filtered (young source: collected every pause)
 *   if cards[card] == DIRTY                          -> fast (already recorded)
 *   cards[card] = DIRTY; enqueue card                -> slow (refinement will scan it)
 *
 * Invariant kept: every cross-region reference stored since the card table was
 * last cleaned lies on a dirty card that is in some dirty-card buffer or was
 * handed to the collector.
 */
import * as barrierCounters from './counters.js';
import * as layout from '../vm-core/layout.js';
import { Mutator } from '../vm-core/mutator.js';
import * as sideMetadata from '../vm-core/side-metadata.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { CARD_FAST, CARD_FILTERED, CARD_SLOW } = barrierCounters;
const { LOG_CARD_WORDS, REF_BASE } = layout;
const { CARD_CLEAN, CARD_DIRTY } = sideMetadata;

export class CardMarkingMutator extends Mutator {
  override setRef(obj: number, i: number, val: number): void {
    const slot = obj + REF_BASE + i;
    this.words[slot] = val;
    if (val !== 0 && ((slot ^ val) >> this.logRegionWords) !== 0) {
      const card = slot >> LOG_CARD_WORDS;
      if (this.cards[card] === CARD_CLEAN) this.dirtyCard(card);
    }
  }

  /** Slow path: dirty the card and put it in this mutator's dirty-card buffer. */
  dirtyCard(card: number): void {
    this.cards[card] = CARD_DIRTY;
    this.dirtyCards[this.dirtyCardCount++] = card;
    if (this.dirtyCardCount === this.dirtyCards.length) this.host.dirtyCardBufferFull(this);
  }
}

/** The same barrier with fast/slow/filtered counting. */
export class CountedCardMarkingMutator extends CardMarkingMutator {
  override setRef(obj: number, i: number, val: number): void {
    const slot = obj + REF_BASE + i;
    this.words[slot] = val;
    if (val !== 0 && ((slot ^ val) >> this.logRegionWords) !== 0) {
      const card = slot >> LOG_CARD_WORDS;
      const value = this.cards[card];
      if (value === CARD_CLEAN) {
        this.barrierCounters[CARD_SLOW]++;
        this.dirtyCard(card);
      } else {
        this.barrierCounters[value === CARD_DIRTY ? CARD_FAST : CARD_FILTERED]++;
      }
    } else {
      this.barrierCounters[CARD_FILTERED]++;
    }
  }
}
