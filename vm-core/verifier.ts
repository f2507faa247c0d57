/**
 * The heap verifier, an independent walk of the heap in the spirit of MMTk's
 * sanity GC and HotSpot's VerifyBeforeGC/VerifyAfterGC. It trusts nothing the
 * collector computed except the region table it checks.
 *
 * Levels: off | debug | extreme. At debug and above, before and after every
 * pause:
 *   1. parseability   every used region walks object by object from bottom to
 *                     top; each header has a valid type and NORMAL state; sizes
 *                     end exactly at top; humongous runs are well formed
 *   2. references     every reference slot of every object, and every root,
 *                     is null or the start of a non-filler object in a non-free region
 *   3. reachability   nothing reachable from the roots lies in a collection-set or
 *                     evacuation-failed region, or is forwarded
 *   4. accounting     free regions are exactly the free list; used words add up to
 *                     what the collector reports
 *   6. ref starts     in a region whose ref-starts bits are kept (side-metadata.ts), the
 *                     bits mark exactly the objects with reference slots
 * At extreme, also:
 *   5. block offsets  every card's block-offset entry names the object covering it
 * and the collector's own checkInvariants runs at every level above off.
 */
import { VerificationError } from './errors.js';
import * as layout from './layout.js';
import * as regionTable from './region-table.js';
import { countMarks, isMarked } from './side-metadata.js';
import * as typeRegistry from './type-registry.js';
import type { Vm } from './vm.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_KIND_NAMES } = regionTable;
const { CARD_WORDS, HEADER_WORDS, LOG_CARD_WORDS, STATE_FORWARDED, STATE_MASK, STATE_NORMAL, TYPE_SHIFT } = layout;
const { FILLER_TYPE_ID, TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

export type VerifyLevel = 'off' | 'debug' | 'extreme';
export const VERIFY_LEVELS: VerifyLevel[] = ['off', 'debug', 'extreme'];

const MAX_PROBLEMS = 20;

export class Verifier {
  private starts: Int32Array | null = null;
  private visited: Int32Array | null = null;
  private stack = new Int32Array(1024);
  verifications = 0;
  totalMs = 0;

  constructor(private readonly vm: Vm, public level: VerifyLevel) {}

  /** Verifies at the configured level (or the one given); throws VerificationError on the first problems found. */
  verifyHeap(when: string, level: VerifyLevel = this.level): void {
    if (level === 'off') return;
    const t0 = performance.now();
    const problems = this.check(level);
    this.vm.collector.checkInvariants?.(when, problems);
    this.verifications++;
    this.totalMs += performance.now() - t0;
    if (problems.length > 0) throw new VerificationError(when, problems);
  }

  /** Runs the checks and returns the problems found (empty when the heap is sound). */
  check(level: VerifyLevel): string[] {
    const problems: string[] = [];
    const heap = this.vm.heap;
    const wordsPerStartBit = 2;
    const bitWords = Math.ceil(heap.heapWords / wordsPerStartBit / 32);
    if (!this.starts || this.starts.length !== bitWords) this.starts = new Int32Array(bitWords);
    else this.starts.fill(0);
    this.walkRegions(problems, level === 'extreme');
    if (problems.length === 0) this.checkReferences(problems);
    if (problems.length === 0) this.checkReachable(problems);
    this.checkAccounting(problems);
    return problems.slice(0, MAX_PROBLEMS);
  }

  private add(problems: string[], text: string): void {
    if (problems.length < MAX_PROBLEMS) problems.push(text);
  }

  private isStart(ref: number): boolean {
    return ((this.starts![ref >> 6] >>> ((ref >> 1) & 31)) & 1) !== 0;
  }

  private setStart(ref: number): void {
    this.starts![ref >> 6] |= 1 << ((ref >> 1) & 31);
  }

  /** Size of the object at obj as its header says, or -1 when the header is not a valid object. */
  private validSize(obj: number): number {
    const heap = this.vm.heap;
    const words = heap.words;
    const header = words[obj];
    if (header < 0 || (header & STATE_MASK) !== STATE_NORMAL) return -1;
    const type = header >>> TYPE_SHIFT;
    if (!heap.types.isValid(type)) return -1;
    if (heap.types.kind[type] !== TYPE_STRUCT && words[obj + 1] < 0) return -1;
    return heap.sizeOf(obj);
  }

  // 1. parseability (and 5. block offsets at extreme)
  private walkRegions(problems: string[], checkBlockOffsets: boolean): void {
    const heap = this.vm.heap;
    const regions = heap.regions;
    const bot = heap.meta.blockOffsets;
    for (let r = 0; r < heap.regionCount; r++) {
      const kind = regions.kind[r];
      const bottom = regions.bottom(r);
      const top = regions.top[r];
      if (kind > 6) { this.add(problems, `region ${r}: unknown kind ${kind}`); continue; }
      if (top < bottom || top > regions.end(r)) { this.add(problems, `region ${r} (${REGION_KIND_NAMES[kind]}): top ${top} outside [${bottom}, ${regions.end(r)}]`); continue; }
      if (kind === REGION_FREE) {
        if (top !== bottom) this.add(problems, `region ${r}: free but top ${top} != bottom ${bottom}`);
        if (!heap.free.has(r) && !heap.isQuarantined(r)) this.add(problems, `region ${r}: free but neither on the free list nor quarantined`);
        continue;
      }
      if (heap.free.has(r)) this.add(problems, `region ${r} (${REGION_KIND_NAMES[kind]}): in use but on the free list`);
      if (kind === REGION_HUMONGOUS_CONT) {
        const first = regions.humongousStart[r];
        if (first < 0 || first >= r || regions.kind[first] !== REGION_HUMONGOUS_START) this.add(problems, `region ${r}: humongous continuation without a start region`);
        continue;
      }
      if (kind === REGION_HUMONGOUS_START) {
        const size = this.validSize(bottom);
        if (size < 0) { this.add(problems, `region ${r}: humongous start without a valid object at ${bottom}`); continue; }
        const n = Math.ceil(size / heap.regionWords);
        for (let k = 1; k < n; k++) {
          if (regions.kind[r + k] !== REGION_HUMONGOUS_CONT || regions.humongousStart[r + k] !== r) {
            this.add(problems, `region ${r + k}: should continue the humongous object of region ${r}`);
          }
        }
        const lastTop = regions.top[r + n - 1];
        if (lastTop !== bottom + size) this.add(problems, `humongous object at ${bottom}: ends at ${bottom + size} but its last region's top is ${lastTop}`);
        this.setStart(bottom);
        if (checkBlockOffsets) {
          for (let c = (bottom + CARD_WORDS - 1) >> LOG_CARD_WORDS, last = (bottom + size - 1) >> LOG_CARD_WORDS; c <= last; c++) {
            if (bot[c] !== bottom) { this.add(problems, `card ${c}: block offset ${bot[c]}, expected humongous object ${bottom}`); break; }
          }
        }
        continue;
      }
      // an ordinary region: walk from its first word (region 0 starts with the reserved filler)
      let obj = r << heap.logRegionWords;
      const refStartsKept = regions.refStartsKept[r] !== 0;
      let objectsWithSlots = 0;
      while (obj < top) {
        if ((heap.words[obj] & STATE_MASK) === STATE_FORWARDED) {
          this.add(problems, `region ${r}: object at ${obj} is forwarded (to ${heap.words[obj + 1]}) outside a pause`);
          break;
        }
        const size = this.validSize(obj);
        if (size < 2) {
          this.add(problems, `region ${r} (${REGION_KIND_NAMES[kind]}): no valid object header at word ${obj} (header ${heap.words[obj]}); walk broken`);
          break;
        }
        if (obj + size > top) {
          this.add(problems, `region ${r}: object at ${obj} of ${size} words runs past top ${top}`);
          break;
        }
        this.setStart(obj);
        if (refStartsKept) {
          const type = heap.words[obj] >>> TYPE_SHIFT;
          const hasSlots = heap.types.kind[type] === TYPE_STRUCT ? heap.types.refs[type] !== 0 : heap.types.kind[type] === TYPE_REF_ARRAY;
          if (hasSlots) objectsWithSlots++;
          if (isMarked(heap.meta.refStarts, obj) !== hasSlots) {
            this.add(problems, `region ${r} (${REGION_KIND_NAMES[kind]}, ref starts kept): object at ${obj} (type id ${type}) ${hasSlots ? 'has slots but no ref-starts bit' : 'has no slots but a ref-starts bit'}`);
            break;
          }
        }
        if (checkBlockOffsets && (((obj - 1) ^ (obj + size - 1)) >> LOG_CARD_WORDS) !== 0) {
          for (let c = (obj + CARD_WORDS - 1) >> LOG_CARD_WORDS, last = (obj + size - 1) >> LOG_CARD_WORDS; c <= last; c++) {
            if (bot[c] !== obj) { this.add(problems, `card ${c}: block offset ${bot[c]}, expected ${obj}`); break; }
          }
        }
        obj += size;
      }
      if (refStartsKept && obj >= top) { // (a walk that stopped at a problem has counted only part of the region)
        const bits = countMarks(heap.meta.refStarts, r << heap.logRegionWords, regions.end(r));
        if (bits !== objectsWithSlots) this.add(problems, `region ${r} (${REGION_KIND_NAMES[kind]}, ref starts kept): ${bits} ref-starts bits for ${objectsWithSlots} objects with slots`);
      }
    }
  }

  private badReference(ref: number): string | null {
    const heap = this.vm.heap;
    if (ref < 0 || ref >= heap.heapWords || (ref & 1) !== 0) return 'outside the heap or misaligned';
    const r = heap.regionOf(ref);
    if (heap.regions.kind[r] === REGION_FREE) return `into free region ${r}`;
    if (!this.isStart(ref)) return `not an object start (region ${r}, ${REGION_KIND_NAMES[heap.regions.kind[r]]})`;
    if (heap.words[ref] >>> TYPE_SHIFT === FILLER_TYPE_ID) return 'to a filler';
    return null;
  }

  // 2. references from every object (live or dead) and from every root
  private checkReferences(problems: string[]): void {
    const heap = this.vm.heap;
    const words = heap.words;
    const regions = heap.regions;
    for (let r = 0; r < heap.regionCount && problems.length < MAX_PROBLEMS; r++) {
      const kind = regions.kind[r];
      if (kind === REGION_FREE || kind === REGION_HUMONGOUS_CONT) continue;
      let obj = kind === REGION_HUMONGOUS_START ? regions.bottom(r) : r << heap.logRegionWords;
      const top = kind === REGION_HUMONGOUS_START ? obj + 1 : regions.top[r];
      while (obj < top) {
        const n = this.refSlots(obj);
        for (let s = obj + HEADER_WORDS; s < obj + HEADER_WORDS + n; s++) {
          const ref = words[s];
          if (ref === 0) continue;
          const bad = this.badReference(ref);
          if (bad) this.add(problems, `object at ${obj} (${heap.types.info(words[obj] >>> TYPE_SHIFT).name}) slot ${s - obj - HEADER_WORDS}: reference ${ref} ${bad}`);
        }
        obj += heap.sizeOf(obj);
      }
    }
    for (const m of this.vm.mutators) {
      for (let i = 0; i < m.sp; i++) {
        const ref = m.roots[i];
        if (ref === 0) continue;
        const bad = this.badReference(ref);
        if (bad) this.add(problems, `mutator ${m.id} root slot ${i}: reference ${ref} ${bad}`);
      }
    }
  }

  private refSlots(obj: number): number {
    const heap = this.vm.heap;
    const type = heap.words[obj] >>> TYPE_SHIFT;
    const kind = heap.types.kind[type];
    return kind === TYPE_STRUCT ? heap.types.refs[type] : kind === TYPE_REF_ARRAY ? heap.words[obj + 1] : 0;
  }

  // 3. the graph reachable from the roots
  private checkReachable(problems: string[]): void {
    const heap = this.vm.heap;
    const words = heap.words;
    const regions = heap.regions;
    const bitWords = this.starts!.length;
    if (!this.visited || this.visited.length !== bitWords) this.visited = new Int32Array(bitWords);
    else this.visited.fill(0);
    const visited = this.visited;
    let sp = 0;
    const visit = (ref: number) => {
      const i = ref >> 6;
      const bit = 1 << ((ref >> 1) & 31);
      if ((visited[i] & bit) !== 0) return;
      visited[i] |= bit;
      if (sp === this.stack.length) { const s = new Int32Array(sp * 2); s.set(this.stack); this.stack = s; }
      this.stack[sp++] = ref;
    };
    for (const m of this.vm.mutators) for (let i = 0; i < m.sp; i++) if (m.roots[i] !== 0) visit(m.roots[i]);
    while (sp > 0 && problems.length < MAX_PROBLEMS) {
      const obj = this.stack[--sp];
      const r = heap.regionOf(obj);
      if ((words[obj] & STATE_MASK) !== STATE_NORMAL) this.add(problems, `reachable object at ${obj} is forwarded or busy`);
      if (regions.inCset[r] !== 0) this.add(problems, `reachable object at ${obj} lies in collection-set region ${r}`);
      if (regions.evacFailed[r] !== 0) this.add(problems, `reachable object at ${obj} lies in region ${r} still flagged evacuation-failed`);
      const n = this.refSlots(obj);
      for (let s = obj + HEADER_WORDS; s < obj + HEADER_WORDS + n; s++) if (words[s] !== 0) visit(words[s]);
    }
  }

  // 4. region accounting
  private checkAccounting(problems: string[]): void {
    const heap = this.vm.heap;
    let freeRegions = 0;
    for (let r = 0; r < heap.regionCount; r++) if (heap.regions.kind[r] === REGION_FREE) freeRegions++;
    const listed = heap.free.length + heap.quarantinedRegions;
    if (freeRegions !== listed) this.add(problems, `accounting: ${freeRegions} free regions but the free list and quarantine hold ${listed}`);
    const used = heap.usedWords();
    const reported = this.vm.collector.usedWords();
    if (used !== reported) this.add(problems, `accounting: regions hold ${used} used words but collector ${this.vm.plugin.name} reports ${reported}`);
  }
}
