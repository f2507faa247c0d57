/**
 * The region collector family as Zhao & Blackburn deconstruct G1 ("Deconstructing
 * the Garbage-First Collector", VEE 2020), one element switched on at a time.
 * Each preset fixes its switches for the whole process (so V8 sees one barrier
 * class); users pick one with --collector.
 *
 *   preset  remsets  generations  conc. mark  pause goal  barrier          collector
 *   evac    -        -            -           -           none             region-collector.ts (SIM: full-heap trace each pause)
 *   rem     yes      -            -           -           card post        remset-collector.ts
 *   gen     yes      yes          -           -           card post        remset-collector.ts
 *   cre     yes      -            yes         -           SATB + card      remset-collector.ts + concurrent-marking.ts
 *   g1      yes      yes          yes         yes (200)   SATB + card      remset-collector.ts + g1-policy.ts + concurrent-marking.ts
 *
 * cre and g1 take `concurrentMark` (default on for both; --concurrent-mark off or
 * --gc-opt concurrentMark=off marks stop-the-world as rem and gen do, with the
 * same barrier class, whose SATB half then costs one check per store). One
 * marker worker per process serves them (vm-core/concurrent/); on a machine
 * with one free core it competes with the mutator.
 */
import type { CollectorConstraints, CollectorPlugin } from '../../vm-core/collector.js';
import { evac } from './region-collector.js';
import { REMSET_COLLECTOR_OPTIONS, RemsetCollector, remsetOptions } from './remset-collector.js';

const REMSET_CONSTRAINTS: CollectorConstraints = {
  moves: true,
  collects: true,
  generational: false,
  needsRemsets: true,
  concurrent: false,
  barriers: { preWrite: 'none', postWrite: 'card', read: 'none' },
};

export const rem: CollectorPlugin = {
  name: 'rem',
  description: 'region evacuation with remembered sets, no full-heap trace per pause, non-generational (REM in Zhao & Blackburn 2020)',
  constraints: REMSET_CONSTRAINTS,
  options: REMSET_COLLECTOR_OPTIONS,
  create: (vm, o) => new RemsetCollector(vm, remsetOptions(o, { generational: false, pauseGoalMs: 0 })),
};

export const gen: CollectorPlugin = {
  name: 'gen',
  description: 'remembered sets + a young generation: eden, survivors, aging and promotion (GEN in Zhao & Blackburn 2020)',
  constraints: { ...REMSET_CONSTRAINTS, generational: true },
  options: REMSET_COLLECTOR_OPTIONS,
  create: (vm, o) => new RemsetCollector(vm, remsetOptions(o, { generational: true, pauseGoalMs: 0 })),
};

const CONCURRENT_CONSTRAINTS: CollectorConstraints = {
  ...REMSET_CONSTRAINTS,
  concurrent: true,
  barriers: { preWrite: 'satb', postWrite: 'card', read: 'none' },
};

/** Concurrent SATB marking on the marker worker (on by default in cre and g1). */
const concurrentMarkOption = (on: boolean) => ({
  concurrentMark: { default: on, description: 'mark concurrently on a worker thread (SATB, concurrent-marking.ts); off: stop-the-world marking; --concurrent-mark on|off sets it' },
  markerPaceUs: { default: 0, description: 'testing: the marker worker rests this many µs after every 64 objects (a slow marker the mutator races); 0: full speed' },
});

export const cre: CollectorPlugin = {
  name: 'cre',
  description: 'remembered sets + concurrent SATB marking on a worker thread, non-generational (CRE in Zhao & Blackburn 2020)',
  constraints: CONCURRENT_CONSTRAINTS,
  options: { ...concurrentMarkOption(true), ...REMSET_COLLECTOR_OPTIONS },
  create: (vm, o) => new RemsetCollector(vm, remsetOptions(o, { generational: false, pauseGoalMs: 0 })),
};

export const g1: CollectorPlugin = {
  name: 'g1',
  description: 'generational remembered-set region collector with concurrent SATB marking, a pause-time goal and G1-style prediction (G1)',
  constraints: { ...CONCURRENT_CONSTRAINTS, generational: true },
  options: {
    pauseGoalMs: { default: 200, description: 'pause-time goal in ms (MaxGCPauseMillis); --pause-goal sets it' },
    ...concurrentMarkOption(true),
    ...REMSET_COLLECTOR_OPTIONS,
  },
  create: (vm, o) => new RemsetCollector(vm, remsetOptions(o, { generational: true, pauseGoalMs: Number(o.pauseGoalMs) })),
};

/** The registered presets: every one runs the whole invariant suite in `npm test`. */
export const REGION_FAMILY: CollectorPlugin[] = [evac, rem, gen, cre, g1];

/**
 * Presets that can be run by name but are not in the registry's tested set
 * (none at present: `cre` joined the registry once its worker hand-over was
 * made exact, see vm-core/concurrent/shared-work-list.ts, "The handshake").
 */
export const EXPERIMENTAL_COLLECTORS: CollectorPlugin[] = [];
