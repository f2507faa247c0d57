/**
 * Barrier instrumentation: per barrier mechanism, how many stores took the
 * fast path, the slow path, or were filtered out, in one shared Float64Array
 * (float64 so counts past 2^31 stay exact).
 *
 *   index = barrier * 3 + outcome
 *   barrier   BARRIER_SATB = 0, BARRIER_CARD = 1, BARRIER_PERSIST = 2
 *   outcome   FAST = 0 (nothing to do), SLOW = 1 (recorded something), FILTERED = 2
 *
 * SATB:   fast = marking inactive; filtered = old value null; slow = old value enqueued.
 * Card:   filtered = null value or same-region store (or young source); fast = card
 *         already dirty; slow = card dirtied and enqueued.
 */
export const BARRIER_SATB = 0;
export const BARRIER_CARD = 1;
export const BARRIER_PERSIST = 2;
export const BARRIER_NAMES = ['satb', 'card', 'persist'];

export const OUTCOME_FAST = 0;
export const OUTCOME_SLOW = 1;
export const OUTCOME_FILTERED = 2;
export const OUTCOMES = 3;

export const SATB_FAST = BARRIER_SATB * OUTCOMES + OUTCOME_FAST;
export const SATB_SLOW = BARRIER_SATB * OUTCOMES + OUTCOME_SLOW;
export const SATB_FILTERED = BARRIER_SATB * OUTCOMES + OUTCOME_FILTERED;
export const CARD_FAST = BARRIER_CARD * OUTCOMES + OUTCOME_FAST;
export const CARD_SLOW = BARRIER_CARD * OUTCOMES + OUTCOME_SLOW;
export const CARD_FILTERED = BARRIER_CARD * OUTCOMES + OUTCOME_FILTERED;

export function newBarrierCounters(): Float64Array {
  return new Float64Array(new SharedArrayBuffer(BARRIER_NAMES.length * OUTCOMES * 8));
}

export interface BarrierCounts { fast: number; slow: number; filtered: number }

export function readBarrierCounters(counters: Float64Array): Record<string, BarrierCounts> {
  const out: Record<string, BarrierCounts> = {};
  BARRIER_NAMES.forEach((name, b) => {
    const fast = counters[b * OUTCOMES + OUTCOME_FAST];
    const slow = counters[b * OUTCOMES + OUTCOME_SLOW];
    const filtered = counters[b * OUTCOMES + OUTCOME_FILTERED];
    if (fast + slow + filtered > 0) out[name] = { fast, slow, filtered };
  });
  return out;
}
