/**
 * A stop-the-world marking from the roots, as every marking pause runs it:
 * clear, mark the roots (event roots-traced, phase mark-roots), complete the
 * closure (event heap-traced, phase mark), and report the work (objectsMarked,
 * bytesMarked). Collectors call it inside collect(), after prepare.
 */
import { EV_HEAP_TRACED, EV_ROOTS_TRACED } from './events.js';
import { WORD_BYTES } from './layout.js';
import type { Tracer } from './tracer.js';
import type { Vm } from './vm.js';

export function markFromRoots(vm: Vm, tracer: Tracer): void {
  const events = vm.events;
  tracer.reset();
  tracer.markRoots(vm.mutators);
  events.emit(EV_ROOTS_TRACED);
  events.phaseEnd('mark-roots');
  tracer.drain();
  events.emit(EV_HEAP_TRACED);
  events.phaseEnd('mark');
  events.count('objectsMarked', tracer.objectsMarked);
  events.count('bytesMarked', tracer.wordsMarked * WORD_BYTES);
}
