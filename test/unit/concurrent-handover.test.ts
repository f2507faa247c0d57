/**
 * The marker worker's command hand-over (vm-core/concurrent/: the handshake of
 * shared-work-list.ts, sequence-numbered CMD words acknowledged by seq), on the
 * real worker thread with tiny heaps. Not timed: every check is on state.
 *
 *   1. The interleaving behind the old remark hang, forced: the worker sees a
 *      command word before the SIGNAL bump that announces it (it read SIGNAL
 *      just before the bump and CMD just after), so its wait returns at once
 *      and it looks at the same command again. An ATTACH seen twice used to be
 *      taken twice, the second time waiting forever for a heap message, and
 *      the next remark was never acknowledged; a STOP seen twice was
 *      acknowledged twice. Each must be carried out once, and a full marking
 *      cycle must work afterwards.
 *   2. Hammering: thousands of quick attach / beginCycle / SATB enqueue / idle
 *      poll / abort (a discarded cycle) / remark hand-overs over several small
 *      heaps, with random spins between them so commands land while the worker
 *      is waking, marking or parking. Every remark must mark everything
 *      reachable from the final roots and at the snapshot, and every command
 *      that waits must be acknowledged (a hang fails within ackTimeoutMs).
 *
 * With the old protocol (no seq, ACK += 1) test 1 hangs every time: the
 * worker, woken by the late bump, takes the ATTACH again and waits for a heap
 * message forever. HEAPLAB_DEEP=1 hammers 50x longer. The worker is compiled JavaScript (dist/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { epsilon } from '../../collectors/epsilon/epsilon.js';
import type { Collector, CollectorPlugin } from '../../vm-core/collector.js';
import { ConcurrentMarker, heapBuffers } from '../../vm-core/concurrent/concurrent-marker.js';
import { ACK, CMD, CMD_ATTACH, CMD_IDLE, CMD_SEQ_MASK, CMD_SEQ_SHIFT, CMD_STOP, SIGNAL, STATE, STATE_STOPPED } from '../../vm-core/concurrent/shared-work-list.js';
import type { Heap } from '../../vm-core/heap.js';
import type { Mutator } from '../../vm-core/mutator.js';
import { Vm } from '../../vm-core/vm.js';
import { seededRandom } from '../kit/fixtures.js';
import { ensureMarkerBuilt } from '../deep/marker-build.js';

const DEEP = process.env.HEAPLAB_DEEP === '1';
const HAND_OVERS = DEEP ? 1_000_000 : 20_000;
const ACK_TIMEOUT_MS = 10_000;

// ---- small heaps whose (epsilon) collector hands SATB buffers to the marker -------------------------

const sink: { marker: ConcurrentMarker | null } = { marker: null };

class SatbForwarding implements Collector {
  constructor(private readonly inner: Collector) {}
  refillTlab(m: Mutator, minWords: number): boolean { return this.inner.refillTlab(m, minWords); }
  allocHumongous(words: number): number { return this.inner.allocHumongous(words); }
  retireTlab(m: Mutator): void { this.inner.retireTlab(m); }
  collectionRequired(): boolean { return false; }
  collect(cause: string): void { this.inner.collect(cause); }
  usedWords(): number { return this.inner.usedWords(); }
  get allocatedWords(): number { return this.inner.allocatedWords; }
  onSatbBuffer(refs: Int32Array, n: number): void { sink.marker?.enqueueSatb(refs, n); }
}

const satbEpsilon: CollectorPlugin = {
  ...epsilon,
  name: 'epsilon+satb',
  constraints: { ...epsilon.constraints, barriers: { ...epsilon.constraints.barriers, preWrite: 'satb' } },
  create: (vm, options) => new SatbForwarding(epsilon.create(vm, options)),
};

interface SmallHeap { vm: Vm; m: Mutator; heap: Heap; all: number[]; rnd: () => number }

/** Random references between all of h's nodes (between cycles only: no marking runs, and on epsilon nothing moves). */
function rewire(h: SmallHeap): void {
  const { m, all, rnd } = h;
  for (const o of all) for (let s = 0; s < 3; s++) m.setRef(o, s, rnd() < 0.6 ? all[Math.floor(rnd() * all.length)] : 0);
}

/** A 1 MiB heap with a random graph of 100..400 nodes under a few roots. */
function smallHeap(seed: number): SmallHeap {
  const rnd = seededRandom(seed);
  const vm = new Vm({ heapBytes: 1 << 20, regionBytes: 16 << 10, collector: satbEpsilon, rootSlots: 256 });
  const m = vm.newMutator(256);
  const node = vm.types.struct('Node', 3, 1);
  const all: number[] = [];
  for (let i = 0, n = 100 + Math.floor(rnd() * 300); i < n; i++) all.push(m.alloc(node)); // epsilon: nothing moves
  for (let i = 0; i < 4; i++) m.push(all[Math.floor(rnd() * all.length)]);
  vm.collector.retireTlab(m);
  const h = { vm, m, heap: vm.heap, all, rnd };
  rewire(h);
  return h;
}

function reachable(heap: Heap, m: Mutator): number[] {
  const seen = new Set<number>();
  const stack: number[] = [];
  for (let i = 0; i < m.sp; i++) if (m.roots[i] !== 0 && !seen.has(m.roots[i])) { seen.add(m.roots[i]); stack.push(m.roots[i]); }
  while (stack.length > 0) {
    const obj = stack.pop()!;
    for (let i = 0, k = heap.refCount(obj); i < k; i++) {
      const c = heap.words[obj + 2 + i];
      if (c !== 0 && !seen.has(c)) { seen.add(c); stack.push(c); }
    }
  }
  return [...seen];
}

function spin(us: number): void {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
}

/** The marker's private hand-over state (white-box: test 1 writes command words itself). */
interface MarkerInternals { control: Int32Array; port: { postMessage(m: unknown): void }; seq: number; release(op: number): void }

describe('concurrent marker: command hand-over (real worker)', () => {
  let marker: ConcurrentMarker;
  const heaps: SmallHeap[] = [];

  beforeAll(async () => {
    ensureMarkerBuilt();
    for (let i = 0; i < 4; i++) heaps.push(smallHeap(17 + i));
    marker = await ConcurrentMarker.start(heaps[0].heap, { ackTimeoutMs: ACK_TIMEOUT_MS });
    sink.marker = marker;
  });

  afterAll(async () => { await marker?.terminate(); });

  /** One full cycle on h with no mutation: everything reachable is marked. */
  function cleanCycle(h: SmallHeap): void {
    if (marker.attachedHeap !== h.heap) marker.attach(h.heap);
    marker.beginCycle(h.m.roots, h.m.sp);
    marker.remark(h.m.roots, h.m.sp);
    const unmarked = reachable(h.heap, h.m).filter((o) => !marker.isMarked(o));
    expect(unmarked).toEqual([]);
  }

  /**
   * Gives command `op` the way the race delivers it: the CMD word is written and
   * the worker woken with SIGNAL unchanged (so it reads the old SIGNAL and the new
   * command), and only once it has acknowledged comes the SIGNAL bump announcing
   * the command, which wakes it to find the same command again.
   */
  function giveAnnouncedLate(op: number, heap?: Heap): number {
    const x = marker as unknown as MarkerInternals;
    const control = x.control;
    x.seq = (x.seq + 1) & CMD_SEQ_MASK;
    const seq = x.seq;
    if (heap) x.port.postMessage({ seq, heap: heapBuffers(heap) });
    Atomics.store(control, CMD, (seq << CMD_SEQ_SHIFT) | op);
    const deadline = performance.now() + ACK_TIMEOUT_MS;
    while (Atomics.load(control, ACK) !== seq) {
      if (performance.now() > deadline) throw new Error(`the worker did not acknowledge #${seq} (ACK ${Atomics.load(control, ACK)})`);
      Atomics.notify(control, SIGNAL); // again and again: the worker may not be waiting yet
      Atomics.wait(control, ACK, Atomics.load(control, ACK), 1);
    }
    Atomics.add(control, SIGNAL, 1); // the late announcement: the worker wakes and sees the same command
    Atomics.notify(control, SIGNAL);
    return seq;
  }

  it('carries out an ATTACH or STOP seen twice (before and after its SIGNAL bump) once, and marks correctly afterwards', { timeout: 60_000 }, () => {
    const x = marker as unknown as MarkerInternals;
    const control = x.control;
    for (let round = 0; round < 50; round++) {
      const h = heaps[round % heaps.length];
      // ATTACH to h, announced late; then the IDLE that attach() gives after the acknowledgement
      const attachSeq = giveAnnouncedLate(CMD_ATTACH, marker.attachedHeap);
      spin(2000); // the worker, woken by the late bump, looks at the ATTACH again
      expect(Atomics.load(control, ACK)).toBe(attachSeq);
      x.release(CMD_IDLE);
      cleanCycle(h); // a worker stuck on a second ATTACH never acknowledges this remark's STOP

      // STOP announced late in the middle of a cycle, then remark (its own STOP)
      marker.beginCycle(h.m.roots, h.m.sp);
      const stopSeq = giveAnnouncedLate(CMD_STOP);
      spin(2000);
      expect(Atomics.load(control, ACK)).toBe(stopSeq);
      expect(Atomics.load(control, STATE)).toBe(STATE_STOPPED);
      marker.remark(h.m.roots, h.m.sp);
      expect(Atomics.load(control, ACK)).toBe(x.seq - 1); // remark's STOP, then its IDLE
      expect(reachable(h.heap, h.m).filter((o) => !marker.isMarked(o))).toEqual([]);
    }
  });

  it(`survives ${HAND_OVERS} quick attach / begin / SATB / abort / remark hand-overs between ${4} heaps, marking correctly`, { timeout: DEEP ? 3_600_000 : 120_000 }, () => {
    const rnd = seededRandom(4242);
    const commandsBefore = marker.commands;
    const acknowledgedBefore = marker.acknowledged;
    let waiting = 0; // commands that wait for an acknowledgement: attach, and the STOP of abort / remark
    let remarks = 0;
    let aborts = 0;
    let satbEntries = 0;
    const lost: string[] = [];
    for (let i = 0; i < HAND_OVERS && lost.length === 0; i++) {
      const h = heaps[Math.floor(rnd() * heaps.length)];
      const { m, heap, vm } = h;
      if (marker.attachedHeap !== heap || rnd() < 0.2) { marker.attach(heap); waiting++; }
      if (rnd() < 0.5) spin(rnd() * 40);
      let snapshot = reachable(heap, m);
      // hides shrink the graph; regrow it now and then (never during a cycle)
      if (snapshot.length < h.all.length / 4) { rewire(h); snapshot = reachable(heap, m); }
      const pool = snapshot; // the mutator only uses what it can reach
      marker.beginCycle(m.roots, m.sp);
      m.marking = true;
      for (let k = 0, n = Math.floor(rnd() * 6); k < n; k++) {
        const r = rnd();
        if (r < 0.5) { // hide a reference: copy it into another object, clear the source (SATB records it)
          const a = pool[Math.floor(rnd() * pool.length)];
          const b = pool[Math.floor(rnd() * pool.length)];
          const s = Math.floor(rnd() * 3);
          m.setRef(b, Math.floor(rnd() * 3), m.getRef(a, s));
          m.setRef(a, s, 0);
        } else if (r < 0.7) { // hand the SATB buffer over now
          satbEntries += m.satbCount;
          vm.satbBufferFull(m);
        } else if (r < 0.85) {
          void marker.idle;
        } else {
          spin(rnd() * 40);
        }
      }
      satbEntries += m.satbCount;
      vm.satbBufferFull(m);
      m.marking = false;
      if (rnd() < 0.25) { // a discarded cycle
        marker.abort();
        aborts++;
      } else {
        marker.remark(m.roots, m.sp);
        remarks++;
        for (const o of reachable(heap, m)) if (!marker.isMarked(o)) lost.push(`hand-over ${i}: object ${o} reachable from the roots is not marked`);
        for (const o of snapshot) if (!marker.isMarked(o)) lost.push(`hand-over ${i}: object ${o} reachable at the snapshot is not marked`);
      }
      waiting++;
    }
    console.info(`[hand-over] ${HAND_OVERS} hand-overs: ${remarks} remarks, ${aborts} aborts, ${marker.commands - commandsBefore} commands `
      + `(${marker.acknowledged - acknowledgedBefore} acknowledged), ${satbEntries} SATB entries`);
    expect(lost.slice(0, 5)).toEqual([]);
    expect(marker.acknowledged - acknowledgedBefore).toBe(waiting);
    expect(remarks).toBeGreaterThan(HAND_OVERS / 2);
    expect(aborts).toBeGreaterThan(HAND_OVERS / 10);
    expect(satbEntries).toBeGreaterThan(0);
  });
});
