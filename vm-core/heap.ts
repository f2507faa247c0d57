/**
 * The heap: one SharedArrayBuffer of object memory cut into fixed-size,
 * power-of-two regions, with the region table, the free-region list, the type
 * registry and the side metadata beside it.
 *
 *   word 0                    regionWords              2*regionWords      heapWords
 *   |<-------- region 0 ------>|<-------- region 1 ----->|  ...   |<- region n-1 ->|
 *   [F][obj][obj][obj]....[top)  [obj][obj]...[top)                 [ humongous  ...
 *    ^ 2-word filler: reference 0 is null
 *
 * Objects never cross a region boundary, except humongous objects (at least
 * half a region), which start at the bottom of a run of contiguous regions
 * (HUMONGOUS_START then HUMONGOUS_CONT). Every region is parseable from its
 * bottom to its top: each word belongs to an object or a filler.
 *
 * The block-offset table holds, for every card, the start of the object that
 * covers the card's first word; it is kept by every allocation that crosses a
 * card boundary (see `recordObjectStart`) and by every filler.
 *
 * Residency: the OS backs a page of the buffer with memory the first time it
 * is written, and that first touch is slow (2-9 us per 4 KiB page on the
 * project's VMs: docs/methodology.md). `resident[r]` says region r has been
 * claimed before, so its pages are backed. Copy destinations, claimed inside
 * pauses, take resident regions first; mutator allocation regions, which the
 * mutator zeroes at TLAB refill outside any pause, take fresh regions first.
 * And while the free resident regions are fewer than the next pause could
 * fill (the mutator regions claimed since the last pause, plus an eighth for
 * survivors), each mutator claim also writes every page of the highest fresh
 * free region (it stays free, now resident): so even the first pause, which finds
 * no region freed before it, copies into touched memory. The first-touch cost
 * falls on the mutator, as -XX:+AlwaysPreTouch moves it to start-up, without
 * pre-touching the whole heap up front.
 *
 *   PAGE_WORDS  the OS page: 4 KiB = 1024 words; pre-faulting writes 0 to one
 *               word of each (a fresh region's memory is all zero already)
 */
import { VerificationError } from './errors.js';
import { FreeRegionList } from './free-region-list.js';
import * as layout from './layout.js';
import { RegionTable } from './region-table.js';
import * as regionTable from './region-table.js';
import { clearMarks, SideMetadata } from './side-metadata.js';
import { type HeapGeometry } from './sizes.js';
import { TypeRegistry } from './type-registry.js';
import * as typeRegistry from './type-registry.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { ARRAY_BASE, CARD_WORDS, HEADER_WORDS, LOG_CARD_WORDS, MIN_OBJECT_WORDS, POISON_WORD, STATE_FORWARDED, STATE_MASK, TYPE_SHIFT, WORD_BYTES } = layout;
const { REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START } = regionTable;
const { FILLER_TYPE_ID, TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

/** Words in an OS page (4 KiB), the unit of first-touch faults. */
const PAGE_WORDS = 4096 / WORD_BYTES;

export class Heap {
  readonly buffer: SharedArrayBuffer;
  readonly words: Int32Array;
  readonly f64: Float64Array;
  readonly heapWords: number;
  readonly regionWords: number;
  readonly logRegionWords: number;
  readonly regionCount: number;
  /** Objects of at least this many words are humongous. */
  readonly humongousWords: number;
  readonly regions: RegionTable;
  readonly free: FreeRegionList;
  /** 1 when region r was ever claimed (or pre-touched): its pages are backed by memory. */
  readonly resident: Uint8Array;
  /** Regions never claimed: while there are some, mutator allocation regions are taken from them. */
  private freshRegions: number;
  /** Mutator allocation regions claimed since the last pause (what the next pause copies out of, survivors aside). */
  private mutatorRegionsThisCycle = 0;
  /** Fresh free regions the mutator pre-faulted for pauses (see Residency). */
  prefaultedRegions = 0;
  readonly types: TypeRegistry;
  readonly meta: SideMetadata;
  /**
   * Stress mode: released regions are filled with POISON_WORD and quarantined
   * (kind FREE, but not on the free list) until the end of the next pause, when
   * they are checked to be still all poison (a stale write would show) and
   * freed. So a stale reference reads poison, never a fresh object.
   */
  poisonReleased = false;
  /** Released in the current pause (stress mode). */
  private quarantine: number[] = [];
  /** Released in the previous pause, freed at the end of this one (stress mode). */
  private cooling: number[] = [];
  /**
   * Used words as kept incrementally by whoever moves a region's top (TLAB
   * refills and returns, copies, humongous claims, releases). The verifier
   * checks it against the sum over the region table.
   */
  accountedWords = 0;

  constructor(readonly geometry: HeapGeometry) {
    this.buffer = new SharedArrayBuffer(geometry.heapBytes);
    this.words = new Int32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    this.heapWords = geometry.heapBytes / WORD_BYTES;
    this.regionWords = geometry.regionBytes / WORD_BYTES;
    this.logRegionWords = Math.log2(this.regionWords);
    this.regionCount = geometry.regionCount;
    this.humongousWords = this.regionWords >> 1;
    this.regions = new RegionTable(this.regionCount, this.logRegionWords);
    this.free = new FreeRegionList(this.regionCount);
    this.resident = new Uint8Array(this.regionCount);
    this.types = new TypeRegistry();
    this.meta = new SideMetadata(geometry.heapBytes);
    for (let r = this.regionCount - 1; r >= 0; r--) this.free.add(r);
    this.writeFiller(0, MIN_OBJECT_WORDS);
    // region 0 counts as fresh although its null filler touched its first page, so the first object still lands at word 2
    this.freshRegions = this.regionCount;
  }

  /** Writes every page of the heap once (as -XX:+AlwaysPreTouch): every region is resident afterwards. */
  pretouch(): void {
    this.words.fill(0, MIN_OBJECT_WORDS);
    this.resident.fill(1);
    this.freshRegions = 0;
  }

  get heapBytes(): number { return this.geometry.heapBytes; }

  regionOf(word: number): number { return word >> this.logRegionWords; }

  // ---- object sizing ------------------------------------------------------

  /** Size in words of the object at obj (of its copy's header when obj is forwarded). */
  sizeOf(obj: number): number {
    const words = this.words;
    let o = obj;
    if ((words[o] & STATE_MASK) === STATE_FORWARDED) o = words[o + 1];
    const type = words[o] >>> TYPE_SHIFT;
    const types = this.types;
    if (types.kind[type] === TYPE_STRUCT) return types.sizeWords[type];
    return (HEADER_WORDS + words[o + 1] * types.elementWords[type] + 1) & ~1;
  }

  /** Number of reference slots of the (unforwarded) object at obj. */
  refCount(obj: number): number {
    const type = this.words[obj] >>> TYPE_SHIFT;
    const kind = this.types.kind[type];
    if (kind === TYPE_STRUCT) return this.types.refs[type];
    return kind === TYPE_REF_ARRAY ? this.words[obj + 1] : 0;
  }

  // ---- fillers and the block-offset table ---------------------------------

  /** Covers [start, start + words) with one filler object (words even, >= 2); in a region whose ref-starts bits are kept, clears those it covers. */
  writeFiller(start: number, words: number): void {
    this.words[start] = FILLER_TYPE_ID << TYPE_SHIFT;
    this.words[start + 1] = words - ARRAY_BASE;
    this.recordObjectStart(start, start + words);
    if (this.regions.refStartsKept[start >> this.logRegionWords] !== 0) clearMarks(this.meta.refStarts, start, start + words);
  }

  /** Block-offset table upkeep: every card whose first word lies in [obj, end) is covered by obj. */
  recordObjectStart(obj: number, end: number): void {
    const bot = this.meta.blockOffsets;
    const last = (end - 1) >> LOG_CARD_WORDS;
    for (let c = (obj + CARD_WORDS - 1) >> LOG_CARD_WORDS; c <= last; c++) bot[c] = obj;
  }

  /** The start of the object covering the first word of card c (for card scanning). */
  objectCoveringCard(card: number): number {
    return this.meta.blockOffsets[card];
  }

  // ---- regions ------------------------------------------------------------

  /**
   * Takes a free region for copying into (a pause's destination, a persistent
   * region) and gives it `kind`: the lowest resident one, else the lowest
   * fresh one; -1 when none is free. The region's memory is not zeroed.
   */
  claimRegion(kind: number): number {
    return this.claim(this.free.takePreferring(this.resident, 1), kind);
  }

  /**
   * Takes a free region for mutator allocation and gives it `kind`: the lowest
   * fresh one while any is left (the mutator pays its first touch when it
   * zeroes TLABs), else the lowest; -1 when none is free.
   */
  claimMutatorRegion(kind: number): number {
    if (this.freshRegions === 0) return this.claim(this.free.take(), kind);
    const r = this.claim(this.free.takePreferring(this.resident, 0), kind);
    if (r >= 0) {
      this.mutatorRegionsThisCycle++;
      this.prefaultForNextPause();
    }
    return r;
  }

  /**
   * Writes every page of the highest fresh free region (which stays free)
   * when fewer free regions are resident than the next pause may copy into.
   * The highest, not the lowest: the mutator's own next regions stay
   * contiguous (eden in every other region once gave one GC thread all of a
   * pause under an owner-by-parity rule: see evacuation-shared.ts, TARGET_OWNER).
   */
  private prefaultForNextPause(): void {
    const wanted = this.mutatorRegionsThisCycle + (this.mutatorRegionsThisCycle >> 3);
    if (this.free.countFlagged(this.resident, 1) >= wanted) return;
    const r = this.free.highestFlagged(this.resident, 0);
    if (r < 0) return;
    const words = this.words;
    for (let w = this.regions.bottom(r), end = this.regions.end(r); w < end; w += PAGE_WORDS) words[w] = 0;
    this.noteResident(r);
    this.prefaultedRegions++;
  }

  /** Region r was taken off the free list by a thread of a pause (see takeAllPreferring): its pages are backed from now on. */
  noteResident(r: number): void {
    if (this.resident[r] === 0) {
      this.resident[r] = 1;
      this.freshRegions--;
    }
  }

  private claim(r: number, kind: number): number {
    if (r < 0) return -1;
    this.noteResident(r);
    this.regions.kind[r] = kind;
    this.regions.top[r] = this.regions.bottom(r);
    this.regions.refStartsKept[r] = 0;
    return r;
  }

  /**
   * Claims a run of contiguous free regions for one humongous object of
   * `words` words, zeroes it and returns the object's start, or 0 when no run
   * is free. The caller writes the header.
   */
  claimHumongous(words: number): number {
    const n = Math.ceil(words / this.regionWords);
    const first = this.free.findRun(n, this.regionCount);
    if (first < 0) return 0;
    this.free.removeRun(first, n);
    for (let r = first; r < first + n; r++) this.noteResident(r);
    const regions = this.regions;
    const obj = regions.bottom(first);
    const end = obj + words;
    for (let r = first; r < first + n; r++) {
      regions.kind[r] = r === first ? REGION_HUMONGOUS_START : REGION_HUMONGOUS_CONT;
      regions.humongousStart[r] = first;
      regions.top[r] = Math.min(regions.end(r), end);
      regions.refStartsKept[r] = 0;
    }
    this.words.fill(0, obj, end);
    this.recordObjectStart(obj, end);
    this.accountedWords += words;
    return obj;
  }

  /** The regions of the humongous object starting in region `first`. */
  humongousRegionCount(first: number): number {
    let n = 1;
    while (first + n < this.regionCount && this.regions.kind[first + n] === REGION_HUMONGOUS_CONT && this.regions.humongousStart[first + n] === first) n++;
    return n;
  }

  /** Returns region r to the free list (poisoning its memory in stress mode). */
  releaseRegion(r: number): void {
    const regions = this.regions;
    const bottom = regions.bottom(r);
    this.accountedWords -= regions.top[r] - bottom;
    if (this.poisonReleased) this.words.fill(POISON_WORD, bottom, regions.end(r));
    regions.kind[r] = REGION_FREE;
    regions.top[r] = bottom;
    regions.liveWords[r] = 0;
    regions.inCset[r] = 0;
    regions.evacFailed[r] = 0;
    regions.age[r] = 0;
    regions.humongousStart[r] = -1;
    regions.tams[r] = bottom;
    regions.refStartsKept[r] = 0;
    if (this.poisonReleased) this.quarantine.push(r);
    else this.free.add(r);
  }

  get quarantinedRegions(): number {
    return this.quarantine.length + this.cooling.length;
  }

  isQuarantined(r: number): boolean {
    return this.quarantine.includes(r) || this.cooling.includes(r);
  }

  /**
   * At the end of every pause (the VM calls it): frees the regions released
   * one pause ago after checking they still hold only poison, and sorts the
   * free list low-address first.
   */
  endPause(): void {
    this.mutatorRegionsThisCycle = 0;
    for (const r of this.cooling) {
      this.checkPoison(r);
      this.free.add(r);
    }
    this.cooling = this.quarantine;
    this.quarantine = [];
    this.free.sortLowFirst();
  }

  /** Frees every quarantined region at once (stress mode, when memory runs out). */
  releaseQuarantine(): void {
    for (const r of [...this.cooling, ...this.quarantine]) {
      this.checkPoison(r);
      this.free.add(r);
    }
    this.cooling = [];
    this.quarantine = [];
    this.free.sortLowFirst();
  }

  private checkPoison(r: number): void {
    const words = this.words;
    for (let w = this.regions.bottom(r), end = this.regions.end(r); w < end; w++) {
      if (words[w] !== POISON_WORD) {
        throw new VerificationError('at the end of a pause', [`stale write: word ${w} of released region ${r} is ${words[w]}, not poison; a reference to a moved object was used`]);
      }
    }
  }

  /** Sum over regions of top - bottom: every word handed to objects or fillers. */
  usedWords(): number {
    const regions = this.regions;
    let used = 0;
    for (let r = 0; r < this.regionCount; r++) used += regions.top[r] - regions.bottom(r);
    return used;
  }

  usedBytes(): number { return this.usedWords() * WORD_BYTES; }
}
