/**
 * GC events (vm-core/events.ts): every pause emits requested,
 * mutators-stopped, prepare, roots-traced, heap-traced, evacuated,
 * mutators-resumed in this order, for explicit and allocation-triggered
 * collections of every registered collector; the bus refuses events out of
 * order; a collector that never collects emits nothing.
 */
import { describe, expect, it } from 'vitest';
import { listCollectors } from '../../collectors/registry.js';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import { evac } from '../../collectors/region/region-collector.js';
import { type GcEventListener, type PauseEventName, GcEvents, PAUSE_EVENT_ORDER } from '../../vm-core/events.js';
import type { Vm } from '../../vm-core/vm.js';
import { testVm } from '../kit/fixtures.js';

interface Recorded { name: string; detail?: Record<string, unknown> }

function record(vm: Vm): Recorded[] {
  const seen: Recorded[] = [];
  const listener: GcEventListener = {
    pauseEvent: (name: PauseEventName, _t, detail) => { seen.push({ name, detail: { ...detail } }); },
    phaseEnd: (name) => { seen.push({ name: `phase:${name}` }); },
    count: (name) => { seen.push({ name: `count:${name}` }); },
    reclassify: (kind) => { seen.push({ name: `reclassify:${kind}` }); },
    concurrent: (name, phase) => { seen.push({ name: `${name}:${phase}` }); },
  };
  vm.events.subscribe(listener);
  return seen;
}

const pauseNames = (seen: Recorded[]) => seen.map((e) => e.name).filter((n) => (PAUSE_EVENT_ORDER as readonly string[]).includes(n));

describe('pause event order', () => {
  it('evac: an explicit collection emits the seven pause events in the fixed order', () => {
    const { vm, m, t } = testVm({ collector: evac });
    for (let k = 0; k < 50; k++) m.push(m.alloc(t.cons));
    const seen = record(vm);
    vm.collect('explicit');
    expect(pauseNames(seen)).toEqual(['requested', 'mutators-stopped', 'prepare', 'roots-traced', 'heap-traced', 'evacuated', 'mutators-resumed']);
    expect(seen[0].detail).toEqual({ cause: 'explicit' });
    expect(seen.find((e) => e.name === 'prepare')!.detail).toEqual({ kind: 'evacuation' });
    expect(seen.at(-1)!.detail!.usedWords).toBe(vm.heap.usedWords());
  });

  it('evac: phases and work counters come between the pause events, inside the pause', () => {
    const { vm, m, t } = testVm({ collector: evac });
    for (let k = 0; k < 50; k++) m.push(m.alloc(t.cons));
    const seen = record(vm);
    vm.collect('explicit');
    const names = seen.map((e) => e.name);
    expect(names.indexOf('count:objectsMarked')).toBeGreaterThan(names.indexOf('heap-traced'));
    expect(names.indexOf('phase:copy')).toBeLessThan(names.indexOf('evacuated'));
    expect(names.indexOf('phase:stop-mutators')).toBeGreaterThan(names.indexOf('mutators-stopped'));
    expect(names.at(-1)).toBe('mutators-resumed');
  });

  it('evac: an allocation-triggered collection emits the same order, with its cause', () => {
    const { vm, m, t } = testVm({ collector: evac });
    const seen = record(vm);
    for (let k = 0; k < 3000 && vm.gcCount === 0; k++) m.alloc(t.tri);
    expect(vm.gcCount).toBe(1);
    expect(pauseNames(seen)).toEqual([...PAUSE_EVENT_ORDER]);
    expect(seen[0].detail!.cause).toBe('allocation');
  });

  for (const plugin of listCollectors().filter((p) => p.constraints.collects)) {
    it(`${plugin.name}: every pause is a subsequence of the fixed order, from requested to mutators-resumed`, () => {
      const { vm, m, t } = testVm({ collector: plugin });
      for (let k = 0; k < 100; k++) m.push(m.alloc(t.cons));
      const seen = record(vm);
      vm.collect('explicit');
      vm.collect('explicit');
      const names = pauseNames(seen);
      expect(names.filter((n) => n === 'requested')).toHaveLength(2);
      for (const pause of [names.slice(0, names.length / 2), names.slice(names.length / 2)]) {
        expect(pause[0]).toBe('requested');
        expect(pause[1]).toBe('mutators-stopped');
        expect(pause.at(-1)).toBe('mutators-resumed');
        const positions = pause.map((n) => PAUSE_EVENT_ORDER.indexOf(n as PauseEventName));
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
      }
    });
  }

  it('epsilon never collects, so collect() emits nothing', () => {
    const { vm } = testVm({ collector: epsilon });
    const seen = record(vm);
    vm.collect('explicit');
    expect(seen).toEqual([]);
    expect(vm.gcCount).toBe(0);
  });
});

describe('GcEvents', () => {
  it('refuses events out of order and a second requested inside a pause', () => {
    const events = new GcEvents();
    events.emit('requested', { cause: 'test' });
    events.emit('mutators-stopped');
    expect(() => events.emit('requested')).toThrow(/out of order/);
    events.emit('heap-traced'); // skipping is allowed
    expect(() => events.emit('roots-traced')).toThrow(/out of order/);
    events.emit('mutators-resumed');
    expect(events.inPause).toBe(false);
  });

  it('does not report zero counters', () => {
    const events = new GcEvents();
    const counts: string[] = [];
    events.subscribe({ pauseEvent() {}, phaseEnd() {}, count: (n) => { counts.push(n); }, reclassify() {}, concurrent() {} });
    events.count('zero', 0);
    events.count('one', 1);
    expect(counts).toEqual(['one']);
  });
});
