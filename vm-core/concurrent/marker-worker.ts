/**
 * The concurrent marker's worker thread (runs as compiled JavaScript:
 * dist/vm-core/concurrent/marker-worker.js). It rebuilds views over the heap,
 * side-metadata, region-table and type-registry buffers, then loops on the
 * control word (see shared-work-list.ts):
 *
 *   read SIGNAL, then CMD
 *   MARK    take the gray stack, run the closure until out of work or CMD changes,
 *           hand the stack back; out of work: DONE_SIGNAL = SIGNAL read, PARKED, wait
 *   STOP    STATE = STOPPED, ACK += 1, notify (the remark pause waits on ACK), wait for CMD to change
 *   ATTACH  take new heap buffers from the message port (synchronously), ACK += 1
 *   IDLE    PARKED, Atomics.wait on SIGNAL
 *   EXIT    leave
 *
 * Waiting is Atomics.wait on SIGNAL with the value read before looking for
 * work, so an enqueue that lands in between makes the wait return at once:
 * no lost wake-ups, no spinning.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { RegionTable } from '../region-table.js';
import { SideMetadata } from '../side-metadata.js';
import { TypeRegistry } from '../type-registry.js';
import {
  ACK, CMD, CMD_ATTACH, CONTROL_INTS, CMD_EXIT, CMD_MARK, CMD_STOP, DONE_SIGNAL, ERROR, F_BUSY_MS, type HeapBuffers, MarkClosure,
  type MarkerBuffers, type MarkHeapViews, SIGNAL, STATE, STATE_BUSY, STATE_EXITED, STATE_FAILED, STATE_PARKED,
  STATE_STOPPED, W_OBJECTS, W_WORDS, writeErrorText,
} from './shared-work-list.js';

interface MarkerWorkerData { buffers: MarkerBuffers; heap: HeapBuffers; port: MessagePort }

function heapViews(b: HeapBuffers): MarkHeapViews {
  const meta = new SideMetadata(b.heapBytes, b.meta);
  const regions = new RegionTable(b.regionCount, b.logRegionWords, b.regions);
  const types = new TypeRegistry(b.types);
  return {
    words: new Int32Array(b.heap),
    bitmap: meta.markBitmap,
    tams: regions.tams,
    liveWords: regions.liveWords,
    regionCount: b.regionCount,
    logRegionWords: b.logRegionWords,
    typeKind: types.kind,
    typeRefs: types.refs,
    typeSize: types.sizeWords,
    elementWords: types.elementWords,
  };
}

function main(data: MarkerWorkerData): void {
  const closure = new MarkClosure(data.buffers, heapViews(data.heap));
  const control = closure.control;
  Atomics.store(control, STATE, STATE_PARKED);
  Atomics.add(control, ACK, 1);
  Atomics.notify(control, ACK);
  for (;;) {
    const signal = Atomics.load(control, SIGNAL);
    const cmd = Atomics.load(control, CMD);
    if (cmd === CMD_EXIT) break;
    if (cmd === CMD_MARK) {
      Atomics.store(control, STATE, STATE_BUSY);
      const t0 = performance.now();
      closure.load();
      closure.resetCounters();
      const done = closure.run(true);
      closure.publish();
      Atomics.add(control, W_OBJECTS, closure.objects);
      Atomics.add(control, W_WORDS, closure.marked);
      closure.timing[F_BUSY_MS] += performance.now() - t0;
      if (!done) continue; // the command changed: act on it
      Atomics.store(control, DONE_SIGNAL, signal);
      Atomics.store(control, STATE, STATE_PARKED);
      Atomics.wait(control, SIGNAL, signal);
    } else if (cmd === CMD_STOP) {
      Atomics.store(control, STATE, STATE_STOPPED);
      Atomics.add(control, ACK, 1);
      Atomics.notify(control, ACK);
      Atomics.wait(control, SIGNAL, signal);
    } else if (cmd === CMD_ATTACH) {
      let msg = receiveMessageOnPort(data.port);
      while (msg === undefined) {
        Atomics.wait(control, SIGNAL, signal, 1);
        msg = receiveMessageOnPort(data.port);
      }
      closure.attach(heapViews((msg.message as { heap: HeapBuffers }).heap));
      Atomics.store(control, STATE, STATE_STOPPED);
      Atomics.add(control, ACK, 1);
      Atomics.notify(control, ACK);
      Atomics.wait(control, SIGNAL, signal);
    } else {
      Atomics.store(control, STATE, STATE_PARKED);
      Atomics.wait(control, SIGNAL, signal);
    }
  }
  Atomics.store(control, STATE, STATE_EXITED);
  Atomics.add(control, ACK, 1);
  Atomics.notify(control, ACK);
  data.port.close();
}

const data = workerData as MarkerWorkerData;
try {
  main(data);
} catch (e) {
  const control = new Int32Array(data.buffers.control, 0, CONTROL_INTS);
  writeErrorText(data.buffers.error, e instanceof Error ? (e.stack ?? e.message) : String(e));
  Atomics.store(control, ERROR, 1);
  Atomics.store(control, STATE, STATE_FAILED);
  Atomics.add(control, ACK, 1);
  Atomics.notify(control, ACK);
  data.port.close();
}
