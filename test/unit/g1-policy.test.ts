/**
 * The g1 preset's pause-time analytics and policy (collectors/region/
 * g1-analytics.ts, g1-policy.ts), tested in isolation: decaying average and
 * deviation as HotSpot's TruncatedSeq, predictions with sigma, eden sizing
 * against the pause goal, old regions per mixed pause, efficiency ordering and
 * the heap-waste threshold.
 */
import { describe, expect, it } from 'vitest';
import { DecayingSeq, G1Analytics, predict, type PauseSample } from '../../collectors/region/g1-analytics.js';
import { DEFAULT_POLICY_CONFIG, G1Policy, type PolicyConfig } from '../../collectors/region/g1-policy.js';

const MiB = 1 << 20;

function sample(over: Partial<PauseSample>): PauseSample {
  return {
    kind: 'young', pauseMs: 0, fixedMs: 0,
    cardsScanned: 0, cardScanMs: 0, remsetEntries: 0, remsetMergeMs: 0,
    bytesCopied: 0, copyMs: 0, edenRegions: 0, oldRegions: 0,
    ...over,
  };
}

/** Analytics that have seen `n` identical pauses (so dsd = 0): fixed ms, ms per MiB copied, survival rate. */
function trained(fixedMs: number, copyMsPerMiB: number, survival: number, n = 5): G1Analytics {
  const a = new G1Analytics(50);
  for (let i = 0; i < n; i++) {
    a.recordPause(sample({
      pauseMs: fixedMs + copyMsPerMiB, fixedMs,
      cardsScanned: 1000, cardScanMs: 0, remsetEntries: 1000, remsetMergeMs: 0,
      bytesCopied: MiB, copyMs: copyMsPerMiB, edenRegions: 4,
    }));
    a.recordEdenSurvival(4 * MiB, survival * 4 * MiB);
  }
  return a;
}

function config(over: Partial<PolicyConfig> = {}): PolicyConfig {
  return { ...DEFAULT_POLICY_CONFIG, heapRegions: 100, regionBytes: MiB, ...over };
}

const youngInput = { freeRegions: 90, survivorBytes: 0, pendingCards: 0, youngRemsetEntriesPerRegion: 0 };

describe('DecayingSeq', () => {
  it('follows HotSpot\'s decaying average and variance (alpha 0.3 on the newest sample)', () => {
    const s = new DecayingSeq();
    expect(s.count).toBe(0);
    expect(s.davg()).toBe(0);
    expect(s.dsd()).toBe(0);
    s.add(10);
    expect(s.davg()).toBe(10);
    expect(s.dsd()).toBe(0);
    s.add(20); // diff 10, incr 3 -> davg 13, dvar 0.7 * (0 + 30) = 21
    expect(s.davg()).toBeCloseTo(13, 12);
    expect(s.dvariance()).toBeCloseTo(21, 12);
    expect(s.dsd()).toBeCloseTo(Math.sqrt(21), 12);
    s.add(10); // diff -3, incr -0.9 -> davg 12.1, dvar 0.7 * (21 + 2.7) = 16.59
    expect(s.davg()).toBeCloseTo(12.1, 12);
    expect(s.dvariance()).toBeCloseTo(16.59, 12);
    expect(s.last()).toBe(10);
    expect(s.count).toBe(3);
  });

  it('equals the older form davg = 0.7 * davg + 0.3 * x', () => {
    const s = new DecayingSeq();
    const xs = [3, 8, 1, 4, 15, 9, 2, 6, 5, 3, 7, 11];
    let expected = xs[0]!;
    s.add(xs[0]!);
    for (const x of xs.slice(1)) {
      s.add(x);
      expected = 0.7 * expected + 0.3 * x;
    }
    expect(s.davg()).toBeCloseTo(expected, 12);
  });

  it('has no deviation on a constant sequence, and count and avg cover only the last `length` samples', () => {
    const s = new DecayingSeq(4);
    for (let i = 0; i < 10; i++) s.add(7);
    expect(s.davg()).toBeCloseTo(7, 12);
    expect(s.dsd()).toBe(0);
    expect(s.count).toBe(4);
    const t = new DecayingSeq(3);
    for (const x of [100, 1, 2, 3]) t.add(x);
    expect(t.avg()).toBe(2);
    expect(t.last()).toBe(3);
  });

  it('decays towards a new level', () => {
    const s = new DecayingSeq();
    for (let i = 0; i < 10; i++) s.add(1);
    s.add(100);
    const afterJump = s.dsd();
    expect(afterJump).toBeGreaterThan(40);
    for (let i = 0; i < 40; i++) s.add(100);
    expect(s.davg()).toBeGreaterThan(99.99);
    expect(s.dsd()).toBeLessThan(0.1);
  });
});

describe('predict', () => {
  it('is davg + sigma * dsd, the fallback with no samples, never below 0', () => {
    const s = new DecayingSeq();
    expect(predict(s, 0.5, 42)).toBe(42);
    s.add(10);
    s.add(20);
    expect(predict(s, 0.5, 42)).toBeCloseTo(13 + 0.5 * Math.sqrt(21), 12);
    expect(predict(s, 0, 42)).toBeCloseTo(13, 12);
    expect(predict(s, 1, 42)).toBeCloseTo(13 + Math.sqrt(21), 12);
    const neg = new DecayingSeq();
    neg.add(-5);
    expect(predict(neg, 0.5, 1)).toBe(0);
  });
});

describe('G1Analytics', () => {
  it('predicts the defaults before any pause and learns unit costs from pauses', () => {
    const a = new G1Analytics();
    expect(a.sigma).toBe(0.5);
    expect(a.predictFixedMs()).toBe(a.defaults.fixedMs);
    expect(a.predictCopyMsPerByte()).toBe(a.defaults.copyMsPerByte);
    a.recordPause(sample({ fixedMs: 2, cardsScanned: 1000, cardScanMs: 1, remsetEntries: 500, remsetMergeMs: 0.5, bytesCopied: 1e6, copyMs: 4 }));
    expect(a.predictFixedMs()).toBe(2);
    expect(a.predictCardScanMsPerCard()).toBeCloseTo(0.001, 12);
    expect(a.predictRemsetMsPerEntry()).toBeCloseTo(0.001, 12);
    expect(a.predictCopyMsPerByte()).toBeCloseTo(4e-6, 15);
  });

  it('takes no cost sample from too little work', () => {
    const a = new G1Analytics();
    a.recordPause(sample({ fixedMs: 1, cardsScanned: 1, cardScanMs: 3, remsetEntries: 2, remsetMergeMs: 3, bytesCopied: 16, copyMs: 3 }));
    expect(a.cardScanMsPerCardSeq.count).toBe(0);
    expect(a.remsetMsPerEntrySeq.count).toBe(0);
    expect(a.copyMsPerByteSeq.count).toBe(0);
    expect(a.fixedMsSeq.count).toBe(1);
  });

  it('adds sigma * dsd to noisy costs', () => {
    const a = new G1Analytics(100);
    a.recordPause(sample({ fixedMs: 10 }));
    a.recordPause(sample({ fixedMs: 20 }));
    expect(a.predictFixedMs()).toBeCloseTo(13 + Math.sqrt(21), 12);
  });

  it('predicts survival in [0, 1] and young and old pause times from the parts', () => {
    const a = trained(1, 2, 0.25);
    expect(a.predictSurvivalRate()).toBeCloseTo(0.25, 12);
    a.recordEdenSurvival(0, 5); // ignored
    expect(a.survivalRateSeq.count).toBe(5);
    const b = new G1Analytics();
    b.recordEdenSurvival(100, 500);
    expect(b.predictSurvivalRate()).toBe(1);

    const c = new G1Analytics();
    c.recordPause(sample({ fixedMs: 1, cardsScanned: 1000, cardScanMs: 2, remsetEntries: 1000, remsetMergeMs: 3, bytesCopied: MiB, copyMs: 4 }));
    c.recordEdenSurvival(MiB, MiB / 2);
    // 1 + (100 + 50) cards * 0.002 + 50 entries * 0.003 + (8 MiB * 0.5 + 1 MiB) * 4 ms/MiB
    expect(c.predictYoungPauseMs({ edenBytes: 8 * MiB, survivorBytes: MiB, pendingCards: 100, youngRemsetEntries: 50 }))
      .toBeCloseTo(1 + 150 * 0.002 + 50 * 0.003 + 5 * 4, 9);
    // 200 entries * (0.003 + 0.002) + 0.5 MiB * 4 ms/MiB
    expect(c.predictOldRegionMs({ liveBytes: MiB / 2, remsetEntries: 200 })).toBeCloseTo(200 * 0.005 + 2, 9);
  });
});

describe('G1Policy.youngTargetRegions', () => {
  it('bounds eden by G1NewSizePercent and G1MaxNewSizePercent, and reserves G1ReservePercent', () => {
    const p = new G1Policy(config(), new G1Analytics());
    expect(p.minEdenRegions()).toBe(5);
    expect(p.maxEdenRegions()).toBe(60);
    expect(p.reserveRegions()).toBe(10);
    const tiny = new G1Policy(config({ heapRegions: 8 }), new G1Analytics());
    expect(tiny.minEdenRegions()).toBe(1);
    expect(tiny.maxEdenRegions()).toBe(4);
  });

  it('grows eden to the maximum when pauses are cheap', () => {
    const p = new G1Policy(config({ pauseGoalMs: 200 }), trained(1, 0.1, 0.1));
    expect(p.youngTargetRegions(youngInput)).toBe(60);
  });

  it('shrinks eden to the minimum when copying is expensive against a 10 ms goal', () => {
    const p = new G1Policy(config({ pauseGoalMs: 10 }), trained(1, 10, 0.5));
    expect(p.youngTargetRegions(youngInput)).toBe(5);
  });

  it('finds the largest eden that fits the goal in between (binary search as HotSpot)', () => {
    // pause(n) = 1 ms + n MiB * 0.5 survival * 10 ms/MiB = 1 + 5n  -> n <= 39.8
    const a = trained(1, 10, 0.5);
    const p = new G1Policy(config({ pauseGoalMs: 200 }), a);
    const n = p.youngTargetRegions(youngInput);
    expect(n).toBe(39);
    expect(p.predictYoungPauseForEden(n, youngInput)).toBeLessThanOrEqual(200);
    expect(p.predictYoungPauseForEden(n + 1, youngInput)).toBeGreaterThan(200);
  });

  it('grows with the goal and shrinks with the base time (survivors, cards, remsets, old regions)', () => {
    const a = trained(1, 10, 0.5);
    let previous = 0;
    for (const goal of [10, 30, 60, 100, 150, 200, 300]) {
      const n = new G1Policy(config({ pauseGoalMs: goal }), a).youngTargetRegions(youngInput);
      expect(n).toBeGreaterThanOrEqual(previous);
      previous = n;
    }
    const p = new G1Policy(config({ pauseGoalMs: 200 }), a);
    const base = p.youngTargetRegions(youngInput);
    expect(p.youngTargetRegions({ ...youngInput, survivorBytes: 4 * MiB })).toBeLessThan(base);
    expect(p.youngTargetRegions({ ...youngInput, extraBaseMs: 50 })).toBeLessThan(base);
  });

  it('keeps out of the reserve except for a bounded bite, and gives at least one region while any is free', () => {
    const p = new G1Policy(config({ pauseGoalMs: 200 }), trained(1, 0.01, 0));
    // 40 free, reserve 10: 30 outside the reserve + min(min eden 5, ceil(10 / 2)) = 35
    expect(p.youngTargetRegions({ ...youngInput, freeRegions: 40 })).toBe(35);
    // free within the reserve: min(free, desired, 5)
    expect(p.youngTargetRegions({ ...youngInput, freeRegions: 8 })).toBe(5);
    expect(p.youngTargetRegions({ ...youngInput, freeRegions: 3 })).toBe(3);
    expect(p.youngTargetRegions({ ...youngInput, freeRegions: 1 })).toBe(1);
    expect(p.youngTargetRegions({ ...youngInput, freeRegions: 0 })).toBe(0);
  });

  it('leaves room to copy the predicted survivors (with the confidence safety factor)', () => {
    // everything survives: safety 2 * 1.1 = 2.2 -> 2.2 n <= 90 - n -> n <= 28
    const p = new G1Policy(config({ pauseGoalMs: 10_000 }), trained(0, 0.001, 1));
    expect(p.youngTargetRegions(youngInput)).toBe(28);
  });
});

describe('G1Policy.oldRegionsForMixed', () => {
  // every candidate: 100 entries * (0 + 0) + 1 MiB live * 3 ms/MiB = 3 ms
  const a = trained(1, 3, 0.5);
  const p = new G1Policy(config(), a); // 100 regions: max 10; 40 candidates / 8 -> min 5
  const candidates = Array.from({ length: 30 }, () => ({ liveBytes: MiB, remsetEntries: 100 }));

  it('has HotSpot\'s min and max', () => {
    expect(p.minOldRegions(40)).toBe(5);
    expect(p.minOldRegions(41)).toBe(6);
    expect(p.maxOldRegions()).toBe(10);
    expect(a.predictOldRegionMs(candidates[0]!)).toBeCloseTo(3, 9);
  });

  it('adds regions while the budget lasts', () => {
    expect(p.oldRegionsForMixed({ remainingGoalMs: 20, candidates, candidatesAtCycleStart: 40 })).toBe(6);
    expect(p.oldRegionsForMixed({ remainingGoalMs: 24, candidates, candidatesAtCycleStart: 40 })).toBe(8);
  });

  it('takes the minimum even with no budget left', () => {
    expect(p.oldRegionsForMixed({ remainingGoalMs: 0, candidates, candidatesAtCycleStart: 40 })).toBe(5);
    expect(p.oldRegionsForMixed({ remainingGoalMs: -50, candidates, candidatesAtCycleStart: 40 })).toBe(5);
  });

  it('never takes more than the maximum, nor more candidates than there are', () => {
    expect(p.oldRegionsForMixed({ remainingGoalMs: 1000, candidates, candidatesAtCycleStart: 40 })).toBe(10);
    expect(p.oldRegionsForMixed({ remainingGoalMs: 0, candidates: candidates.slice(0, 3), candidatesAtCycleStart: 40 })).toBe(3);
    expect(p.oldRegionsForMixed({ remainingGoalMs: 1000, candidates: [], candidatesAtCycleStart: 40 })).toBe(0);
  });

  it('stops at the first candidate over budget once the minimum is reached', () => {
    const mixed = [...candidates.slice(0, 6), { liveBytes: 8 * MiB, remsetEntries: 0 }, ...candidates.slice(0, 5)];
    // six cheap (18 ms), then a 24 ms region that does not fit 30 - 18 = 12
    expect(p.oldRegionsForMixed({ remainingGoalMs: 30, candidates: mixed, candidatesAtCycleStart: 40 })).toBe(6);
  });
});

describe('G1Policy.gcEfficiency and continueMixed', () => {
  it('orders regions by reclaimable bytes per predicted ms', () => {
    const a = new G1Analytics();
    a.recordPause(sample({ cardsScanned: 1000, cardScanMs: 1, remsetEntries: 1000, remsetMergeMs: 1, bytesCopied: MiB, copyMs: 1 }));
    const p = new G1Policy(config(), a);
    const regions = [
      { name: 'mostly live', liveBytes: 0.8 * MiB, remsetEntries: 10, regionBytes: MiB },
      { name: 'mostly garbage', liveBytes: 0.1 * MiB, remsetEntries: 10, regionBytes: MiB },
      { name: 'garbage but popular', liveBytes: 0.1 * MiB, remsetEntries: 5000, regionBytes: MiB },
      { name: 'half', liveBytes: 0.5 * MiB, remsetEntries: 10, regionBytes: MiB },
    ];
    const sorted = [...regions].sort((x, y) => p.gcEfficiency(y) - p.gcEfficiency(x)).map((r) => r.name);
    expect(sorted).toEqual(['mostly garbage', 'half', 'mostly live', 'garbage but popular']);
    expect(p.gcEfficiency({ liveBytes: MiB, remsetEntries: 0, regionBytes: MiB })).toBe(0);
    expect(Number.isFinite(p.gcEfficiency({ liveBytes: 0, remsetEntries: 0, regionBytes: MiB }))).toBe(true);
  });

  it('continues mixed pauses only while reclaimable bytes exceed G1HeapWastePercent of the heap', () => {
    const p = new G1Policy(config(), new G1Analytics());
    const heap = 100 * MiB;
    expect(p.continueMixed(5 * MiB, heap)).toBe(false);
    expect(p.continueMixed(5 * MiB + 1, heap)).toBe(true);
    expect(p.continueMixed(0, heap)).toBe(false);
    expect(p.continueMixed(MiB, 0)).toBe(false);
  });
});
