/**
 * The persistence verifier, run at commits (and by the heap verifier after a
 * committing pause at --verify debug|extreme, and by tests):
 *
 *   1. placement   every object reachable from a persistent root lies in a
 *                  persistent region (flagged old region or adopted humongous run)
 *   2. image       the committed image's graph equals the heap's persistent
 *                  subgraph: the same roots, and every object reachable from them
 *                  has exactly the same words (header, references, data) in the
 *                  image as in the heap, at the same address. Since references
 *                  are addresses, equal words at equal addresses along the whole
 *                  traversal make the two graphs identical.
 *
 * Problems are appended as one-line strings (at most `max`), as the heap
 * verifier does.
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import type { PersistentRoots } from '../../vm-core/persistent-roots.js';
import * as regionTable from '../../vm-core/region-table.js';
import type { RecoveredImage } from './image-format.js';

const { HEADER_WORDS, PERSIST_MARK, TYPE_SHIFT } = layout;
const { PERSISTENT_REGION } = regionTable;

const MAX_PROBLEMS = 20;

/** Calls visit(obj) once for every object reachable from the persistent roots (heap graph). */
function forEachPersistent(heap: Heap, roots: PersistentRoots, visit: (obj: number) => boolean): void {
  const words = heap.words;
  const seen = new Set<number>();
  const stack: number[] = [];
  for (let i = 0; i < roots.count; i++) {
    const v = roots.ref(i);
    if (v !== 0 && !seen.has(v)) { seen.add(v); stack.push(v); }
  }
  while (stack.length > 0) {
    const obj = stack.pop()!;
    if (!visit(obj)) return;
    const n = heap.refCount(obj);
    for (let s = obj + HEADER_WORDS, end = s + n; s < end; s++) {
      const v = words[s];
      if (v !== 0 && !seen.has(v)) { seen.add(v); stack.push(v); }
    }
  }
}

/** 1. Every object reachable from a persistent root lies in a persistent region. */
export function checkPlacement(heap: Heap, roots: PersistentRoots, problems: string[], max = MAX_PROBLEMS): number {
  let objects = 0;
  forEachPersistent(heap, roots, (obj) => {
    objects++;
    const r = obj >> heap.logRegionWords;
    if (heap.regions.persistent[r] !== PERSISTENT_REGION) {
      problems.push(`persistence: object at ${obj} (${heap.types.info(heap.words[obj] >>> TYPE_SHIFT).name}) is reachable from a persistent root but lies in region ${r} (${regionTable.REGION_KIND_NAMES[heap.regions.kind[r]]}), which is not persistent`);
    }
    return problems.length < max;
  });
  return objects;
}

/** 2. The image's graph equals the heap's persistent subgraph (same roots, same words at the same addresses). */
export function compareImage(heap: Heap, roots: PersistentRoots, image: RecoveredImage, problems: string[], max = MAX_PROBLEMS): number {
  const heapRoots = roots.entries();
  const names = new Set([...Object.keys(heapRoots), ...Object.keys(image.roots)]);
  for (const name of names) {
    if (heapRoots[name] !== image.roots[name]) problems.push(`persistence: root '${name}' is ${heapRoots[name] ?? 'absent'} in the heap but ${image.roots[name] ?? 'absent'} in image epoch ${image.epoch}`);
  }
  const words = heap.words;
  const log = heap.logRegionWords;
  let objects = 0;
  forEachPersistent(heap, roots, (obj) => {
    objects++;
    const r = obj >> log;
    const region = image.regions.get(r);
    const size = heap.sizeOf(obj);
    const offset = obj - (r << log);
    if (!region || offset + Math.min(size, heap.regionWords - offset) > region.length) {
      problems.push(`persistence: object at ${obj} is not in image epoch ${image.epoch} (region ${r} ${region ? `holds ${region.length} words` : 'is missing'})`);
      return problems.length < max;
    }
    // a humongous object continues into the following regions
    for (let w = 0; w < size; w++) {
      const a = obj + w;
      const ra = a >> log;
      const img = ra === r ? region : image.regions.get(ra);
      const ia = a - (ra << log);
      let expected = words[a];
      let got = img && ia < img.length ? img[ia] : undefined;
      if (w === 0) { expected &= ~PERSIST_MARK; got = got === undefined ? got : got & ~PERSIST_MARK; }
      if (got !== expected) {
        problems.push(`persistence: object at ${obj} (${heap.types.info(words[obj] >>> TYPE_SHIFT).name}) word ${w} is ${expected} in the heap but ${got ?? 'missing'} in image epoch ${image.epoch}`);
        break;
      }
    }
    return problems.length < max;
  });
  const types = heap.types;
  for (let id = 0; id < Math.min(types.count, image.types.length); id++) {
    const t = types.info(id);
    const it = image.types[id];
    if (it.name !== t.name || it.kind !== t.kind || it.refs !== t.refs || it.dataWords !== t.dataWords || it.elementWords !== t.elementWords) {
      problems.push(`persistence: type ${id} is '${t.name}' in the heap but '${it.name}' in image epoch ${image.epoch}`);
    }
  }
  return objects;
}
