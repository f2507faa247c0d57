/**
 * Pause-time policy of the `g1` preset: how long eden may grow before the next
 * pause, and how many old regions a mixed pause takes. Pure logic over the
 * predictions of G1Analytics; no heap access.
 *
 * Learnt from HotSpot (never copied):
 *   - gc/g1/g1Policy.cpp, G1Policy::calculate_young_desired_length and
 *     calculate_desired_eden_length_before_young_only / _before_mixed with
 *     G1YoungLengthPredictor::will_fit: the largest eden length n in
 *     [min eden, max eden] that "fits", found by binary search; when even the
 *     minimum does not fit, the minimum. n fits when
 *         n < free regions,
 *         base time + predicted eden copy time(n) <= pause goal,
 *         safety * bytes to copy(n) <= (free regions - n) * region bytes,
 *     with safety = (100 / G1ConfidencePercent) * (100 + TargetPLABWastePct
 *     (10)) / 100. Before a mixed pause the base time also holds the predicted
 *     time of the minimum old regions (`extraBaseMs` here).
 *   - G1YoungGenSizer: min/max eden = G1NewSizePercent (5) / G1MaxNewSizePercent
 *     (60) of the heap regions, rounded down, at least 1.
 *   - G1Policy::calculate_young_target_length and record_new_heap_size: the
 *     heap reserve is ceil(heap regions * G1ReservePercent / 100); eden takes
 *     free regions outside the reserve first and eats into the reserve by at
 *     most min(min eden, ceil(reserve / 2)); at least one eden region.
 *   - G1Policy::calc_min_old_cset_length / calc_max_old_cset_length and
 *     G1CollectionSet::finalize_old_part (the JDK 11-17 form):
 *         min old = ceil(candidates at cycle start / G1MixedGCCountTarget)
 *         max old = ceil(heap regions * G1OldCSetRegionThresholdPercent / 100)
 *     Candidates are taken in order until max; a candidate whose predicted
 *     time exceeds the remaining budget ends the choice once min is reached
 *     (before that it is taken anyway, an "expensive" region); the budget is
 *     reduced by each taken region's time, not below zero.
 *   - G1Policy::next_gc_should_be_mixed (JDK 11-17) with G1HeapWastePercent:
 *     mixed pauses continue while reclaimable bytes of the remaining
 *     candidates are more than G1HeapWastePercent of the heap.
 *   - G1Policy::predict_gc_efficiency: reclaimable bytes / predicted ms.
 *
 * Not modelled: the MMU goal (GCPauseIntervalMillis), optional collection-set
 * regions, retained (evacuation-failed) regions, adaptive IHOP.
 */
import type { G1Analytics } from './g1-analytics.js';

export interface PolicyConfig {
  /** MaxGCPauseMillis, default 200 */
  pauseGoalMs: number;
  heapRegions: number;
  regionBytes: number;
  /** G1NewSizePercent, default 5 */
  minEdenPercent: number;
  /** G1MaxNewSizePercent, default 60 */
  maxEdenPercent: number;
  /** G1MixedGCCountTarget, default 8 */
  mixedCountTarget: number;
  /** G1OldCSetRegionThresholdPercent, default 10 */
  oldCsetRegionThresholdPercent: number;
  /** G1HeapWastePercent, default 5 */
  heapWastePercent: number;
  /** G1ReservePercent, default 10 */
  reservePercent: number;
}

/** HotSpot's defaults for everything but the heap geometry. */
export const DEFAULT_POLICY_CONFIG: Readonly<Omit<PolicyConfig, 'heapRegions' | 'regionBytes'>> = Object.freeze({
  pauseGoalMs: 200,
  minEdenPercent: 5,
  maxEdenPercent: 60,
  mixedCountTarget: 8,
  oldCsetRegionThresholdPercent: 10,
  heapWastePercent: 5,
  reservePercent: 10,
});

/** TargetPLABWastePct: the extra room copying needs for waste at the end of allocation buffers. */
export const COPY_WASTE_PERCENT = 10;

export interface YoungTargetInput {
  /** free regions now (at the end of the pause, eden empty) */
  freeRegions: number;
  survivorBytes: number;
  pendingCards: number;
  youngRemsetEntriesPerRegion: number;
  /** Cards predicted to be dirtied (and scanned by the pause) per eden region allocated. */
  cardsPerEdenRegion?: number;
  /** Predicted time already committed besides the young part, e.g. the minimum old regions of a coming mixed pause. */
  extraBaseMs?: number;
}

export class G1Policy {
  readonly config: Readonly<PolicyConfig>;

  constructor(config: PolicyConfig, readonly analytics: G1Analytics) {
    const c = config;
    const check = (ok: boolean, what: string) => {
      if (!ok) throw new RangeError(`G1Policy: ${what}`);
    };
    check(c.pauseGoalMs > 0 && Number.isFinite(c.pauseGoalMs), `pause goal must be a positive number of ms, got ${c.pauseGoalMs}`);
    check(Number.isInteger(c.heapRegions) && c.heapRegions >= 1, `heap regions must be a positive integer, got ${c.heapRegions}`);
    check(c.regionBytes > 0, `region bytes must be positive, got ${c.regionBytes}`);
    check(c.minEdenPercent >= 0 && c.minEdenPercent <= c.maxEdenPercent && c.maxEdenPercent <= 100,
      `need 0 <= min eden % (${c.minEdenPercent}) <= max eden % (${c.maxEdenPercent}) <= 100`);
    check(c.mixedCountTarget >= 0, `mixed count target must not be negative, got ${c.mixedCountTarget}`);
    check(c.oldCsetRegionThresholdPercent >= 0, `old cset region threshold must not be negative`);
    check(c.heapWastePercent >= 0, `heap waste percent must not be negative`);
    check(c.reservePercent >= 0 && c.reservePercent < 100, `reserve percent must be in [0, 100)`);
    this.config = Object.freeze({ ...config });
  }

  /**
   * Smallest eden length (regions): the young generation (eden + survivors)
   * is at least G1NewSizePercent of the heap, so eden is that minus the
   * survivor regions, at least 1.
   */
  minEdenRegions(survivorRegions = 0): number {
    return Math.max(1, Math.floor((this.config.heapRegions * this.config.minEdenPercent) / 100) - survivorRegions);
  }

  /** Largest eden length (regions): young at most G1MaxNewSizePercent of the heap, eden at least the minimum. */
  maxEdenRegions(survivorRegions = 0): number {
    return Math.max(this.minEdenRegions(survivorRegions), Math.floor((this.config.heapRegions * this.config.maxEdenPercent) / 100) - survivorRegions);
  }

  /** Regions kept free for evacuation: ceil(heap regions * G1ReservePercent / 100). */
  reserveRegions(): number {
    return Math.ceil((this.config.heapRegions * this.config.reservePercent) / 100);
  }

  /** Predicted pause of a young collection with `edenRegions` full eden regions. */
  predictYoungPauseForEden(edenRegions: number, input: YoungTargetInput): number {
    const survivorRegions = Math.ceil(input.survivorBytes / this.config.regionBytes);
    return (
      (input.extraBaseMs ?? 0) +
      this.analytics.predictYoungPauseMs({
        edenBytes: edenRegions * this.config.regionBytes,
        survivorBytes: input.survivorBytes,
        pendingCards: input.pendingCards + (input.cardsPerEdenRegion ?? 0) * edenRegions,
        youngRemsetEntries: input.youngRemsetEntriesPerRegion * (edenRegions + survivorRegions),
      })
    );
  }

  /** G1YoungLengthPredictor::will_fit: eden of n regions meets the goal and its survivors fit in what stays free. */
  edenFits(n: number, input: YoungTargetInput): boolean {
    if (n >= input.freeRegions) return false;
    if (this.predictYoungPauseForEden(n, input) > this.config.pauseGoalMs) return false;
    const bytesToCopy = this.analytics.predictYoungBytesCopied(n * this.config.regionBytes, input.survivorBytes);
    const confidence = Math.max(this.analytics.confidencePercent, 1);
    const safety = (100 / confidence) * ((100 + COPY_WASTE_PERCENT) / 100);
    return safety * bytesToCopy <= (input.freeRegions - n) * this.config.regionBytes;
  }

  /** Eden length the pause goal asks for, in [min eden, max eden], before the free-region limit. */
  desiredEdenRegions(input: YoungTargetInput): number {
    const survivorRegions = Math.ceil(input.survivorBytes / this.config.regionBytes);
    let lo = this.minEdenRegions(survivorRegions);
    let hi = this.maxEdenRegions(survivorRegions);
    if (!this.edenFits(lo, input)) return lo; // even the minimum misses the goal: take it nevertheless
    if (this.edenFits(hi, input)) return hi;
    // invariant: lo fits, hi does not
    while (hi - lo > 1) {
      const mid = lo + Math.floor((hi - lo) / 2);
      if (this.edenFits(mid, input)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Eden length (regions) for the next young/mixed pause so the predicted young
   * part fits the goal, clamped to [min, max] eden and to the free regions
   * minus the reserve (eating into the reserve by at most min(min eden,
   * ceil(reserve / 2)), as HotSpot). At least one region while any is free.
   */
  youngTargetRegions(input: YoungTargetInput): number {
    const free = Math.max(0, Math.floor(input.freeRegions));
    if (free === 0) return 0;
    const desired = this.desiredEdenRegions(input);
    const reserve = this.reserveRegions();
    const maxEatIntoReserve = Math.min(this.minEdenRegions(), Math.floor((reserve + 1) / 2));
    let eden: number;
    if (free <= reserve) {
      eden = Math.min(free, desired, maxEatIntoReserve);
    } else if (free < desired + reserve) {
      const outsideReserve = free - reserve;
      eden = outsideReserve + Math.min(desired - outsideReserve, maxEatIntoReserve);
    } else {
      eden = desired;
    }
    return Math.min(free, Math.max(1, eden));
  }

  /** calc_min_old_cset_length: old regions every mixed pause takes so the candidates go in G1MixedGCCountTarget pauses. */
  minOldRegions(candidatesAtCycleStart: number): number {
    return Math.ceil(candidatesAtCycleStart / Math.max(1, this.config.mixedCountTarget));
  }

  /** calc_max_old_cset_length: at most G1OldCSetRegionThresholdPercent of the heap per mixed pause. */
  maxOldRegions(): number {
    return Math.ceil((this.config.heapRegions * this.config.oldCsetRegionThresholdPercent) / 100);
  }

  /**
   * Old regions to add to a mixed collection set: at least min (even when over
   * budget), at most max, adding more while each next region's predicted time
   * fits the remaining budget. Candidates come best-first (gcEfficiency).
   * Returns how many of the given candidates to take.
   */
  oldRegionsForMixed(input: {
    remainingGoalMs: number;
    candidates: { liveBytes: number; remsetEntries: number }[];
    candidatesAtCycleStart: number;
  }): number {
    const min = this.minOldRegions(input.candidatesAtCycleStart);
    const max = this.maxOldRegions();
    let remaining = Math.max(0, input.remainingGoalMs);
    let taken = 0;
    for (const candidate of input.candidates) {
      if (taken >= max) break;
      const ms = this.analytics.predictOldRegionMs(candidate);
      if (ms > remaining && taken >= min) break;
      taken++;
      remaining = Math.max(0, remaining - ms);
    }
    return taken;
  }

  /** Whether mixed pauses should continue: reclaimable bytes above G1HeapWastePercent of the heap. */
  continueMixed(reclaimableBytes: number, heapBytes: number): boolean {
    if (!(heapBytes > 0)) return false;
    return (reclaimableBytes * 100) / heapBytes > this.config.heapWastePercent;
  }

  /**
   * GC efficiency of an old region for candidate ordering: reclaimable bytes
   * (region bytes - live bytes) per predicted ms of collecting it. Higher is
   * better; sort candidates by descending efficiency.
   */
  gcEfficiency(region: { liveBytes: number; remsetEntries: number; regionBytes: number }): number {
    const reclaimable = Math.max(0, region.regionBytes - region.liveBytes);
    const ms = this.analytics.predictOldRegionMs({ liveBytes: region.liveBytes, remsetEntries: region.remsetEntries });
    return reclaimable / Math.max(ms, 1e-9);
  }
}
