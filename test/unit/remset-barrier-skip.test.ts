/**
 * The remembered-set completeness check, before every pause, must catch a
 * barrier that skips stores: `gen` run with no post-write barrier (its stores of
 * old-to-young references are never recorded) is rejected by the property kit,
 * with the verifier naming a reference that no remembered card or dirty card
 * covers; the same programs pass with the barrier on.
 */
import { describe, expect, it } from 'vitest';
import { gen } from '../../collectors/region/presets.js';
import type { CollectorPlugin } from '../../vm-core/collector.js';
import { checkCollector } from '../kit/index.js';

const OPTIONS = {
  regionBytes: 4096,
  heapBytes: 48 * 1024,
  liveFraction: 0.6,
  runs: 300,
  seed: 5,
  collectorOptions: { tenuringThreshold: 0 },
};

describe('remembered-set completeness', () => {
  it('passes gen with its card-marking barrier', () => {
    const s = checkCollector(gen, OPTIONS);
    expect(s.pauses).toBeGreaterThan(0);
  });

  it('catches gen whose barrier skips every store (no post-write barrier)', () => {
    const skipping: CollectorPlugin = {
      ...gen,
      name: 'gen-without-post-write-barrier',
      constraints: { ...gen.constraints, barriers: { ...gen.constraints.barriers, postWrite: 'none' } },
    };
    let message = '';
    try {
      checkCollector(skipping, OPTIONS);
    } catch (e) {
      message = `${(e as Error).message}\n${String((e as Error).cause ?? '')}`;
    }
    expect(message).toMatch(/remset completeness: .* is neither in region \d+'s remembered set .* nor dirty/);
    expect(message).toMatch(/Counterexample/);
  });
});
