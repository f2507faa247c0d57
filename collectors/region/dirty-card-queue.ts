/**
 * The global dirty-card queue (HotSpot's G1DirtyCardQueueSet): cards dirtied
 * by the post-write barrier, handed over a mutator buffer at a time
 * (collector.onDirtyCards), waiting for refinement.
 *
 *   cards [ c0 c1 c2 ... c(length-1) | unused ... ]   a growable Int32Array stack
 *
 * Order does not matter to refinement (each card is scanned once, whenever),
 * so it is a stack: push copies a buffer in, pop takes the newest card. The
 * barrier enqueues a card only on its CLEAN -> DIRTY transition, so a card is
 * queued at most once until refinement cleans it.
 */
export class DirtyCardQueue {
  private cards: Int32Array;
  private top = 0;
  /** Cards pushed since creation (cumulative, for reports). */
  enqueued = 0;

  constructor(initialCapacity = 1024) {
    this.cards = new Int32Array(Math.max(16, initialCapacity));
  }

  /** Appends cards[0 .. n). */
  push(cards: Int32Array, n: number): void {
    if (n <= 0) return;
    const need = this.top + n;
    if (need > this.cards.length) {
      const grown = new Int32Array(Math.max(need, this.cards.length * 2));
      grown.set(this.cards.subarray(0, this.top));
      this.cards = grown;
    }
    this.cards.set(n === cards.length ? cards : cards.subarray(0, n), this.top);
    this.top = need;
    this.enqueued += n;
  }

  /** Appends one card. */
  pushOne(card: number): void {
    if (this.top === this.cards.length) {
      const grown = new Int32Array(this.cards.length * 2);
      grown.set(this.cards);
      this.cards = grown;
    }
    this.cards[this.top++] = card;
    this.enqueued++;
  }

  get length(): number {
    return this.top;
  }

  /** The newest card, removed; -1 when empty. */
  pop(): number {
    return this.top === 0 ? -1 : this.cards[--this.top];
  }

  clear(): void {
    this.top = 0;
  }

  /** Bytes of the queue's backing array. */
  committedBytes(): number {
    return this.cards.byteLength;
  }
}
