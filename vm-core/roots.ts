/**
 * Root slots: a stack of references per mutator, in shared memory so a
 * collector (or a worker thread) can scan and update them.
 *
 * The contract (DESIGN.md, "Mutators"): a reference held across anything that
 * may allocate must live in a root slot, because objects move. A workload
 * pushes a reference and keeps the slot index; after an allocation it reads
 * the (possibly updated) reference back with `get(slot)`.
 *
 *   slots  [ 0 | 1 | 2 | ... | sp-1 | unused ... capacity )
 *                                ^ sp: first free slot; frames are saved sp values
 *
 * The root stack is a plain Int32Array; its stack pointer lives on the
 * mutator object for speed and is published to `published[0]` whenever the
 * mutator stops for a pause.
 */
import { UsageError } from './errors.js';

export const DEFAULT_ROOT_SLOTS = 1 << 20;

export class RootStack {
  readonly buffer: SharedArrayBuffer;
  readonly slots: Int32Array;
  /** [0]: the stack pointer as of the last pause. */
  readonly published: Int32Array;

  constructor(readonly capacity: number = DEFAULT_ROOT_SLOTS) {
    this.buffer = new SharedArrayBuffer((capacity + 2) * 4);
    this.published = new Int32Array(this.buffer, 0, 2);
    this.slots = new Int32Array(this.buffer, 8, capacity);
  }

  overflow(): never {
    throw new UsageError(`root stack overflow: more than ${this.capacity} root slots in use (raise --root-slots)`);
  }
}
