/**
 * cre and g1 with real concurrent SATB marking on the marker worker, under
 * SATB stress programs (test/deep/satb-programs.ts): an old graph of long
 * chains, a concurrent cycle started on its snapshot, then heavy mutation,
 * mostly references hidden from old objects in fresh young ones, while the
 * worker marks, at full speed and paced as a slow core (markerPaceUs 10, 50).
 * The heap verifier checks the SATB invariant at every remark and the heap
 * after every pause; at the end the graph must equal the shadow graph.
 *
 *   1. per collector, programs one after another: none may fail, and the
 *      counters must show the race was real: SATB entries handed over while
 *      the worker was marking, entries taken by the worker itself, objects
 *      the marker reached first through an SATB entry, cycles completed.
 *   2. cre and g1 programs interleaved step by step on the one process-wide
 *      worker: each young pause that starts a cycle takes the worker from the
 *      other heap, whose cycle is discarded (preempted) at its next look, and
 *      the worker is re-attached back and forth.
 *
 * HEAPLAB_DEEP=1 runs about 40x as many programs (npm run test:deep).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { concurrentMarkerReady } from '../../collectors/region/concurrent-marking.js';
import { cre, g1 } from '../../collectors/region/presets.js';
import { Vm } from '../../vm-core/vm.js';
import { ensureMarkerBuilt } from '../deep/marker-build.js';
import { SatbProgram, type SatbProgramResult, total } from '../deep/satb-programs.js';
import { defaultSeed } from '../kit/index.js';

const DEEP = process.env.HEAPLAB_DEEP === '1';
const PROGRAMS = DEEP ? 1000 : 24;
const INTERLEAVED = DEEP ? 300 : 12;
const PACES = [0, 10, 50];
const SEED = defaultSeed();
const TIMEOUT_MS = DEEP ? 4 * 60 * 60 * 1000 : 120_000;

beforeAll(async () => {
  ensureMarkerBuilt();
  // spawn the process's marker worker and wait until it is ready, so every cycle really runs on it
  new Vm({ heapBytes: 1 << 20, regionBytes: 4096, collector: cre });
  const deadline = Date.now() + 10_000;
  while (!concurrentMarkerReady() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  expect(concurrentMarkerReady(), 'the marker worker started (is dist/ built?)').toBe(true);
  console.info(`SATB programs: seed ${SEED} (HEAPLAB_SEED=${SEED} repeats this run)`);
});

function summary(results: readonly SatbProgramResult[]): string {
  const sum = (f: (r: SatbProgramResult) => number) => results.reduce((s, r) => s + f(r), 0);
  return `${results.length} programs, ${sum((r) => r.ops)} ops (${sum((r) => r.hides)} hides), `
    + `${results.filter((r) => r.cyclesCompleted > 0).length} completed a cycle on their snapshot; `
    + `${total(results, 'concurrentStart')} cycles started, ${total(results, 'concurrentCyclesCompleted')} completed, ${total(results, 'concurrentCyclesPreempted')} preempted, `
    + `${total(results, 'concurrentMarkFallbacks')} stop-the-world fallbacks; SATB ${total(results, 'satbEntries')} entries, `
    + `${total(results, 'satbEntriesWhileMarking')} handed over while the worker marked, ${total(results, 'workerSatbEntries')} taken by the worker, `
    + `${total(results, 'satbObjectsMarked')} objects marked first from an entry`;
}

describe('SATB stress programs on cre and g1 (real marker worker)', () => {
  for (const plugin of [cre, g1]) {
    it(`${plugin.name}: ${PROGRAMS} programs hiding references while the worker marks lose nothing`, { timeout: TIMEOUT_MS }, () => {
      const results: SatbProgramResult[] = [];
      for (let i = 0; i < PROGRAMS; i++) {
        const seed = SEED + i;
        try {
          results.push(new SatbProgram(plugin, { seed, paceUs: PACES[i % PACES.length] }).run());
        } catch (e) {
          throw new Error(`${plugin.name}: SATB program seed ${seed} (pace ${PACES[i % PACES.length]} µs) failed; repeat with HEAPLAB_SEED=${SEED}: ${(e as Error).message}`, { cause: e });
        }
      }
      console.info(`[${plugin.name}] ${summary(results)}`);
      expect(total(results, 'concurrentMarkFallbacks')).toBe(0);
      expect(results.filter((r) => r.cyclesCompleted > 0).length, 'programs whose snapshot cycle completed').toBeGreaterThan(PROGRAMS / 2);
      expect(total(results, 'satbEntriesWhileMarking'), 'SATB entries handed over while the worker marked').toBeGreaterThan(0);
      expect(total(results, 'workerSatbEntries'), 'SATB entries the worker took while the mutator ran').toBeGreaterThan(0);
      expect(total(results, 'satbObjectsMarked'), 'objects the marker reached first through an SATB entry').toBeGreaterThan(0);
    });
  }

  it(`${INTERLEAVED} cre and g1 programs interleaved on the one worker: cycles preempted and discarded, nothing lost`, { timeout: TIMEOUT_MS }, () => {
    const results: SatbProgramResult[] = [];
    const running: SatbProgram[] = [];
    let next = 0;
    const start = () => {
      const i = next++;
      running.push(new SatbProgram(i % 2 === 0 ? cre : g1, { seed: SEED + 100_000 + i, paceUs: i % 3 === 0 ? 10 : 0, maxOps: 3000 }));
    };
    for (let k = 0; k < 3 && next < INTERLEAVED; k++) start();
    while (running.length > 0) {
      for (let k = 0; k < running.length; k++) {
        const p = running[k];
        let over: boolean;
        try {
          over = p.step();
        } catch (e) {
          throw new Error(`interleaved ${p.plugin.name} program seed ${p.options.seed} failed; repeat with HEAPLAB_SEED=${SEED}: ${(e as Error).message}`, { cause: e });
        }
        if (!over) continue;
        results.push(p.result!);
        running.splice(k--, 1);
        if (next < INTERLEAVED) start();
      }
    }
    console.info(`[interleaved] ${summary(results)}`);
    expect(total(results, 'concurrentCyclesPreempted'), 'cycles taken over by another heap and discarded').toBeGreaterThan(0);
    expect(total(results, 'concurrentCyclesCompleted')).toBeGreaterThan(0);
  });
});
