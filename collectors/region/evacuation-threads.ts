/**
 * The mutator thread's handle on the evacuation worker (evacuation-worker.ts):
 * one worker per process, spawned the first time a parallel pause asks for it
 * and reused by every heap after; unref'd, so it never keeps the process alive.
 *
 *   mutator thread (GC thread 0)                    evacuation worker (GC thread 1)
 *   attach: post buffers, CMD=ATTACH, SIGNAL++ ──▶  take buffers, build its closure
 *           wait DONE == seq  ◀───────────────────  DONE = seq, notify
 *   start:  CMD=EVACUATE, SIGNAL++, notify ──────▶  closure.run() ... post result
 *   (runs its own closure meanwhile)
 *   finish: wait DONE == seq  ◀───────────────────  DONE = seq, notify
 *           take the result from the port
 *
 * Spawning takes ~40 ms and the worker's JIT warm-up ~150 ms more; it reports
 * ready after both. Until then pauses simply run on one thread (`available`
 * is false): no pause waits for it (a collector of a large heap waits at its
 * creation instead, young-evacuation.ts). A
 * worker that fails makes every later pause serial, after the failed pause
 * has reported the error.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { HeapBuffers } from '../../vm-core/concurrent/shared-work-list.js';
import {
  CMD, CMD_ATTACH, CMD_EVACUATE, CMD_SEQ_SHIFT, CONTROL_INTS, DONE, ERROR_BYTES, type EvacuationBuffers, readError, SIGNAL, STATE,
  STATE_FAILED, STATE_READY, STATE_STARTING, type ThreadResult,
} from './evacuation-shared.js';
import type { EvacuationAttachMessage } from './evacuation-worker.js';

/** How long the mutator thread waits for the worker before declaring it hung. */
const WAIT_LIMIT_MS = 60_000;

function workerUrl(): URL {
  const here = import.meta.url;
  if (here.endsWith('.js')) return new URL('./evacuation-worker.js', here);
  return new URL('../../dist/collectors/region/evacuation-worker.js', here);
}

export class EvacuationWorker {
  private static shared: EvacuationWorker | null = null;
  private static spawnFailed = false;

  /**
   * The process's worker, spawning it on first use; null if it cannot run or,
   * after waiting up to `startWaitMs` for it, while it is still starting.
   */
  static get(startWaitMs = 0): EvacuationWorker | null {
    if (EvacuationWorker.shared === null) {
      if (EvacuationWorker.spawnFailed) return null;
      const url = workerUrl();
      if (url.protocol === 'file:' && !existsSync(fileURLToPath(url))) {
        EvacuationWorker.spawnFailed = true; // not built: pauses stay serial
        return null;
      }
      EvacuationWorker.shared = new EvacuationWorker(url);
    }
    const w = EvacuationWorker.shared;
    if (startWaitMs > 0 && !w.failed && Atomics.load(w.control, STATE) === STATE_STARTING) {
      Atomics.wait(w.control, STATE, STATE_STARTING, startWaitMs); // the worker notifies STATE once ready
    }
    return w.available ? w : null;
  }

  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_INTS * 4));
  private readonly error = new SharedArrayBuffer(ERROR_BYTES);
  private seq = 0;
  private signal = 0;
  private attachedTo: object | null = null;
  private failed = false;

  private constructor(url: URL) {
    const { port1, port2 } = new MessageChannel();
    this.worker = new Worker(url, { workerData: { control: this.control.buffer, error: this.error, port: port2 }, transferList: [port2] });
    this.worker.unref();
    port1.unref();
    this.port = port1;
    this.worker.on('error', () => { this.failed = true; });
  }

  get available(): boolean {
    return !this.failed && Atomics.load(this.control, STATE) === STATE_READY;
  }

  private command(op: number): number {
    this.seq++;
    Atomics.store(this.control, CMD, op | (this.seq << CMD_SEQ_SHIFT));
    Atomics.store(this.control, SIGNAL, ++this.signal);
    Atomics.notify(this.control, SIGNAL);
    return this.seq;
  }

  private waitDone(seq: number, what: string): void {
    const control = this.control;
    const deadline = performance.now() + WAIT_LIMIT_MS;
    for (;;) {
      const done = Atomics.load(control, DONE);
      if (done === seq) break;
      if (performance.now() > deadline) {
        this.failed = true;
        throw new Error(`parallel evacuation: the worker did not finish ${what} within ${WAIT_LIMIT_MS / 1000} s`);
      }
      Atomics.wait(control, DONE, done, 100);
    }
    if (Atomics.load(control, STATE) === STATE_FAILED) {
      this.failed = true;
      throw new Error(`parallel evacuation: the worker failed: ${readError(this.error)}`);
    }
  }

  /** Makes the worker work on this heap and pause state (once per owner; `owner` identifies them). */
  attach(owner: object, heap: HeapBuffers, evacuation: EvacuationBuffers): void {
    if (this.attachedTo === owner) return;
    const message: EvacuationAttachMessage = { seq: this.seq + 1, heap, evacuation };
    this.port.postMessage(message);
    const seq = this.command(CMD_ATTACH);
    this.waitDone(seq, 'attaching to a heap');
    this.attachedTo = owner;
  }

  /** Starts the worker's share of the pause (the shared control words must be set). */
  start(): number {
    return this.command(CMD_EVACUATE);
  }

  /** Waits for the worker's share started by `start` and returns its result. */
  finish(seq: number): ThreadResult {
    this.waitDone(seq, 'its share of the pause');
    for (;;) {
      const got = receiveMessageOnPort(this.port);
      if (got === undefined) {
        this.failed = true;
        throw new Error('parallel evacuation: the worker finished without posting its result');
      }
      const message = got.message as { seq: number; result: ThreadResult };
      if (message.seq === seq) return message.result;
    }
  }
}
