/**
 * The standard configurations every registered collector is property-tested
 * in, derived from the plug-in's constraints and option names only, so a new
 * collector is covered without editing any test:
 *
 *   never collects (epsilon-like)   roomy       heap sized to fit each program
 *   collects                        roomy       256 KiB heap: few, calm pauses; graphs
 *                                               compared after every operation
 *                                   tight       32 KiB heap: a pause every region or so
 *                                   stress      stressGc 3: a pause every third allocation,
 *                                               released regions poisoned, verify extreme
 *   has limitCsetToFreeSpace        evac-fail   24 KiB heap, limitCsetToFreeSpace off,
 *   (region evacuators)                         collect only when full, evacuate every
 *                                               region with any garbage: evacuation runs
 *                                               out of to-space and fails. An out-of-memory
 *                                               error ends a program (with no to-space
 *                                               reserve the collector may not recover);
 *                                               the heap is still compared and verified.
 *   has concurrentMark              concurrent  96 KiB heap, concurrent marking on and
 *   (cre, g1)                                   ihopPercent 1: a cycle starts on the real
 *                                               marker worker at almost every young pause;
 *                                               the worker is paced (markerPaceUs 20: a
 *                                               rest every 64 objects, as a slow core) so
 *                                               the mutator runs and its SATB barrier fires
 *                                               while the worker marks; the verifier checks
 *                                               the SATB invariant at every remark. (The
 *                                               other configurations mark concurrently at
 *                                               full speed: concurrentMark is on by default.)
 *
 * All use 4 KiB regions, so objects of 512 words (2 KiB) or more are humongous.
 * `weight` is the share of a collector's program budget a configuration gets,
 * relative to the others (stress pauses every third allocation, so it is the
 * slow one and gets fewer programs).
 */
import type { CollectorPlugin, OptionValue } from '../../vm-core/collector.js';
import type { CheckCollectorOptions } from './check-collector.js';

export interface KitConfiguration {
  name: string;
  /** Relative share of the program budget. */
  weight: number;
  options: CheckCollectorOptions;
}

/** Only the options this plug-in has (so configurations stay valid for any collector). */
function ownOptions(plugin: CollectorPlugin, wanted: Record<string, OptionValue>): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const [k, v] of Object.entries(wanted)) if (k in plugin.options) out[k] = v;
  return out;
}

export function standardConfigurations(plugin: CollectorPlugin): KitConfiguration[] {
  const regionBytes = 4096;
  if (!plugin.constraints.collects) {
    return [{ name: 'roomy', weight: 1, options: { label: 'roomy', regionBytes, heapBytes: 64 * 1024 } }];
  }
  const configs: KitConfiguration[] = [
    { name: 'roomy', weight: 3, options: { label: 'roomy', regionBytes, heapBytes: 256 * 1024, liveFraction: 0.5, compareAfterEveryOp: true } },
    { name: 'tight', weight: 3, options: { label: 'tight', regionBytes, heapBytes: 32 * 1024, liveFraction: 0.45 } },
    { name: 'stress', weight: 1, options: { label: 'stress', regionBytes, heapBytes: 64 * 1024, stressGc: 3, verify: 'extreme', liveFraction: 0.45 } },
  ];
  if ('limitCsetToFreeSpace' in plugin.options) {
    configs.push({
      name: 'evac-fail',
      weight: 3,
      options: {
        label: 'evac-fail',
        regionBytes,
        heapBytes: 24 * 1024,
        liveFraction: 0.6,
        gcWeight: 1,
        outOfMemory: 'end',
        collectorOptions: ownOptions(plugin, { limitCsetToFreeSpace: false, budgetPercent: 100, reservePercent: 0, liveThresholdPercent: 100 }),
      },
    });
  }
  if ('tenuringThreshold' in plugin.options && 'ihopPercent' in plugin.options) {
    // the remembered-set collectors: age and promote quickly and mark early, so that
    // young, mixed, remark/cleanup, eager humongous reclaim, evacuation failure and
    // full collections all happen on a heap of a few regions
    configs.push({
      name: 'generations',
      weight: 3,
      options: {
        label: 'generations',
        regionBytes,
        heapBytes: 24 * 1024,
        liveFraction: 0.7,
        gcWeight: 1,
        outOfMemory: 'end',
        collectorOptions: ownOptions(plugin, { tenuringThreshold: 0, ihopPercent: 10, budgetPercent: 10, reservePercent: 0, liveThresholdPercent: 95, heapWastePercent: 0, survivorRatio: 100, gcThreads: 2, parallelMinKb: 0 }),
      },
    });
  }
  if ('gcThreads' in plugin.options) {
    // every evacuation pause on two threads (the mutator thread and the evacuation worker):
    // CAS forwarding, per-thread destination regions, work sharing, merged remembered sets
    configs.push({
      name: 'parallel',
      weight: 3,
      options: {
        label: 'parallel',
        regionBytes,
        heapBytes: 128 * 1024,
        liveFraction: 0.6,
        gcWeight: 1,
        collectorOptions: ownOptions(plugin, { gcThreads: 2, parallelMinKb: 0, tenuringThreshold: 1 }),
      },
    });
  }
  if ('concurrentMark' in plugin.options) {
    configs.push({
      name: 'concurrent',
      weight: 3,
      options: {
        label: 'concurrent',
        regionBytes,
        heapBytes: 96 * 1024,
        liveFraction: 0.5,
        maxOps: 150,
        gcWeight: 1,
        collectorOptions: ownOptions(plugin, { concurrentMark: true, markerPaceUs: 20, ihopPercent: 1, tenuringThreshold: 1 }),
      },
    });
  }
  return configs;
}

/** Splits a collector's program budget over its configurations by weight (each gets at least 1). */
export function runsPerConfiguration(configs: KitConfiguration[], totalRuns: number): number[] {
  const total = configs.reduce((s, c) => s + c.weight, 0);
  return configs.map((c) => Math.max(1, Math.ceil((totalRuns * c.weight) / total)));
}
