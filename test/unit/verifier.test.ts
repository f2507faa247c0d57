/**
 * The heap verifier (vm-core/verifier.ts): a sound heap passes at every
 * level, and each check catches a deliberately corrupted heap: a dangling
 * reference into the middle of an object (from an object and from a root), a
 * reference into a free region, a broken region walk, wrong accounting (region
 * top, accountedWords, free list), a forwarded object, a reachable object in a
 * collection-set or evacuation-failed region, a reference to a filler, a broken
 * humongous run, and (extreme only) a wrong block-offset entry. Verification
 * runs before and after pauses, and the collector's own checkInvariants joins in.
 */
import { describe, expect, it } from 'vitest';
import { evac } from '../../collectors/region/region-collector.js';
import type { CollectorPlugin } from '../../vm-core/collector.js';
import { VerificationError } from '../../vm-core/errors.js';
import { CARD_WORDS, LOG_CARD_WORDS, STATE_FORWARDED } from '../../vm-core/layout.js';
import { REGION_FREE, REGION_OLD } from '../../vm-core/region-table.js';
import { testVm } from '../kit/fixtures.js';

/** Two Tri objects (3 refs, 10 words) a -> b, both rooted, on epsilon (nothing moves), TLAB retired. */
function soundHeap() {
  const fixture = testVm({ verify: 'debug' });
  const { vm, m, t } = fixture;
  const aSlot = m.push(m.alloc(t.tri));
  const bSlot = m.push(m.alloc(t.tri));
  const a = m.get(aSlot);
  const b = m.get(bSlot);
  m.setRef(a, 0, b);
  vm.verifyNow(); // retires the TLAB, so the heap is walkable, and checks it is sound
  const freeRegion = vm.heap.regionCount - 1;
  expect(vm.heap.regions.kind[freeRegion]).toBe(REGION_FREE);
  return { ...fixture, a, b, aSlot, bSlot, freeRegion };
}

/** The problems the verifier reports; asserts verifyNow throws VerificationError listing the same problems. */
function problems(vm: ReturnType<typeof soundHeap>['vm'], level: 'debug' | 'extreme' = 'debug'): string[] {
  const found = vm.verifier.check(level);
  let thrown: unknown;
  try { vm.verifyNow('in a test', level); } catch (e) { thrown = e; }
  expect(thrown).toBeInstanceOf(VerificationError);
  expect((thrown as VerificationError).problems).toEqual(found);
  return found;
}

describe('verifier', () => {
  it('passes a sound heap at debug and extreme', () => {
    const { vm } = soundHeap();
    expect(vm.verifier.check('debug')).toEqual([]);
    expect(vm.verifier.check('extreme')).toEqual([]);
    vm.verifyNow('sound', 'extreme');
  });

  it('passes a heap evac has collected several times', () => {
    const { vm, m, t } = testVm({ collector: evac, verify: 'extreme' });
    for (let k = 0; k < 3000; k++) {
      const o = m.alloc(k % 2 ? t.tri : t.cons);
      if (k % 7 === 0) m.push(o);
      if (k % 500 === 499) vm.collect('explicit');
    }
    expect(vm.gcCount).toBeGreaterThan(3);
    expect(vm.verifier.check('extreme')).toEqual([]);
  });

  it('catches a dangling reference into the middle of an object', () => {
    const { vm, m, a, b } = soundHeap();
    m.setRef(a, 1, b + 2);
    expect(problems(vm)).toEqual([expect.stringMatching(new RegExp(`object at ${a} \\(Tri\\) slot 1: reference ${b + 2} not an object start`))]);
  });

  it('catches a root slot pointing into the middle of an object', () => {
    const { vm, m, b, bSlot } = soundHeap();
    m.set(bSlot, b + 4);
    expect(problems(vm)).toContainEqual(expect.stringMatching(new RegExp(`root slot ${bSlot}: reference ${b + 4} not an object start`)));
  });

  it('catches a reference into a free region', () => {
    const { vm, m, a, freeRegion } = soundHeap();
    m.setRef(a, 2, vm.heap.regions.bottom(freeRegion));
    expect(problems(vm)).toContainEqual(expect.stringMatching(new RegExp(`slot 2: reference \\d+ into free region ${freeRegion}`)));
  });

  it('catches a misaligned or out-of-heap reference', () => {
    const { vm, m, a } = soundHeap();
    m.setRef(a, 2, vm.heap.heapWords + 8);
    expect(problems(vm)).toContainEqual(expect.stringMatching(/outside the heap or misaligned/));
  });

  it('catches a broken region walk (a garbage header)', () => {
    const { vm, b } = soundHeap();
    vm.heap.words[b] = 0x7fffff00; // type id far past the registered ones
    expect(problems(vm)).toContainEqual(expect.stringMatching(new RegExp(`no valid object header at word ${b} .*walk broken`)));
  });

  it('catches a zeroed header (type id 0 is never valid)', () => {
    const { vm, b } = soundHeap();
    vm.heap.words[b] = 0;
    expect(problems(vm)).toContainEqual(expect.stringMatching(/walk broken/));
  });

  it('catches a region top moved past the last object', () => {
    const { vm, a } = soundHeap();
    const r = vm.heap.regionOf(a);
    vm.heap.regions.top[r] += 2;
    expect(problems(vm).join('\n')).toMatch(/walk broken|accounting: regions hold/);
  });

  it('catches a region top moved back into an object', () => {
    const { vm, b } = soundHeap();
    vm.heap.regions.top[vm.heap.regionOf(b)] = b + 4;
    expect(problems(vm)).toContainEqual(expect.stringMatching(new RegExp(`object at ${b} of 10 words runs past top ${b + 4}`)));
  });

  it('catches used words that do not add up to what the collector reports', () => {
    const { vm } = soundHeap();
    vm.heap.accountedWords += 2;
    expect(problems(vm)).toEqual([expect.stringMatching(/accounting: regions hold \d+ used words but collector epsilon reports \d+/)]);
  });

  it('catches a free region missing from the free list, and a used region on it', () => {
    const { vm, freeRegion } = soundHeap();
    vm.heap.free.removeRun(freeRegion, 1);
    expect(problems(vm)).toEqual(expect.arrayContaining([
      expect.stringMatching(new RegExp(`region ${freeRegion}: free but (not|neither) on the free list`)),
      expect.stringMatching(/accounting: \d+ free regions but the free list/),
    ]));
    const other = testVm({ verify: 'debug' });
    other.vm.heap.regions.kind[5] = REGION_OLD;
    expect(other.vm.verifier.check('debug')).toContainEqual(expect.stringMatching(/region 5 \(old\): in use but on the free list/));
  });

  it('catches a reachable forwarded object', () => {
    const { vm, a, b } = soundHeap();
    vm.heap.words[b] = (vm.heap.words[b] & ~3) | STATE_FORWARDED;
    vm.heap.words[b + 1] = a;
    const found = problems(vm);
    expect(found.join('\n')).toMatch(new RegExp(`word ${b}|object at ${b} is forwarded`));
  });

  it('catches a reachable object in a collection-set region', () => {
    const { vm, b } = soundHeap();
    const r = vm.heap.regionOf(b);
    vm.heap.regions.inCset[r] = 1;
    expect(problems(vm)).toContainEqual(expect.stringMatching(new RegExp(`reachable object at ${b} lies in collection-set region ${r}`)));
  });

  it('catches a reachable object in a region still flagged evacuation-failed', () => {
    const { vm, b } = soundHeap();
    const r = vm.heap.regionOf(b);
    vm.heap.regions.evacFailed[r] = 1;
    expect(problems(vm)).toContainEqual(expect.stringMatching(new RegExp(`reachable object at ${b} lies in region ${r} still flagged evacuation-failed`)));
  });

  it('catches a reference to a filler', () => {
    const { vm, a, b } = soundHeap();
    vm.heap.writeFiller(b, vm.heap.sizeOf(b)); // b "died" but a and a root still point at it
    expect(problems(vm)).toEqual(expect.arrayContaining([
      expect.stringMatching(new RegExp(`object at ${a} \\(Tri\\) slot 0: reference ${b} to a filler`)),
      expect.stringMatching(new RegExp(`root slot \\d+: reference ${b} to a filler`)),
    ]));
  });

  it('catches a humongous run with a missing continuation region', () => {
    const { vm, m, t } = testVm({ verify: 'debug' });
    const h = m.push(m.allocArray(t.i32s, 1500));
    const first = vm.heap.regionOf(m.get(h));
    vm.verifyNow();
    vm.heap.regions.kind[first + 1] = REGION_OLD;
    expect(vm.verifier.check('debug').join('\n')).toMatch(new RegExp(`region ${first + 1}: should continue the humongous object of region ${first}`));
  });

  it('at extreme only, catches a wrong block-offset entry', () => {
    const { vm, m, t } = testVm({ verify: 'debug' });
    let crossing = 0;
    while (crossing === 0) {
      const o = m.alloc(t.tri);
      if ((o >> LOG_CARD_WORDS) !== ((o + 9) >> LOG_CARD_WORDS)) crossing = o;
    }
    vm.verifyNow();
    const card = (crossing + CARD_WORDS - 1) >> LOG_CARD_WORDS;
    vm.heap.meta.blockOffsets[card] = crossing + 10;
    expect(vm.verifier.check('debug')).toEqual([]);
    expect(vm.verifier.check('extreme')).toEqual([`card ${card}: block offset ${crossing + 10}, expected ${crossing}`]);
  });

  it('runs before and after every pause when verify is on', () => {
    const { vm, m, t } = testVm({ collector: evac, verify: 'debug' });
    const a = m.push(m.alloc(t.tri));
    m.setRef(m.get(a), 0, m.get(a) + 2);
    expect(() => vm.collect('explicit')).toThrow(/heap verification failed before GC #1: 1 problem\(s\); first: .*not an object start/);
  });

  it('runs the collector\'s own checkInvariants', () => {
    const checking: CollectorPlugin = {
      ...evac,
      name: 'evac-with-invariant',
      create: (vm, options) => Object.assign(evac.create(vm, options), {
        checkInvariants: (when: string, found: string[]) => { if (when.startsWith('after')) found.push('planted: invariant broken'); },
      }),
    };
    const { vm } = testVm({ collector: checking, verify: 'debug' });
    expect(() => vm.collect('explicit')).toThrow(/after GC #1: 1 problem\(s\); first: planted: invariant broken/);
  });

  it('does nothing at level off', () => {
    const { vm, m, t } = testVm({ verify: 'off' });
    const a = m.alloc(t.tri);
    m.setRef(a, 0, a + 2);
    expect(() => vm.verifier.verifyHeap('off')).not.toThrow();
  });
});
