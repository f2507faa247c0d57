/**
 * The evacuation worker: GC thread 1 of parallel evacuation pauses (runs as
 * compiled JavaScript, dist/collectors/region/evacuation-worker.js; driven by
 * evacuation-threads.ts). One per process, started once and reused by every
 * heap. It loops on its command word:
 *
 *   read SIGNAL, then CMD (op | seq << 4); a seq not yet done:
 *     ATTACH    take the heap's and the pause state's buffers posted with this seq from
 *               the port (synchronously); build an EvacuationClosure over them
 *     EVACUATE  run this thread's share of the pause (EvacuationClosure.run), post the
 *               result (counters, claimed regions, remembered-set entries) on the port
 *     EXIT      leave
 *   then DONE = seq, notify; otherwise Atomics.wait on SIGNAL with the value read
 *   first, so a command that lands in between wakes it at once.
 * An exception is written to the error buffer, STATE = FAILED, DONE = seq.
 * It warms its JIT up (evacuation-warmup.ts) before it reports ready.
 */
import { type MessagePort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { HeapBuffers } from '../../vm-core/concurrent/shared-work-list.js';
import { RegionTable } from '../../vm-core/region-table.js';
import { SideMetadata } from '../../vm-core/side-metadata.js';
import { TypeRegistry } from '../../vm-core/type-registry.js';
import { EvacuationClosure, type EvacuationHeapViews } from './evacuation-closure.js';
import { warmUpEvacuation } from './evacuation-warmup.js';
import {
  CMD, CMD_ATTACH, CMD_EVACUATE, CMD_EXIT, CMD_OP_MASK, CMD_SEQ_SHIFT, DONE, type EvacuationBuffers, evacuationViews, SIGNAL, STATE,
  STATE_FAILED, STATE_READY, writeError,
} from './evacuation-shared.js';

/** What attach posts before its ATTACH command. */
export interface EvacuationAttachMessage { seq: number; heap: HeapBuffers; evacuation: EvacuationBuffers }
interface WorkerData { control: SharedArrayBuffer; error: SharedArrayBuffer; port: MessagePort }

export function heapViewsFromBuffers(b: HeapBuffers): EvacuationHeapViews {
  const meta = new SideMetadata(b.heapBytes, b.meta);
  const regions = new RegionTable(b.regionCount, b.logRegionWords, b.regions);
  const types = new TypeRegistry(b.types);
  return {
    words: new Int32Array(b.heap),
    typeKind: types.kind,
    typeRefs: types.refs,
    typeSize: types.sizeWords,
    elementWords: types.elementWords,
    leafWords: types.leafWords,
    slotShape: types.slotShape,
    regionKind: regions.kind,
    regionTop: regions.top,
    liveWords: regions.liveWords,
    evacFailed: regions.evacFailed,
    humongousStart: regions.humongousStart,
    cards: meta.cards,
    blockOffsets: meta.blockOffsets,
    refStarts: meta.refStarts,
    refStartsKept: regions.refStartsKept,
    logRegionWords: b.logRegionWords,
  };
}

function takeAttach(port: MessagePort, seq: number): EvacuationAttachMessage {
  for (;;) {
    const got = receiveMessageOnPort(port);
    if (got === undefined) throw new Error(`evacuation worker: no buffers posted for attach ${seq}`);
    const message = got.message as EvacuationAttachMessage;
    if (message.seq === seq) return message;
  }
}

function main(data: WorkerData): void {
  const control = new Int32Array(data.control);
  let closure: EvacuationClosure | null = null;
  let lastSeq = 0;
  // optimize the copying loops before the first pause needs them, then report ready: a pause
  // never waits for this thread's warm-up (until ready, pauses run on the mutator thread alone)
  try {
    warmUpEvacuation();
  } catch {
    // a failed warm-up only costs speed
  }
  Atomics.store(control, STATE, STATE_READY);
  Atomics.notify(control, STATE);
  for (;;) {
    const signal = Atomics.load(control, SIGNAL);
    const cmd = Atomics.load(control, CMD);
    const seq = cmd >>> CMD_SEQ_SHIFT;
    if (seq === lastSeq) {
      Atomics.wait(control, SIGNAL, signal);
      continue;
    }
    lastSeq = seq;
    const op = cmd & CMD_OP_MASK;
    try {
      if (op === CMD_EXIT) {
        Atomics.store(control, DONE, seq);
        Atomics.notify(control, DONE);
        return;
      }
      if (op === CMD_ATTACH) {
        const message = takeAttach(data.port, seq);
        closure = new EvacuationClosure(heapViewsFromBuffers(message.heap), evacuationViews(message.evacuation));
      } else if (op === CMD_EVACUATE) {
        if (closure === null) throw new Error('evacuation worker: evacuate before attach');
        closure.begin(true, 1);
        closure.run();
        // fresh copies of just the used entries (a view would clone its whole buffer), cloned, not
        // transferred: transferring detaches the sender's buffer, and the first detach in an isolate
        // invalidates V8's ArrayBufferDetaching protector, which deoptimizes every function that
        // indexes a typed array and recompiles each with a detach check on every access
        const result = closure.result();
        data.port.postMessage({ seq, result: { ...result, pairs: result.pairs.slice(), claimed: result.claimed.slice(), redirtied: result.redirtied.slice() } });
      }
    } catch (e) {
      closure?.abort();
      writeError(data.error, e instanceof Error ? e.stack ?? e.message : String(e));
      Atomics.store(control, STATE, STATE_FAILED);
    }
    Atomics.store(control, DONE, seq);
    Atomics.notify(control, DONE);
  }
}

main(workerData as WorkerData);
