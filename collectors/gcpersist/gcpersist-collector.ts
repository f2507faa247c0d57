/**
 * gcpersist: the generational region collector (`gen`, remset-collector.ts)
 * plus GCPersist's lazy, GC-assisted persistence (Wu et al., VEE 2020;
 * persistence.ts). Objects reachable from persistent roots
 * (m.persistRoot(name, ref)) are copied into persistent regions by the
 * collector's pauses, and the dirty persistent regions are committed to a
 * crash-consistent image file (the NVM stand-in) as one epoch per committing
 * pause. `--recover image.hlp` loads the newest valid epoch into a fresh heap.
 *
 * How it attaches to gen (every hook is a few lines in the generational code;
 * the evacuation's copying loops are unchanged):
 *
 *   hook                            where                                what
 *   collect() override, first       every pause                          eager: PERSIST_EAGER bits reset
 *   beforeEvacuation()              evacuation pause, cset flagged       the persist pass pre-copies
 *   collect() override, full pause  around the full compaction           persistent regions kept in place
 *   collect() override, after       every pause                          flags reconciled; commit per mode
 *   checkInvariants() override      the verifier, after a pause          placement + image == heap subgraph
 *
 * With no persistent roots (or persistMode=off) nothing of this runs and the
 * collector is gen, pause for pause: the property tests run it as such.
 *
 * Options beyond gen's: persistMode lazy|lazy-old|eager|off, image (a path;
 * '' keeps epochs in memory, no file), recover (a path), eagerBatch.
 */
import type { BarrierChoice } from '../../barriers/select.js';
import type { CollectorPlugin, OptionValue } from '../../vm-core/collector.js';
import { EV_PREPARE, type GcEventListener } from '../../vm-core/events.js';
import type { Vm } from '../../vm-core/vm.js';
import { REMSET_COLLECTOR_OPTIONS, RemsetCollector, remsetOptions } from '../region/remset-collector.js';
import { gen } from '../region/presets.js';
import { Persistence, type PersistenceReport, persistenceOptions, RUN_PERSIST_MODES } from './persistence.js';

export class GcPersistCollector extends RemsetCollector {
  readonly persistence: Persistence;
  private pauseKind = '';

  constructor(vm: Vm, o: Record<string, OptionValue>) {
    super(vm, remsetOptions(o, { generational: true, pauseGoalMs: 0 }));
    this.persistence = new Persistence(vm, persistenceOptions(o), this.remsets);
    const listener: GcEventListener = {
      pauseEvent: (name, _t, detail) => { if (name === EV_PREPARE) this.pauseKind = detail.kind ?? ''; },
      phaseEnd() {},
      count() {},
      reclassify() {},
      concurrent() {},
    };
    vm.events.subscribe(listener);
    this.persistence.start();
  }

  override collect(cause: string): void {
    this.pauseKind = '';
    this.persistence.atPauseStart();
    const full = cause === 'last-ditch';
    if (full) this.persistence.beforeFull();
    try {
      super.collect(cause);
    } finally {
      if (full) this.persistence.afterFull();
    }
    this.persistence.afterPause(this.pauseKind, cause);
  }

  /** Called by the evacuation pause once the collection set is flagged (remset-collector.ts). */
  protected override beforeEvacuation(): void {
    this.persistence.beforeEvacuation();
  }

  override checkInvariants(when: string, problems: string[]): void {
    super.checkInvariants(when, problems);
    if (when.startsWith('after') && problems.length === 0) this.persistence.checkAfterCommit(problems);
  }

  /** The run's persistence totals (the runner puts them in the run report). */
  persistenceReport(): PersistenceReport {
    return this.persistence.report();
  }

  /** End of the run: flush the eager log, close the image. */
  shutdown(): void {
    this.persistence.close();
  }
}

const EAGER_BARRIERS: BarrierChoice = { ...gen.constraints.barriers, persist: 'eager' };

export const gcpersist: CollectorPlugin = {
  name: 'gcpersist',
  description: 'gen + GCPersist (Wu et al. VEE 2020): lazy GC-assisted persistence of the data reachable from persistent roots into a crash-consistent image',
  constraints: { ...gen.constraints },
  options: {
    persistMode: { default: 'lazy', choices: RUN_PERSIST_MODES, description: 'lazy (commit at every pause), lazy-old (at mixed and full pauses), eager (write-through log per store + commit at every pause), off (= gen)' },
    image: { default: '', description: "image file to create (the NVM stand-in); '' keeps epochs in memory; heaplab run --image sets it" },
    recover: { default: '', description: 'image to recover at start-up (heaplab run --recover); epochs are then appended to it unless image names another file' },
    eagerBatch: { default: 64, description: 'eager mode: at most this many stores per fdatasync of the write-through log (1: every store durable before it returns)' },
    ...REMSET_COLLECTOR_OPTIONS,
  },
  barriersFor: (o) => (String(o.persistMode) === 'eager' ? EAGER_BARRIERS : gen.constraints.barriers),
  create: (vm, o) => new GcPersistCollector(vm, o),
};

export default gcpersist;
