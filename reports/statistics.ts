/**
 * Statistics across repeats: the median and a 95% confidence interval of the
 * median, the two numbers `heaplab compare` reports for every measure of a
 * cell (pause percentiles, pause count, total pause, GC share, wall time).
 *
 * The interval is the distribution-free order-statistic interval for the
 * median (e.g. Hollander & Wolfe, "Nonparametric Statistical Methods", or
 * Le Boudec, "Performance Evaluation of Computer and Communication Systems",
 * sec. 2.2.1): with the n repeats sorted, x(1) <= ... <= x(n), the interval
 * [x(k), x(n-k+1)] contains the true median with probability
 *
 *     1 - 2 * P(B <= k - 1),    B ~ Binomial(n, 1/2)
 *
 * whatever the distribution of the measure (only independence of repeats is
 * assumed). We take the largest k whose coverage is still >= 95%, i.e. the
 * narrowest such interval.
 *
 * Small n: for n <= 5 no order-statistic interval reaches 95% (the widest,
 * [min, max], covers 1 - 2^(1-n): 50% at n=2, 75% at 3, 87.5% at 4, 93.75% at
 * 5), so we fall back to the min..max range and say how much it covers
 * (`medianConfidenceInterval(...).coverage`). We chose min..max over a
 * percentile bootstrap on purpose: with 2-5 values a bootstrap of the median
 * can only return values from the sample, it converges to (nearly) the same
 * min..max range, and its stated 95% would be a fiction; min..max is honest
 * about being the whole range and is exactly reproducible. For n = 6..8 the
 * rule itself gives k = 1, i.e. min..max as well, now at >= 95% coverage; the
 * interval narrows from n = 9 on (k = 2).
 *
 * With no values, every number is NaN (a cell whose repeats all failed);
 * renderers should show a dash. With one value, low = median = high.
 */
import type { Estimate } from './compare-types.js';

/** The confidence level of every interval heaplab reports. */
export const CONFIDENCE = 0.95;

/** Fewer repeats than this cannot give a 95% order-statistic interval; min..max is used instead. */
export const MIN_REPEATS_FOR_ORDER_STATISTIC_CI = 6;

function sortedCopy(values: readonly number[]): number[] {
  return values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
}

/** The median (mean of the two middle values for an even count); NaN for no values. NaN inputs are ignored. */
export function median(values: readonly number[]): number {
  return medianOfSorted(sortedCopy(values));
}

function medianOfSorted(sorted: readonly number[]): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * P(B <= k) for B ~ Binomial(n, 1/2), summed in log space so that it works for
 * any n (2^-n underflows past n = 1074; the terms that matter do not).
 */
export function binomialHalfCdf(n: number, k: number): number {
  if (k < 0) return 0;
  if (k >= n) return 1;
  let logPmf = -n * Math.LN2; // log P(B = 0)
  let cdf = Math.exp(logPmf);
  for (let i = 0; i < k; i++) {
    logPmf += Math.log(n - i) - Math.log(i + 1); // P(B = i + 1) from P(B = i)
    cdf += Math.exp(logPmf);
  }
  return Math.min(1, cdf);
}

export interface MedianInterval {
  low: number;
  high: number;
  /** The probability that [low, high] contains the true median (exact, distribution-free). */
  coverage: number;
  /** 'order-statistic' when the binomial rule was met; 'range' for the small-n min..max fallback. */
  method: 'order-statistic' | 'range' | 'single' | 'empty';
}

/**
 * A distribution-free confidence interval of the median (see the file
 * header). `confidence` defaults to 95%.
 */
export function medianConfidenceInterval(values: readonly number[], confidence = CONFIDENCE): MedianInterval {
  const sorted = sortedCopy(values);
  const n = sorted.length;
  if (n === 0) return { low: Number.NaN, high: Number.NaN, coverage: 0, method: 'empty' };
  if (n === 1) return { low: sorted[0]!, high: sorted[0]!, coverage: 0, method: 'single' };
  const rangeCoverage = 1 - 2 * binomialHalfCdf(n, 0);
  if (rangeCoverage < confidence) {
    return { low: sorted[0]!, high: sorted[n - 1]!, coverage: rangeCoverage, method: 'range' };
  }
  // Largest k (1-based) with 1 - 2 P(B <= k-1) >= confidence; k = 1 qualifies (checked above).
  let k = 1;
  while (k + 1 <= (n + 1) / 2 && 1 - 2 * binomialHalfCdf(n, k) >= confidence) k++;
  return { low: sorted[k - 1]!, high: sorted[n - k]!, coverage: 1 - 2 * binomialHalfCdf(n, k - 1), method: 'order-statistic' };
}

/** Median and 95% confidence interval of the median across repeats. */
export function estimate(values: number[]): Estimate {
  const sorted = sortedCopy(values);
  const ci = medianConfidenceInterval(sorted);
  return { median: medianOfSorted(sorted), low: ci.low, high: ci.high };
}
