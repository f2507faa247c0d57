/**
 * gcpersist (collectors/gcpersist): the collector and its persistence engine,
 * in process.
 *
 *   - without persistent roots it is gen, pause for pause
 *   - persistent roots are ordinary strong roots under every other collector
 *   - resilient-cache in every mode computes gen's checksum, with the heap
 *     verifier and the persistence checks (placement, image == heap) after
 *     every committing pause; a restart from the image reuses every partition
 *   - stragglers (old objects attached late) are moved; humongous persistent
 *     objects are adopted, and dropped when detached; a full collection keeps
 *     persistent regions in place
 *   - eager: a crash right after a store (batch 1) loses nothing: the log
 *     replays stores, logged objects and root changes
 *   - per-root modes; bad input
 *   - random programs with persistent roots (fast-check): after every
 *     committing pause the image equals the heap's persistent subgraph, and a
 *     fresh heap recovered from the image (and the eager log) holds exactly it
 *
 *   HEAPLAB_DEEP=1 [HEAPLAB_SEED=n]   40x the random programs
 *   HEAPLAB_DEBUG_OPS='<ops as JSON>' HEAPLAB_DEBUG_MODE=eager npx vitest run test/unit/gcpersist.test.ts -t 'debug program'
 *                                    replays one program (a counterexample) with the image's regions printed
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import { GcPersistCollector, gcpersist } from '../../collectors/gcpersist/gcpersist-collector.js';
import { checkPlacement, compareImage } from '../../collectors/gcpersist/image-check.js';
import { recoverImage } from '../../collectors/gcpersist/recovery.js';
import { evac } from '../../collectors/region/region-collector.js';
import { gen } from '../../collectors/region/presets.js';
import type { CollectorPlugin, OptionValue } from '../../vm-core/collector.js';
import { UsageError } from '../../vm-core/errors.js';
import { PERSIST_MARK, TYPE_SHIFT } from '../../vm-core/layout.js';
import { PERSISTENT_REGION, REGION_HUMONGOUS_START, REGION_OLD } from '../../vm-core/region-table.js';
import { Vm } from '../../vm-core/vm.js';
import { findWorkload, resolveParams } from '../../workloads/registry.js';
import { checkCollector } from '../kit/index.js';

const work = fs.mkdtempSync(join(tmpdir(), 'heaplab-gcpersist-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let seq = 0;
const imagePath = (): string => join(work, `t-${seq++}.hlp`);

const SMALL = { partitions: 12, size: 512, work: 2, stages: 3 };

function runCache(collector: CollectorPlugin, options: Record<string, OptionValue>, params: Record<string, number> = SMALL, verify: 'off' | 'debug' = 'debug') {
  const w = findWorkload('resilient-cache');
  const vm = new Vm({ heapBytes: 4 << 20, regionBytes: 32 << 10, collector, collectorOptions: options, verify });
  const m = vm.newMutator();
  const result = w.run({ mutator: m, types: vm.types, params: resolveParams(w, params), collect: (c) => vm.collect(c) });
  return { vm, result, pauses: vm.gcCount };
}

function persistence(vm: Vm) {
  return (vm.collector as GcPersistCollector).persistence;
}

/** A small VM for hand-made object graphs. */
function smallVm(collector: CollectorPlugin, options: Record<string, OptionValue> = {}, verify: 'off' | 'debug' | 'extreme' = 'debug', heapBytes = 256 * 1024) {
  const vm = new Vm({ heapBytes, regionBytes: 4096, collector, collectorOptions: options, verify, rootSlots: 1024 });
  const t = {
    node: vm.types.struct('Node', 2, 2),
    refs: vm.types.refArray('Refs'),
    ints: vm.types.dataArray('Ints', 1),
  };
  return { vm, m: vm.newMutator(), t };
}

/** Every object reachable from a's persistent roots has the same words at the same address in b. */
function sameSubgraph(a: Vm, b: Vm): string[] {
  const problems: string[] = [];
  const names = a.persistentRoots.names;
  for (const name of names) if (a.persistentRoot(name) !== b.persistentRoot(name)) problems.push(`root ${name}: ${a.persistentRoot(name)} vs ${b.persistentRoot(name)}`);
  const seen = new Set<number>();
  const stack = names.map((n) => a.persistentRoot(n)).filter((r) => r !== 0);
  while (stack.length > 0 && problems.length < 5) {
    const obj = stack.pop()!;
    if (seen.has(obj)) continue;
    seen.add(obj);
    const size = a.heap.sizeOf(obj);
    for (let w = 0; w < size; w++) {
      const x = w === 0 ? a.heap.words[obj] & ~PERSIST_MARK : a.heap.words[obj + w];
      const y = w === 0 ? b.heap.words[obj] & ~PERSIST_MARK : b.heap.words[obj + w];
      if (x !== y) { problems.push(`object ${obj} word ${w}: ${x} vs ${y}`); break; }
    }
    for (let s = 0; s < a.heap.refCount(obj); s++) {
      const v = a.heap.words[obj + 2 + s];
      if (v !== 0) stack.push(v);
    }
  }
  return problems;
}

function recoverInto(path: string, like: Vm): Vm {
  const vm = new Vm({ heapBytes: like.heap.heapBytes, regionBytes: like.heap.regionWords * 4, collector: gcpersist, collectorOptions: { recover: path, persistMode: 'off' }, verify: 'debug' });
  vm.newMutator();
  vm.verifyNow('after recovery', 'debug');
  return vm;
}

describe('gcpersist without persistent roots', () => {
  it('is gen, pause for pause', () => {
    const w = findWorkload('lru-cache');
    const kinds = (c: CollectorPlugin) => {
      const vm = new Vm({ heapBytes: 2 << 20, regionBytes: 16 << 10, collector: c, verify: 'debug' });
      const seen: string[] = [];
      vm.events.subscribe({ pauseEvent: (n, _t, d) => { if (n === 'prepare') seen.push(d.kind ?? ''); else if (n === 'mutators-resumed') seen.push(String(d.usedWords)); }, phaseEnd() {}, count() {}, reclassify() {}, concurrent() {} });
      const r = w.run({ mutator: vm.newMutator(), types: vm.types, params: resolveParams(w, { capacity: 2000, ops: 40000 }), collect: (x) => vm.collect(x) });
      return { seen, r };
    };
    const a = kinds(gen);
    const b = kinds(gcpersist);
    expect(a.seen.length).toBeGreaterThan(10);
    expect(b.seen).toEqual(a.seen);
    expect(b.r).toEqual(a.r);
  });
});

describe('gcpersist with the eager barrier and no persistent roots', () => {
  it('passes the property kit (stress mode included)', () => {
    checkCollector(gcpersist, { runs: 150, seed: 77, collectorOptions: { persistMode: 'eager' } });
    checkCollector(gcpersist, { runs: 50, seed: 78, heapBytes: 64 * 1024, stressGc: 3, verify: 'extreme', collectorOptions: { persistMode: 'eager' } });
  });
});

describe('persistent roots under other collectors', () => {
  for (const c of [epsilon, evac, gen]) {
    it(`${c.name} keeps them alive and updates them`, () => {
      const { vm, m, t } = smallVm(c);
      const n = m.alloc(t.node);
      m.setI32(n, vm.types.dataOffset(t.node, 0), 4242);
      m.persistRoot('keep', n);
      for (let i = 0; i < 3000; i++) m.alloc(t.node);
      vm.collect();
      const back = m.persistentRoot('keep');
      expect(m.getI32(back, vm.types.dataOffset(t.node, 0))).toBe(4242);
      expect(m.persistentRoot('nothing')).toBe(0);
    });
  }
});

describe('resilient-cache under gcpersist', () => {
  const reference = runCache(gen, {}, SMALL, 'off').result;

  for (const mode of ['lazy', 'lazy-old', 'eager']) {
    it(`${mode}: gen's checksum, verified at every commit; a restart reuses every partition`, () => {
      const image = imagePath();
      const a = runCache(gcpersist, { persistMode: mode, image });
      expect(a.result).toEqual(reference);
      const report = persistence(a.vm).report();
      expect(report.commits).toBeGreaterThan(mode === 'lazy-old' ? 0 : 3);
      expect(report.persistentBytes).toBeGreaterThan(SMALL.partitions * SMALL.size * 4);
      if (mode === 'eager') expect(report.eager.stores).toBeGreaterThanOrEqual(SMALL.partitions * SMALL.size);
      else expect(report.eager.stores).toBe(0);
      (a.vm.collector as GcPersistCollector).shutdown();
      const before = fs.readFileSync(image);
      const fresh = recoverInto(image, a.vm);
      expect(fs.readFileSync(image).equals(before)).toBe(true);
      const problems: string[] = [];
      checkPlacement(fresh.heap, fresh.persistentRoots, problems);
      compareImage(fresh.heap, fresh.persistentRoots, recoverImage(image), problems);
      expect(problems).toEqual([]);
      expect(sameSubgraph(a.vm, fresh)).toEqual([]);
      const b = runCache(gcpersist, { persistMode: mode, recover: image });
      expect(b.result).toEqual({ ...reference, recovered: SMALL.partitions, computed: 0 });
      (b.vm.collector as GcPersistCollector).shutdown();
    });
  }

  it('lazy-old commits only at mixed and full pauses and checkpoints', () => {
    const a = runCache(gcpersist, { persistMode: 'lazy-old' });
    const lazy = runCache(gcpersist, { persistMode: 'lazy' });
    expect(persistence(a.vm).report().commits).toBeLessThan(persistence(lazy.vm).report().commits);
    expect(a.result).toEqual(lazy.result);
  });
});

describe('placement', () => {
  it('moves stragglers (old objects attached late) into persistent regions', () => {
    const { vm, m, t } = smallVm(gcpersist, { tenuringThreshold: 0 });
    const slot = m.push(m.alloc(t.node));
    for (let i = 0; i < 3; i++) vm.collect();
    const old = m.get(slot);
    expect(vm.heap.regions.kind[old >> vm.heap.logRegionWords]).toBe(REGION_OLD);
    m.setI32(old, vm.types.dataOffset(t.node, 1), 77);
    m.persistRoot('late', old);
    vm.collect();
    const moved = m.persistentRoot('late');
    expect(moved).not.toBe(old);
    expect(m.get(slot)).toBe(moved);
    expect(vm.heap.regions.persistent[moved >> vm.heap.logRegionWords]).toBe(PERSISTENT_REGION);
    expect(m.getI32(moved, vm.types.dataOffset(t.node, 1))).toBe(77);
    expect(persistence(vm).report().stragglers).toBe(1);
  });

  it('adopts humongous persistent objects and drops them when detached', () => {
    const { vm, m, t } = smallVm(gcpersist);
    const big = m.allocArray(t.ints, 3000);
    m.setI32(big, 2 + 2999, 5);
    m.persistRoot('big', big);
    vm.collect();
    const r = big >> vm.heap.logRegionWords;
    expect(m.persistentRoot('big')).toBe(big);
    expect(vm.heap.regions.kind[r]).toBe(REGION_HUMONGOUS_START);
    expect(vm.heap.regions.persistent[r]).toBe(PERSISTENT_REGION);
    expect(vm.heap.regions.persistent[r + 1]).toBe(PERSISTENT_REGION);
    expect(persistence(vm).readBack()!.regions.has(r + 2)).toBe(true);
    m.persistRoot('big', 0);
    vm.collect();
    expect(vm.heap.regions.persistent[r]).toBe(0);
  });

  it('a recovered humongous object referenced from a recovered node survives the recovered heap\'s pauses', () => {
    const image = imagePath();
    const { vm, m, t } = smallVm(gcpersist, { image });
    const node = m.alloc(t.node);
    m.persistRoot('holder', node);
    const big = m.allocArray(t.ints, 3000);
    m.setI32(big, 2 + 7, 77);
    m.setRef(m.persistentRoot('holder'), 1, big);
    vm.collect();
    vm.collect('persist');
    (vm.collector as GcPersistCollector).shutdown();
    const r = new Vm({ heapBytes: 256 * 1024, regionBytes: 4096, collector: gcpersist, collectorOptions: { recover: image }, verify: 'debug' });
    const rm = r.newMutator();
    r.types.struct('Node', 2, 2);
    for (let i = 0; i < 3; i++) r.collect();
    const h = rm.persistentRoot('holder');
    expect(rm.getI32(rm.getRef(h, 1), 2 + 7)).toBe(77);
    (r.collector as GcPersistCollector).shutdown();
  });

  it('keeps persistent regions in place across a full collection', () => {
    const { vm, m, t } = smallVm(gcpersist);
    const head = m.alloc(t.node);
    m.persistRoot('list', head);
    for (let i = 0; i < 40; i++) {
      const n = m.alloc(t.node);
      m.setRef(n, 0, m.persistentRoot('list'));
      m.persistRoot('list', n);
      m.alloc(t.node);
    }
    vm.collect();
    const before = m.persistentRoot('list');
    vm.collect('last-ditch');
    expect(m.persistentRoot('list')).toBe(before);
    const problems: string[] = [];
    checkPlacement(vm.heap, vm.persistentRoots, problems);
    expect(problems).toEqual([]);
  });
});

describe('eager write-through', () => {
  it('a crash right after a store loses nothing (batch 1): stores, logged objects and roots are replayed', () => {
    const image = imagePath();
    const { vm, m, t } = smallVm(gcpersist, { persistMode: 'eager', image, eagerBatch: 1 });
    const a = m.alloc(t.node);
    m.persistRoot('root', a);
    vm.collect();
    const pa = m.persistentRoot('root');
    const d0 = vm.types.dataOffset(t.node, 0);
    m.setI32(pa, d0, 1234);
    const fresh = m.alloc(t.node);
    m.setI32(fresh, d0, 99);
    const arr = m.allocArray(t.ints, 20);
    m.setI32(arr, 2 + 19, -7);
    m.setRef(fresh, 1, arr);
    m.setRef(pa, 0, fresh);
    m.setI32(arr, 2 + 3, 33);
    m.setF64(arr, 2 + 4, 2.5);
    const other = m.alloc(t.node);
    m.setI32(other, d0, 555);
    m.persistRoot('second', other);
    // "crash": no pause, no shutdown; the log holds every store
    const r = recoverInto(image, vm);
    const rep = (r.collector as GcPersistCollector).persistenceReport().recovery!;
    expect(rep.log.status).toBe('ok');
    expect(rep.log.objects).toBe(3);
    expect(sameSubgraph(vm, r)).toEqual([]);
    const problems: string[] = [];
    checkPlacement(r.heap, r.persistentRoots, problems);
    expect(problems).toEqual([]);
    expect(r.persistentRoot('second')).toBe(other);
  });

  it('refuses an eager root without the write-through barrier', () => {
    const { m, t } = smallVm(gcpersist, { persistMode: 'lazy' });
    expect(() => m.persistRoot('x', m.alloc(t.node), 'eager')).toThrow(UsageError);
    expect(() => m.persistRoot('y', 0, 'sometimes')).toThrow(/unknown mode/);
  });
});

describe('per-root modes', () => {
  it('a lazy-old root alone does not commit at young pauses; a lazy root does', () => {
    const { vm, m, t } = smallVm(gcpersist, { persistMode: 'lazy' });
    const commits = () => persistence(vm).report().commits;
    const created = commits(); // epoch 1 names the image
    m.persistRoot('cold', m.alloc(t.node), 'lazy-old');
    vm.collect();
    vm.collect();
    expect(commits()).toBe(created);
    vm.collect('persist');
    expect(commits()).toBe(created + 1);
    m.persistRoot('hot', m.alloc(t.node));
    vm.collect();
    expect(commits()).toBe(created + 2);
    expect(persistence(vm).readBack()!.meta.rootModes).toBe(JSON.stringify({ cold: 'lazy-old' }));
  });
});

describe('bad input', () => {
  it('refuses an unknown mode and an existing image', () => {
    expect(() => smallVm(gcpersist, { persistMode: 'sometimes' })).toThrow(/persistMode 'sometimes'/);
    const image = imagePath();
    fs.writeFileSync(image, 'not an image');
    expect(() => smallVm(gcpersist, { image })).toThrow(/already exists/);
    expect(() => smallVm(gcpersist, { recover: image })).toThrow(/not a heaplab image/);
    expect(fs.readFileSync(image, 'utf8')).toBe('not an image');
  });
});

// ---- random programs ---------------------------------------------------------------------------

type Op =
  | { op: 'alloc'; slot: number; kind: 0 | 1 | 2 | 3; len: number }
  | { op: 'link'; from: number; field: number; to: number }
  | { op: 'persist'; root: number; slot: number }
  | { op: 'fetch'; root: number; slot: number }
  | { op: 'unpersist'; root: number }
  | { op: 'store'; slot: number; value: number }
  | { op: 'clear'; slot: number }
  | { op: 'gc'; cause: 'explicit' | 'persist' | 'last-ditch' };

const SLOTS = 8;
const ROOTS = 3;
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('alloc' as const), slot: fc.nat(SLOTS - 1), kind: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const), len: fc.nat(40) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('link' as const), from: fc.nat(SLOTS - 1), field: fc.nat(3), to: fc.nat(SLOTS - 1) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('persist' as const), root: fc.nat(ROOTS - 1), slot: fc.nat(SLOTS - 1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fetch' as const), root: fc.nat(ROOTS - 1), slot: fc.nat(SLOTS - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unpersist' as const), root: fc.nat(ROOTS - 1) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('store' as const), slot: fc.nat(SLOTS - 1), value: fc.integer() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const), slot: fc.nat(SLOTS - 1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('gc' as const), cause: fc.constantFrom('explicit' as const, 'explicit' as const, 'explicit' as const, 'persist' as const, 'last-ditch' as const) }) },
);

/** What the random programs exercised, summed over a property's runs. */
const coverage = { preCopied: 0, stragglers: 0, adopted: 0, mixed: 0, full: 0, objectsLogged: 0, commits: 0 };

function runProgram(ops: Op[], mode: string, image: string): void {
  // promote early and mark early, so stragglers, marking cycles and mixed pauses happen in short programs
  const options = { persistMode: mode, image, eagerBatch: 1, tenuringThreshold: 0, ihopPercent: 3, budgetPercent: 10, liveThresholdPercent: 95, heapWastePercent: 0 };
  const { vm, m, t } = smallVm(gcpersist, options, 'debug', 128 * 1024);
  vm.events.subscribe({ pauseEvent: (n, _t, d) => { if (n === 'prepare' && d.kind === 'mixed') coverage.mixed++; if (n === 'prepare' && d.kind === 'full') coverage.full++; }, phaseEnd() {}, count() {}, reclassify() {}, concurrent() {} });
  const base = m.frame();
  for (let i = 0; i < SLOTS; i++) m.push(0);
  const d0 = vm.types.dataOffset(t.node, 0);
  for (const o of ops) {
    switch (o.op) {
      case 'alloc': {
        const ref = o.kind === 0 ? m.alloc(t.node) : o.kind === 1 ? m.allocArray(t.refs, o.len) : o.kind === 2 ? m.allocArray(t.ints, o.len) : m.allocArray(t.ints, 600 + o.len);
        m.set(base + o.slot, ref);
        break;
      }
      case 'link': {
        const from = m.get(base + o.from);
        if (from === 0) break;
        const n = vm.heap.refCount(from);
        if (n > 0) m.setRef(from, o.field % n, m.get(base + o.to));
        break;
      }
      case 'persist': m.persistRoot(`r${o.root}`, m.get(base + o.slot)); break;
      case 'fetch': m.set(base + o.slot, m.persistentRoot(`r${o.root}`)); break;
      case 'unpersist': if (vm.persistentRoots.has(`r${o.root}`)) m.persistRoot(`r${o.root}`, 0); break;
      case 'store': {
        const obj = m.get(base + o.slot);
        if (obj === 0) break;
        const type = vm.heap.words[obj] >>> TYPE_SHIFT;
        if (type === t.node) m.setI32(obj, d0, o.value);
        else if (type === t.ints && m.arrayLength(obj) > 0) m.setI32(obj, 2 + (Math.abs(o.value) % m.arrayLength(obj)), o.value);
        break;
      }
      case 'clear': m.set(base + o.slot, 0); break;
      case 'gc': vm.collect(o.cause); break;
    }
  }
  // the end: everything durable in the eager log (batch 1), or after a checkpoint in the lazy modes
  if (mode !== 'eager') vm.collect('persist');
  if (process.env.HEAPLAB_DEBUG_OPS) {
    const img = recoverImage(image);
    console.log('epoch', img.epoch, 'regions', [...img.regions.keys()], 'roots', img.roots, 'meta', img.meta.regionKinds, 'heap roots', vm.persistentRoots.entries());
    for (let r = 0; r < vm.heap.regionCount; r++) if (vm.heap.regions.kind[r] !== 0) console.log('region', r, vm.heap.regions.kind[r], vm.heap.regions.persistent[r], vm.heap.regions.top[r]);
  }
  const r = recoverInto(image, vm);
  const problems = sameSubgraph(vm, r);
  checkPlacement(r.heap, r.persistentRoots, problems);
  if (problems.length > 0) throw new Error(`recovered heap differs: ${problems.join('; ')}`);
  // the recovered heap is a sound heap for the collector: pauses over it pass the verifier
  r.collect();
  r.collect();
  r.collect('last-ditch');
  const rep = (vm.collector as GcPersistCollector).persistenceReport();
  coverage.preCopied += rep.objectsPreCopied;
  coverage.stragglers += rep.stragglers;
  coverage.adopted += vm.heap.regions.persistent.some((f, i) => f === PERSISTENT_REGION && vm.heap.regions.kind[i] === REGION_HUMONGOUS_START) ? 1 : 0;
  coverage.objectsLogged += rep.eager.objectsLogged;
  coverage.commits += rep.commits;
  (vm.collector as GcPersistCollector).shutdown();
}

describe('random programs with persistent roots', () => {
  if (process.env.HEAPLAB_DEBUG_OPS) {
    it('debug program', () => { runProgram(JSON.parse(process.env.HEAPLAB_DEBUG_OPS!) as Op[], process.env.HEAPLAB_DEBUG_MODE ?? 'eager', imagePath()); });
  }
  for (const mode of ['lazy', 'lazy-old', 'eager']) {
    it(`${mode}: the image and a recovered heap equal the persistent subgraph`, () => {
      fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), (ops) => {
        runProgram(ops, mode, imagePath());
      }), { numRuns: 60 * (process.env.HEAPLAB_DEEP === '1' ? 40 : 1), seed: Number(process.env.HEAPLAB_SEED ?? 4242) + mode.length });
    });
  }

  it('regressions: a region the full compaction released is claimed persistent untracked; stale eager bits', () => {
    const fullThenStraggler: Op[] = [
      { op: 'alloc', slot: 6, kind: 0, len: 0 }, { op: 'gc', cause: 'last-ditch' }, { op: 'alloc', slot: 0, kind: 0, len: 0 },
      { op: 'persist', root: 0, slot: 0 }, { op: 'unpersist', root: 0 }, { op: 'persist', root: 0, slot: 0 },
      { op: 'link', from: 6, field: 0, to: 0 }, { op: 'gc', cause: 'last-ditch' }, { op: 'gc', cause: 'explicit' },
    ];
    for (const mode of ['lazy', 'lazy-old', 'eager']) runProgram(fullThenStraggler, mode, imagePath());
    const staleEager: Op[] = [
      { op: 'alloc', slot: 1, kind: 0, len: 0 }, { op: 'persist', root: 1, slot: 1 }, { op: 'fetch', root: 1, slot: 6 },
      { op: 'persist', root: 1, slot: 0 }, { op: 'alloc', slot: 0, kind: 0, len: 0 }, { op: 'gc', cause: 'explicit' },
      { op: 'alloc', slot: 0, kind: 0, len: 0 }, { op: 'clear', slot: 0 }, { op: 'alloc', slot: 0, kind: 0, len: 0 },
      { op: 'persist', root: 0, slot: 0 }, { op: 'unpersist', root: 0 }, { op: 'link', from: 0, field: 0, to: 0 },
      { op: 'persist', root: 0, slot: 6 },
    ];
    runProgram(staleEager, 'eager', imagePath());
    // an object left in a persistent region, no longer reachable at a commit, is persisted again by a root store
    const detachedThenRooted: Op[] = [
      { op: 'alloc', slot: 1, kind: 0, len: 0 }, { op: 'persist', root: 1, slot: 1 }, { op: 'gc', cause: 'explicit' },
      { op: 'alloc', slot: 0, kind: 0, len: 0 }, { op: 'fetch', root: 1, slot: 6 }, { op: 'persist', root: 1, slot: 2 },
      { op: 'link', from: 1, field: 0, to: 0 }, { op: 'alloc', slot: 0, kind: 0, len: 0 }, { op: 'gc', cause: 'explicit' },
      { op: 'alloc', slot: 0, kind: 0, len: 0 }, { op: 'persist', root: 0, slot: 0 }, { op: 'unpersist', root: 0 },
      { op: 'link', from: 0, field: 0, to: 0 }, { op: 'persist', root: 0, slot: 6 },
    ];
    runProgram(detachedThenRooted, 'eager', imagePath());
    // an eager object a mixed pause moves out of its persistent region (no longer reachable) loses the eager bit
    const mixedMovesOut = JSON.parse('[{"op":"alloc","slot":1,"kind":3,"len":0},{"op":"alloc","slot":5,"kind":0,"len":0},{"op":"persist","root":0,"slot":5},'
      + '{"op":"alloc","slot":0,"kind":3,"len":0},{"op":"gc","cause":"explicit"},{"op":"gc","cause":"explicit"},{"op":"alloc","slot":0,"kind":0,"len":0},'
      + '{"op":"persist","root":0,"slot":0},{"op":"gc","cause":"explicit"},{"op":"link","from":0,"field":0,"to":0},{"op":"alloc","slot":0,"kind":0,"len":0},'
      + '{"op":"persist","root":0,"slot":5},{"op":"alloc","slot":0,"kind":0,"len":0},{"op":"link","from":0,"field":0,"to":0},{"op":"persist","root":1,"slot":0}]') as Op[];
    runProgram(mixedMovesOut, 'eager', imagePath());
  });

  it('coverage: pre-copies, stragglers, adopted humongous objects, mixed and full pauses, logged objects all happened', () => {
    if (coverage.commits === 0) return; // the property tests were filtered out
    expect(coverage.preCopied).toBeGreaterThan(0);
    expect(coverage.stragglers).toBeGreaterThan(0);
    expect(coverage.adopted).toBeGreaterThan(0);
    expect(coverage.mixed).toBeGreaterThan(0);
    expect(coverage.full).toBeGreaterThan(0);
    expect(coverage.objectsLogged).toBeGreaterThan(0);
  });

  it('resilient-cache with parallel evacuation (the worker meets pre-copied, forwarded objects)', () => {
    const image = imagePath();
    const a = runCache(gcpersist, { image, gcThreads: 2, parallelMinKb: 0 });
    expect(a.result).toEqual(runCache(gen, {}, SMALL, 'off').result);
    expect(persistence(a.vm).report().objectsPreCopied).toBeGreaterThan(0);
    (a.vm.collector as GcPersistCollector).shutdown();
  });
});
