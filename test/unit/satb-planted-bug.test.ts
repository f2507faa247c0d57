/**
 * Planted bug: the SATB pre-write barrier with its enqueue removed (it reads
 * the overwritten reference, then drops it: withoutSatbEnqueue in
 * test/deep/satb-programs.ts) must make the tests fail, for cre and for g1,
 * with concurrent marking on the real marker worker:
 *
 *   1. SATB stress programs (references hidden from old objects in young ones
 *      while a paced worker marks): the verifier's SATB check at remark names
 *      an object reachable at concurrent start, or from the roots, that is not
 *      marked; the same programs pass with the real barrier.
 *   2. The property kit in its `concurrent` configuration (the one
 *      test/properties runs for every collector with concurrentMark) rejects
 *      the collector, with the SATB check as the shrunk failure's cause.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { concurrentMarkerReady } from '../../collectors/region/concurrent-marking.js';
import { cre, g1 } from '../../collectors/region/presets.js';
import { Vm } from '../../vm-core/vm.js';
import { ensureMarkerBuilt } from '../deep/marker-build.js';
import { SatbProgram, withoutSatbEnqueue } from '../deep/satb-programs.js';
import { checkCollector, standardConfigurations } from '../kit/index.js';

const SATB_FAILURE = /SATB: object at \d+ \(region \d+, below TAMS \d+\) reachable (at concurrent start|from the roots) is not marked at remark/;

beforeAll(async () => {
  ensureMarkerBuilt();
  new Vm({ heapBytes: 1 << 20, regionBytes: 4096, collector: cre });
  const deadline = Date.now() + 10_000;
  while (!concurrentMarkerReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  expect(concurrentMarkerReady(), 'the marker worker started (is dist/ built?)').toBe(true);
});

/** The message of what `f` throws, with its causes ('' if it does not throw). */
function failureOf(f: () => void): string {
  try {
    f();
    return '';
  } catch (e) {
    const parts: string[] = [];
    for (let c: unknown = e; c instanceof Error; c = c.cause) parts.push(c.message);
    return parts.join('\n  caused by: ');
  }
}

describe('planted bug: the SATB barrier without its enqueue', () => {
  for (const plugin of [cre, g1]) {
    it(`${plugin.name}: SATB stress programs pass with the barrier and fail the SATB check at remark without its enqueue`, { timeout: 120_000 }, () => {
      const seeds = [1, 2, 3, 4, 5, 6];
      for (const seed of seeds.slice(0, 2)) new SatbProgram(plugin, { seed, paceUs: 10 }).run();
      const buggy = withoutSatbEnqueue(plugin);
      let failure = '';
      for (const seed of seeds) {
        failure = failureOf(() => new SatbProgram(buggy, { seed, paceUs: 10 }).run());
        if (failure !== '') break;
      }
      expect(failure).toMatch(SATB_FAILURE);
    });

    it(`${plugin.name}: the property kit's concurrent configuration rejects it, the SATB check as the cause`, { timeout: 120_000 }, () => {
      const config = standardConfigurations(plugin).find((c) => c.name === 'concurrent');
      expect(config, `${plugin.name} has a concurrent configuration`).toBeDefined();
      const failure = failureOf(() => checkCollector(withoutSatbEnqueue(plugin), { ...config!.options, runs: 4000, seed: 20240901 }));
      expect(failure).toMatch(/Counterexample/);
      expect(failure).toMatch(SATB_FAILURE);
    });
  }
});
