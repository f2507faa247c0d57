/**
 * The tenuring rule, as G1's (G1ParScanThreadState: a young object whose age,
 * the pauses it has survived, is below the threshold goes to a survivor region
 * and ages by one; otherwise it is promoted): with tenuringThreshold t an
 * object is copied to survivor regions t times and promoted at its (t+1)-th
 * survival; 0 promotes at once. An off-by-one here changes how much every
 * young pause copies.
 */
import { describe, expect, it } from 'vitest';
import { gen } from '../../collectors/region/presets.js';
import { REGION_EDEN, REGION_OLD, REGION_SURVIVOR } from '../../vm-core/region-table.js';
import { testVm } from '../kit/fixtures.js';

/** The kind of the region holding the rooted object after each of `pauses` young pauses. */
function kindsAfterPauses(tenuringThreshold: number, pauses: number): number[] {
  const { vm, m, t } = testVm({ collector: gen, heapBytes: 256 * 1024, collectorOptions: { tenuringThreshold, survivorRatio: 1, gcThreads: 1 } });
  const slot = m.push(m.alloc(t.leaf));
  const kinds = [vm.heap.regions.kind[m.get(slot) >> vm.heap.logRegionWords]];
  for (let i = 0; i < pauses; i++) {
    vm.collect('test');
    kinds.push(vm.heap.regions.kind[m.get(slot) >> vm.heap.logRegionWords]);
  }
  return kinds;
}

describe('tenuring threshold (G1 semantics)', () => {
  it('0: promoted at the first survival', () => {
    expect(kindsAfterPauses(0, 2)).toEqual([REGION_EDEN, REGION_OLD, REGION_OLD]);
  });

  it('1: one pause in a survivor region, promoted at the second survival', () => {
    expect(kindsAfterPauses(1, 3)).toEqual([REGION_EDEN, REGION_SURVIVOR, REGION_OLD, REGION_OLD]);
  });

  it('3: three pauses in survivor regions', () => {
    expect(kindsAfterPauses(3, 4)).toEqual([REGION_EDEN, REGION_SURVIVOR, REGION_SURVIVOR, REGION_SURVIVOR, REGION_OLD]);
  });
});
