import { it } from 'vitest';
import { evac } from '../../collectors/region/region-collector.js';
import { Vm } from '../../vm-core/vm.js';
import { REGION_KIND_NAMES } from '../../vm-core/region-table.js';

it('repro', () => {
  const vm = new Vm({ heapBytes: 32 * 1024, regionBytes: 4096, collector: evac, verify: 'debug', rootSlots: 64 });
  const f64 = vm.types.dataArray('f64', 2), refs = vm.types.refArray('refs');
  const empty = vm.types.struct('Empty', 0, 0), cons = vm.types.struct('Cons', 1, 2);
  const m = vm.newMutator(64);
  const dump = (w: string) => {
    const r = vm.heap.regions;
    console.log(w, Array.from({ length: vm.heap.regionCount }, (_, i) => `${i}:${REGION_KIND_NAMES[r.kind[i]]}/${r.top[i] - r.bottom(i)}`).join(' '), 'free', vm.heap.free.length, 'm', m.top, m.limit);
  };
  vm.events.subscribe({ pauseEvent: (n, _t, d) => { if (n === 'requested') console.log('GC', d.cause); if (n === 'mutators-stopped' || n === 'evacuated') dump(n); }, phaseEnd() {}, count(n, v) { if (/Cset|Failed|Dead|humong/.test(n)) console.log('  count', n, v); }, reclassify(k) { console.log('  reclassify', k); }, concurrent() {} });
  const chain = (n: number) => { const s = m.push(0); for (let k = 0; k < n; k++) { const o = m.alloc(cons); m.setRef(o, 0, m.get(s)); m.set(s, o); } };
  m.push(m.allocArray(refs, 1023)); m.push(m.allocArray(f64, 512)); chain(61); chain(110); dump('after allocs');
  vm.collect('explicit');
  m.push(m.alloc(empty)); dump('e1');
  vm.collect('explicit');
  m.push(m.allocArray(f64, 0)); dump('e2');
  vm.collect('explicit');
  m.push(m.alloc(empty)); dump('e3');
});
