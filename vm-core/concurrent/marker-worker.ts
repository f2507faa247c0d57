/**
 * The concurrent marker's worker thread (runs as compiled JavaScript:
 * dist/vm-core/concurrent/marker-worker.js). It rebuilds views over the heap,
 * side-metadata, region-table and type-registry buffers, then loops on the
 * control word (see shared-work-list.ts):
 *
 *   read SIGNAL, then the CMD word (op and seq)
 *   MARK    take the gray stack, run the closure until out of work or the CMD word changes,
 *           hand the stack back; out of work: DONE_SIGNAL = SIGNAL read, PARKED, wait
 *   STOP    once per seq: STATE = STOPPED, ACK = seq, notify (the pause waits on ACK); wait
 *   ATTACH  once per seq: take the heap buffers posted with this seq from the message port
 *           (synchronously), ACK = seq; wait
 *   IDLE    PARKED, Atomics.wait on SIGNAL
 *   REBUILD walk the rebuild task (rebuild-scrub.ts) from where it stands until done or the CMD
 *           word changes; done: DONE_SIGNAL = SIGNAL read, PARKED, wait
 *   EXIT    ACK = seq, leave
 *
 * Waiting is Atomics.wait on SIGNAL with the value read before looking for
 * work, so an enqueue or command that lands in between makes the wait return
 * at once: no lost wake-ups, no spinning. Such a wait may also return on a
 * command already carried out (SIGNAL read just before the bump that
 * announced it, CMD just after): the seq makes the second look a no-op
 * (shared-work-list.ts, "The handshake").
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { RegionTable } from '../region-table.js';
import { SideMetadata } from '../side-metadata.js';
import { TypeRegistry } from '../type-registry.js';
import { RebuildScrub, type RebuildViews } from './rebuild-scrub.js';
import {
  ACK, ACK_FAILED, CMD, CMD_ATTACH, CMD_EXIT, CMD_MARK, CMD_OP_MASK, CMD_REBUILD, CMD_SEQ_SHIFT, CMD_STOP, CONTROL_INTS, DONE_SIGNAL, ERROR,
  F_BUSY_MS, F_REBUILD_MS, REB_FRESH, type HeapBuffers, MarkClosure, type MarkerBuffers, type MarkHeapViews, PACE_US, SIGNAL, STATE, STATE_BUSY, STATE_EXITED,
  STATE_FAILED, STATE_PARKED, STATE_STOPPED, W_OBJECTS, W_SATB, W_SATB_OBJECTS, W_WORDS, writeErrorText,
} from './shared-work-list.js';

interface MarkerWorkerData { buffers: MarkerBuffers; heap: HeapBuffers; port: MessagePort }
/** What attach() posts before its ATTACH command: the seq of that command and the heap's buffers. */
export interface AttachMessage { seq: number; heap: HeapBuffers }

function heapViews(b: HeapBuffers): { mark: MarkHeapViews; rebuild: RebuildViews } {
  const meta = new SideMetadata(b.heapBytes, b.meta);
  const regions = new RegionTable(b.regionCount, b.logRegionWords, b.regions);
  const types = new TypeRegistry(b.types);
  const words = new Int32Array(b.heap);
  const task = new Int32Array(b.rebuild ?? new SharedArrayBuffer(4));
  return {
    mark: {
      task,
      words,
      bitmap: meta.markBitmap,
      tams: regions.tams,
      liveWords: regions.liveWords,
      regionCount: b.regionCount,
      logRegionWords: b.logRegionWords,
      typeKind: types.kind,
      typeRefs: types.refs,
      typeSize: types.sizeWords,
      elementWords: types.elementWords,
    },
    rebuild: {
      words,
      bitmap: meta.markBitmap,
      tams: regions.tams,
      kind: regions.kind,
      blockOffsets: meta.blockOffsets,
      refStarts: meta.refStarts,
      refStartsKept: regions.refStartsKept,
      typeKind: types.kind,
      typeRefs: types.refs,
      typeSize: types.sizeWords,
      elementWords: types.elementWords,
      regionCount: b.regionCount,
      logRegionWords: b.logRegionWords,
      task,
    },
  };
}

/**
 * The heap buffers posted for the ATTACH command `word` (seq `seq`): older
 * messages (of attaches that gave up) are skipped. Null when the mutator
 * thread gave up on this one too (CMD moved on) before its message came.
 */
function takeHeap(control: Int32Array, port: MessagePort, word: number, seq: number): HeapBuffers | null {
  for (;;) {
    const signal = Atomics.load(control, SIGNAL);
    for (let msg = receiveMessageOnPort(port); msg !== undefined; msg = receiveMessageOnPort(port)) {
      const m = msg.message as AttachMessage;
      if (m.seq === seq) return m.heap;
    }
    if (Atomics.load(control, CMD) !== word) return null;
    // the message was posted before CMD was written; it crosses threads on its own: look again shortly
    Atomics.wait(control, SIGNAL, signal, 1);
  }
}

function acknowledge(control: Int32Array, state: number, seq: number): void {
  Atomics.store(control, STATE, state);
  Atomics.store(control, ACK, seq);
  Atomics.notify(control, ACK);
}

function main(data: MarkerWorkerData): void {
  const views = heapViews(data.heap);
  const closure = new MarkClosure(data.buffers, views.mark);
  const control = closure.control;
  const rebuild = new RebuildScrub(control, new Int32Array(data.buffers.pairs), views.rebuild);
  /** The seq of the last STOP / ATTACH carried out: each is carried out once, however often it is seen. */
  let handled = -1;
  Atomics.store(control, STATE, STATE_PARKED); // ready
  Atomics.notify(control, ACK);
  for (;;) {
    const signal = Atomics.load(control, SIGNAL);
    const word = Atomics.load(control, CMD);
    const op = word & CMD_OP_MASK;
    const seq = word >>> CMD_SEQ_SHIFT;
    if (op === CMD_EXIT) {
      data.port.close();
      acknowledge(control, STATE_EXITED, seq);
      return;
    }
    if (op === CMD_MARK) {
      Atomics.store(control, STATE, STATE_BUSY);
      const t0 = performance.now();
      closure.load();
      closure.resetCounters();
      closure.runWord = word;
      closure.paceUs = Atomics.load(control, PACE_US);
      const done = closure.run(true);
      closure.publish();
      Atomics.add(control, W_OBJECTS, closure.objects);
      Atomics.add(control, W_WORDS, closure.marked);
      Atomics.add(control, W_SATB, closure.satbTaken);
      Atomics.add(control, W_SATB_OBJECTS, closure.satbObjects);
      closure.timing[F_BUSY_MS] += performance.now() - t0;
      if (!done) continue; // the command changed: act on it
      Atomics.store(control, DONE_SIGNAL, signal);
      Atomics.store(control, STATE, STATE_PARKED);
    } else if (op === CMD_REBUILD) {
      Atomics.store(control, STATE, STATE_BUSY);
      const t0 = performance.now();
      if (Atomics.exchange(control, REB_FRESH, 0) === 1) rebuild.startTask();
      const done = rebuild.run(word);
      rebuild.publishCounters();
      closure.timing[F_REBUILD_MS] += performance.now() - t0;
      if (!done) continue;
      Atomics.store(control, DONE_SIGNAL, signal);
      Atomics.store(control, STATE, STATE_PARKED);
    } else if (op === CMD_STOP || op === CMD_ATTACH) {
      if (seq !== handled) {
        if (op === CMD_ATTACH) {
          const heap = takeHeap(control, data.port, word, seq);
          if (heap === null) continue; // given up: act on what CMD holds now
          const v = heapViews(heap);
          closure.attach(v.mark);
          rebuild.attach(v.rebuild);
        }
        handled = seq;
        acknowledge(control, STATE_STOPPED, seq); // after publish/attach: the stack and views are handed over
      }
    } else {
      Atomics.store(control, STATE, STATE_PARKED);
    }
    Atomics.wait(control, SIGNAL, signal);
  }
}

const data = workerData as MarkerWorkerData;
try {
  main(data);
} catch (e) {
  const control = new Int32Array(data.buffers.control, 0, CONTROL_INTS);
  writeErrorText(data.buffers.error, e instanceof Error ? (e.stack ?? e.message) : String(e));
  Atomics.store(control, ERROR, 1);
  acknowledge(control, STATE_FAILED, ACK_FAILED);
  data.port.close();
}
