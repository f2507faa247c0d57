/**
 * Pause-time analytics of the `g1` preset: decaying averages of what a pause
 * cost, and predictions built from them. Pure logic, no heap access.
 *
 * Learnt from HotSpot (never copied):
 *   - utilities/numberSeq.{hpp,cpp}: AbsSeq / TruncatedSeq. The decaying average
 *     and variance use Tony Finch's incremental form with alpha = 0.3, the
 *     weight of the newest sample (DEFAULT_ALPHA_VALUE; older JDKs wrote the
 *     same thing as davg = 0.7 * davg + 0.3 * x):
 *         first sample:  davg = x,  dvar = 0
 *         afterwards:    diff = x - davg;  incr = alpha * diff
 *                        davg = davg + incr
 *                        dvar = (1 - alpha) * (dvar + diff * incr)
 *         dsd = sqrt(dvar), and 0 while fewer than two samples.
 *     A TruncatedSeq also keeps its last `length` (10) samples for avg/last.
 *   - gc/g1/g1Predictions.hpp: G1Predictions. prediction = davg + sigma * dsd,
 *     sigma = G1ConfidencePercent / 100 (default 50 -> 0.5); G1Analytics uses
 *     the zero-bounded form max(0, prediction).
 *   - gc/g1/g1Analytics.cpp and G1Policy::record_young_collection_end: one
 *     sequence per unit cost (cost per card scanned, per card merged, per byte
 *     copied, constant "other" time), a cost sample only taken when the pause
 *     did enough units of that work for the timer to mean something
 *     (G1NumCardsCostSampleThreshold), and starting values before any sample.
 *   - G1Policy::predict_base_time_ms / predict_eden_copy_time_ms /
 *     predict_region_total_time_ms and the surviving-rate groups:
 *         young pause  = fixed
 *                      + (pending cards + young remset entries) * cost/card scan
 *                      + young remset entries * cost/entry merge
 *                      + (eden bytes * survival rate + survivor bytes) * cost/byte
 *         old region   = remset entries * (cost/entry merge + cost/card scan)
 *                      + live bytes * cost/byte
 *
 * Simplifications against HotSpot (see the report in the session):
 *   - one sequence per cost, not HotSpot's phase-dependent pair (young-only vs
 *     mixed); no per-region "other" cost; no small-sample stddev inflation;
 *   - each remset entry is taken to name one card to scan (HotSpot learns a
 *     scan-to-merge ratio);
 *   - survival is one decaying rate for all of eden (HotSpot predicts per
 *     eden-region age), and survivor bytes are predicted to be copied whole.
 */

/** HotSpot's DEFAULT_ALPHA_VALUE: weight of the newest sample in the decaying average. */
export const DEFAULT_ALPHA = 0.3;
/** HotSpot's TruncatedSeq default length (TruncatedSeqLength). */
export const DEFAULT_SEQ_LENGTH = 10;

/** A TruncatedSeq: decaying average and deviation, plus the last `length` samples. */
export class DecayingSeq {
  private readonly samples: Float64Array;
  private next = 0;
  private num = 0;
  private davgValue = 0;
  private dvarianceValue = 0;

  constructor(
    readonly length: number = DEFAULT_SEQ_LENGTH,
    readonly alpha: number = DEFAULT_ALPHA,
  ) {
    if (!Number.isInteger(length) || length < 1) throw new RangeError(`DecayingSeq length must be a positive integer, got ${length}`);
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`DecayingSeq alpha must be in (0, 1], got ${alpha}`);
    this.samples = new Float64Array(length);
  }

  add(v: number): void {
    if (this.num === 0) {
      this.davgValue = v;
      this.dvarianceValue = 0;
    } else {
      const diff = v - this.davgValue;
      const incr = this.alpha * diff;
      this.davgValue += incr;
      this.dvarianceValue = (1 - this.alpha) * (this.dvarianceValue + diff * incr);
    }
    this.samples[this.next] = v;
    this.next = (this.next + 1) % this.length;
    if (this.num < this.length) this.num++;
  }

  /** Samples held: the number added, capped at `length` (as TruncatedSeq's num()). */
  get count(): number {
    return this.num;
  }

  /** Decaying average; 0 with no samples. */
  davg(): number {
    return this.davgValue;
  }

  /** Decaying variance; 0 with fewer than two samples, never negative. */
  dvariance(): number {
    return this.num <= 1 ? 0 : Math.max(0, this.dvarianceValue);
  }

  /** Decaying standard deviation. */
  dsd(): number {
    return Math.sqrt(this.dvariance());
  }

  /** The newest sample; 0 with no samples. */
  last(): number {
    return this.num === 0 ? 0 : this.samples[(this.next + this.length - 1) % this.length]!;
  }

  /** Plain mean of the samples held (the last `length`); 0 with no samples. */
  avg(): number {
    if (this.num === 0) return 0;
    let sum = 0;
    for (let i = 0; i < this.num; i++) sum += this.samples[i]!;
    return sum / this.num;
  }
}

/**
 * prediction = davg + sigma * dsd, never below 0 (G1Predictions, zero-bounded);
 * `fallback` when the sequence has no samples.
 */
export function predict(seq: DecayingSeq, sigma: number, fallback: number): number {
  if (seq.count === 0) return fallback;
  return Math.max(0, seq.davg() + sigma * seq.dsd());
}

export interface PauseSample {
  kind: 'young' | 'mixed';
  /** actual pause (wall) time */
  pauseMs: number;
  /** time not attributable to the per-unit costs below (roots, setup, release...) */
  fixedMs: number;
  /** remembered-set and dirty-card scanning */
  cardsScanned: number;
  cardScanMs: number;
  /** remembered-set entries merged/collected */
  remsetEntries: number;
  remsetMergeMs: number;
  /** evacuation copying (incl. scanning copied objects) */
  bytesCopied: number;
  copyMs: number;
  edenRegions: number;
  oldRegions: number;
}

/**
 * Values predicted before the first sample of each kind. HotSpot starts from
 * costs measured on its machines (5 ms constant other time, 0.015 ms per card
 * scanned and 0.00006 ms per byte copied with one GC thread); these are
 * heaplab's steady-state costs measured on the 2-core machine it is developed
 * on (lru-cache at 512 MiB, two GC threads, wall time: ~0.26 µs per card,
 * ~2 ms per MB copied), rounded up. The pauses of a process's first moments
 * run JIT-cold code and are not sampled (see ANALYTICS_WARMUP_PAUSES in
 * remset-collector.ts), so these carry the first predictions.
 */
export interface G1AnalyticsDefaults {
  fixedMs: number;
  cardScanMsPerCard: number;
  remsetMsPerEntry: number;
  copyMsPerByte: number;
  survivalRate: number;
}

export const G1_ANALYTICS_DEFAULTS: Readonly<G1AnalyticsDefaults> = Object.freeze({
  fixedMs: 2,
  cardScanMsPerCard: 0.0003,
  remsetMsPerEntry: 0.0005,
  copyMsPerByte: 0.000003,
  survivalRate: 0.5,
});

/**
 * A cost sample is only taken when the pause did at least this much of the
 * work (HotSpot's G1NumCardsCostSampleThreshold idea): a few cards or bytes
 * timed with a millisecond clock say more about the clock than the cost.
 */
export const MIN_CARDS_FOR_COST_SAMPLE = 64;
export const MIN_REMSET_ENTRIES_FOR_COST_SAMPLE = 64;
export const MIN_BYTES_FOR_COST_SAMPLE = 4096;

function finiteNonNegative(v: number): boolean {
  return Number.isFinite(v) && v >= 0;
}

export class G1Analytics {
  /** sigma = G1ConfidencePercent / 100. */
  readonly sigma: number;
  readonly defaults: Readonly<G1AnalyticsDefaults>;

  readonly fixedMsSeq = new DecayingSeq();
  readonly cardScanMsPerCardSeq = new DecayingSeq();
  readonly remsetMsPerEntrySeq = new DecayingSeq();
  readonly copyMsPerByteSeq = new DecayingSeq();
  readonly survivalRateSeq = new DecayingSeq();
  /** Cards a pause scanned per eden region it collected (sizes eden: the dirty cards grow with the time eden takes to fill). */
  readonly cardsPerEdenRegionSeq = new DecayingSeq();
  /** Actual pause times recorded, for reports (not used in predictions). */
  readonly pauseMsSeq = new DecayingSeq();

  constructor(
    readonly confidencePercent: number = 50,
    defaults: Partial<G1AnalyticsDefaults> = {},
  ) {
    if (!(confidencePercent >= 0 && Number.isFinite(confidencePercent))) {
      throw new RangeError(`confidence percent must be a non-negative number, got ${confidencePercent}`);
    }
    this.sigma = confidencePercent / 100;
    this.defaults = Object.freeze({ ...G1_ANALYTICS_DEFAULTS, ...defaults });
  }

  /**
   * Learn from one young or mixed pause. Do not record pauses that failed
   * evacuation (HotSpot skips them: the timings are skewed), nor full GCs.
   */
  recordPause(s: PauseSample): void {
    if (finiteNonNegative(s.pauseMs)) this.pauseMsSeq.add(s.pauseMs);
    if (Number.isFinite(s.fixedMs)) this.fixedMsSeq.add(Math.max(0, s.fixedMs));
    if (s.cardsScanned >= MIN_CARDS_FOR_COST_SAMPLE && finiteNonNegative(s.cardScanMs)) {
      this.cardScanMsPerCardSeq.add(s.cardScanMs / s.cardsScanned);
    }
    if (s.remsetEntries >= MIN_REMSET_ENTRIES_FOR_COST_SAMPLE && finiteNonNegative(s.remsetMergeMs)) {
      this.remsetMsPerEntrySeq.add(s.remsetMergeMs / s.remsetEntries);
    }
    if (s.bytesCopied >= MIN_BYTES_FOR_COST_SAMPLE && finiteNonNegative(s.copyMs)) {
      this.copyMsPerByteSeq.add(s.copyMs / s.bytesCopied);
    }
  }

  predictFixedMs(): number {
    return predict(this.fixedMsSeq, this.sigma, this.defaults.fixedMs);
  }

  predictCardScanMsPerCard(): number {
    return predict(this.cardScanMsPerCardSeq, this.sigma, this.defaults.cardScanMsPerCard);
  }

  predictRemsetMsPerEntry(): number {
    return predict(this.remsetMsPerEntrySeq, this.sigma, this.defaults.remsetMsPerEntry);
  }

  predictCopyMsPerByte(): number {
    return predict(this.copyMsPerByteSeq, this.sigma, this.defaults.copyMsPerByte);
  }

  /**
   * Cards scanned by a pause that collected `edenRegions` eden regions. With
   * no refinement threads the cards a pause scans are the ones dirtied while
   * its eden filled, so (as HotSpot's predicted remembered-set length plus
   * pending cards) they are predicted per eden region.
   */
  recordCardsScanned(cards: number, edenRegions: number): void {
    if (edenRegions > 0 && Number.isFinite(cards) && cards >= 0) this.cardsPerEdenRegionSeq.add(cards / edenRegions);
  }

  predictCardsPerEdenRegion(): number {
    return predict(this.cardsPerEdenRegionSeq, this.sigma, 0);
  }

  /** Fraction of eden bytes that survived a young pause; ignored when eden was empty. */
  recordEdenSurvival(edenBytes: number, survivedBytes: number): void {
    if (!(edenBytes > 0) || !Number.isFinite(survivedBytes)) return;
    this.survivalRateSeq.add(Math.min(1, Math.max(0, survivedBytes / edenBytes)));
  }

  /** Predicted survival rate, in [0, 1] (G1Predictions::predict_in_unit_interval). */
  predictSurvivalRate(): number {
    return Math.min(1, predict(this.survivalRateSeq, this.sigma, this.defaults.survivalRate));
  }

  /** Bytes a young pause is predicted to copy: surviving eden plus all survivor bytes. */
  predictYoungBytesCopied(edenBytes: number, survivorBytes: number): number {
    return edenBytes * this.predictSurvivalRate() + survivorBytes;
  }

  predictYoungPauseMs(input: { edenBytes: number; survivorBytes: number; pendingCards: number; youngRemsetEntries: number }): number {
    const cardsToScan = input.pendingCards + input.youngRemsetEntries;
    return (
      this.predictFixedMs() +
      cardsToScan * this.predictCardScanMsPerCard() +
      input.youngRemsetEntries * this.predictRemsetMsPerEntry() +
      this.predictYoungBytesCopied(input.edenBytes, input.survivorBytes) * this.predictCopyMsPerByte()
    );
  }

  predictOldRegionMs(input: { liveBytes: number; remsetEntries: number }): number {
    return (
      input.remsetEntries * (this.predictRemsetMsPerEntry() + this.predictCardScanMsPerCard()) +
      input.liveBytes * this.predictCopyMsPerByte()
    );
  }
}
