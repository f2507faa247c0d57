/**
 * Property tests of every registered collector (listCollectors(), so a new
 * collector is tested without editing this file): random mutator programs run
 * on the collector and on the oracle, compared after every pause and at the
 * end, with the heap verifier on (test/kit). Each collector runs in the
 * standard configurations of test/kit/configurations.ts.
 *
 * Then, per collector, a coverage check proves the runs reached the paths
 * that matter: pauses happened, dead regions were released and humongous
 * objects reclaimed, and (for collectors that can be told to let evacuation
 * fail) evacuation failures really occurred. Coverage reads the region table
 * itself, not only what the collector says it did.
 *
 *   npm test                         PROGRAMS_PER_COLLECTOR programs per collector
 *   HEAPLAB_DEEP=1 (npm run test:deep)   10x as many; HEAPLAB_PROPERTY_FACTOR=<n> sets the factor
 *                                    (100: about an hour on 2 cores)
 *   HEAPLAB_SEED=<n> [HEAPLAB_PATH=<p>] npx vitest run test/properties -t '<test name>'
 *                                    repeat a run (the seed is printed), or replay a shrunk failure
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { listCollectors } from '../../collectors/registry.js';
import { type CheckSummary, checkCollector, defaultSeed, runsPerConfiguration, standardConfigurations } from '../kit/index.js';

const DEEP = process.env.HEAPLAB_DEEP === '1';
const FACTOR = Number(process.env.HEAPLAB_PROPERTY_FACTOR ?? (DEEP ? 10 : 1));
const PROGRAMS_PER_COLLECTOR = Math.max(1, Math.round(6000 * FACTOR));
/** Programs a coverage check runs itself when its configuration's property test was filtered out. */
const COVERAGE_PROGRAMS = 300;
const COVERAGE_SEED = 20240611;
const BASE_SEED = defaultSeed();
const REPLAY_PATH = process.env.HEAPLAB_PATH || undefined;
const TIMEOUT_MS = DEEP || FACTOR > 1 ? 6 * 60 * 60 * 1000 : 120_000;

beforeAll(() => {
  console.info(`heaplab property tests: seed ${BASE_SEED} (HEAPLAB_SEED=${BASE_SEED} repeats this run), ${PROGRAMS_PER_COLLECTOR} programs per collector`);
});

for (const plugin of listCollectors()) {
  describe(`collector ${plugin.name}`, () => {
    const configs = standardConfigurations(plugin);
    const runs = runsPerConfiguration(configs, PROGRAMS_PER_COLLECTOR);
    const summaries = new Map<string, CheckSummary>();

    configs.forEach((config, i) => {
      it(`${config.name}: ${runs[i]} random programs match the oracle and pass heap verification`, { timeout: TIMEOUT_MS }, () => {
        try {
          const summary = checkCollector(plugin, { ...config.options, runs: runs[i], seed: BASE_SEED, path: REPLAY_PATH });
          summaries.set(config.name, summary);
          expect(summary.runs).toBe(runs[i]);
        } catch (e) {
          const err = e as Error;
          err.message = `${plugin.name} / ${config.name} failed; replay the shrunk program with HEAPLAB_SEED=${BASE_SEED} HEAPLAB_PATH=<path below> `
            + `npx vitest run test/properties/collectors.test.ts -t '${plugin.name} ${config.name}:'\n${err.message}`;
          throw err;
        }
      });
    });

    /** The summary of a configuration's property run, or a small fixed-seed run of its own. */
    const summaryOf = (name: string): CheckSummary => {
      const done = summaries.get(name);
      if (done) return done;
      const config = configs.find((c) => c.name === name)!;
      const own = checkCollector(plugin, { ...config.options, runs: COVERAGE_PROGRAMS, seed: COVERAGE_SEED });
      summaries.set(name, own);
      return own;
    };

    if (plugin.constraints.collects) {
      it('coverage: pauses ran, dead regions were released and humongous objects reclaimed', { timeout: TIMEOUT_MS }, () => {
        const tight = summaryOf('tight');
        expect(tight.pauses).toBeGreaterThan(0);
        expect(tight.regionsReleased).toBeGreaterThan(0);
        expect(tight.humongousAllocations).toBeGreaterThan(0);
        expect(tight.humongousReleased).toBeGreaterThan(0);
        const stress = summaryOf('stress');
        expect(stress.pauses).toBeGreaterThan(stress.runs);
        expect(stress.regionsReleased).toBeGreaterThan(0);
      });
    } else {
      it('coverage: programs allocated ordinary and humongous objects', { timeout: TIMEOUT_MS }, () => {
        const roomy = summaryOf(configs[0].name);
        expect(roomy.allocations).toBeGreaterThan(roomy.runs);
        expect(roomy.humongousAllocations).toBeGreaterThan(0);
        expect(roomy.pauses).toBe(0);
      });
    }

    if (configs.some((c) => c.name === 'generations')) {
      it('coverage: young, mixed, remark, cleanup, full and evacuation-failure pauses and eager humongous reclaim all happened', { timeout: TIMEOUT_MS }, () => {
        const s = summaryOf('generations');
        for (const kind of ['young', 'mixed', 'remark', 'cleanup', 'full']) {
          expect(s.pauseKinds[kind] ?? 0, `pauses of kind ${kind}`).toBeGreaterThan(0);
        }
        expect(s.reclassified['evacuation-failure'] ?? 0, 'evacuation failures').toBeGreaterThan(0);
        expect(s.counters.humongousReclaimed ?? 0, 'humongous objects reclaimed').toBeGreaterThan(0);
        expect(s.counters.bytesPromoted ?? 0, 'bytes promoted').toBeGreaterThan(0);
        expect(s.counters.cardsScanned ?? 0, 'cards scanned').toBeGreaterThan(0);
      });
    }

    if (configs.some((c) => c.name === 'concurrent')) {
      it('coverage: concurrent cycles ran on the marker worker while the mutator ran, and its SATB entries reached the worker', { timeout: TIMEOUT_MS }, () => {
        const s = summaryOf('concurrent');
        const c = s.counters;
        console.info(`[${plugin.name}] concurrent: ${s.runs} programs, ${c.concurrentStart ?? 0} cycles started, ${c.concurrentCyclesCompleted ?? 0} completed `
          + `(${c.workerObjectsMarked ?? 0} objects marked by the worker), ${c.concurrentMarkFallbacks ?? 0} stop-the-world fallbacks; SATB: ${c.satbEntries ?? 0} entries, `
          + `${c.satbEntriesWhileMarking ?? 0} handed over while the worker was marking, ${c.workerSatbEntries ?? 0} taken by the worker, `
          + `${c.satbObjectsMarked ?? 0} objects marked first from one; pauses ${JSON.stringify(s.pauseKinds)}`);
        expect(c.concurrentStart ?? 0, 'cycles started on the worker').toBeGreaterThan(s.runs / 10);
        expect(c.concurrentCyclesCompleted ?? 0, 'cycles completed (remark after the worker went idle)').toBeGreaterThan(s.runs / 10);
        expect(c.workerObjectsMarked ?? 0, 'the worker, not only remark, marked').toBeGreaterThan(0);
        expect(c.satbEntriesWhileMarking ?? 0, 'SATB entries handed over while the worker was marking').toBeGreaterThan(0);
        expect(c.workerSatbEntries ?? 0, 'SATB entries the worker took while the mutator ran').toBeGreaterThan(0);
        for (const kind of ['remark', 'cleanup']) expect(s.pauseKinds[kind] ?? 0, `pauses of kind ${kind}`).toBeGreaterThan(0);
      });
    }

    if (configs.some((c) => c.name === 'evac-fail')) {
      it('coverage: evacuation failure really happened (region table flags and the collector\'s own account agree)', { timeout: TIMEOUT_MS }, () => {
        const s = summaryOf('evac-fail');
        expect(s.regionsFlaggedEvacFailed).toBeGreaterThan(0);
        expect(s.reclassified['evacuation-failure'] ?? 0).toBeGreaterThan(0);
      });
    }
  });
}
