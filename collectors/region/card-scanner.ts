/**
 * Card scanning: the objects and reference slots of one 512-byte card, and
 * refinement (HotSpot's G1RemSet::refine_card_concurrently, here on the calling
 * thread): a dirty card is cleaned, then scanned, and its card is added to the
 * remembered set of every tracked region one of its slots points into.
 *
 *   card c covers words [c << 7, (c + 1) << 7)          (LOG_CARD_WORDS = 7)
 *
 *   ordinary region r:    first object = heap.objectCoveringCard(c) (the block-offset
 *                         table; it may start on an earlier card), then object by object
 *                         until min(card end, top[r])
 *     ...[ obj A      |  obj B  ][ C ][  obj D         ...
 *               |<-------- card c -------->|
 *                ^ only slots of A, B, C, D whose address lies inside the card count
 *
 *   humongous run:        the one object starts at the bottom of the START region; a card
 *                         of a CONT region belongs to it too; only its slots inside the
 *                         card are visited (a ref array may span many cards and regions)
 *
 * Objects are parseable (fillers are data arrays without references; a zeroed,
 * not yet allocated TLAB tail parses as 2-word objects of type 0 without
 * references). A forwarded object (a pause, evacuation) is sized by its copy and
 * has no slots of its own.
 *
 * Refinement policy (G1):
 *   card of an eden/survivor region   -> set YOUNG, not scanned (young regions are
 *                                        always collected, their stores need no record)
 *   card of a FREE or skipped region  -> set CLEAN, not scanned (skip defaults to the
 *                                        region table's inCset: a region being evacuated)
 *   otherwise                         -> set CLEAN, scan, add to remsets
 * A slot counts when it is non-null and points into a TRACKED region other than the
 * source object's region (for a humongous object: its START region, so the object's
 * own self-references never keep it alive in an eager-reclaim test).
 */
import type { Heap } from '../../vm-core/heap.js';
import * as layout from '../../vm-core/layout.js';
import * as regionTable from '../../vm-core/region-table.js';
import * as sideMetadata from '../../vm-core/side-metadata.js';
import * as typeRegistry from '../../vm-core/type-registry.js';
import type { DirtyCardQueue } from './dirty-card-queue.js';
import type { RememberedSets } from './remembered-sets.js';

// Module-local copies of shared constants: read once here, not through an import binding on every use (see layout.ts).
const { CARD_WORDS, HEADER_WORDS, LOG_CARD_WORDS, STATE_FORWARDED, STATE_MASK, TYPE_SHIFT } = layout;
const { REGION_EDEN, REGION_FREE, REGION_HUMONGOUS_CONT, REGION_HUMONGOUS_START, REGION_SURVIVOR } = regionTable;
const { CARD_CLEAN, CARD_YOUNG } = sideMetadata;
const { TYPE_REF_ARRAY, TYPE_STRUCT } = typeRegistry;

/** Receives the non-null reference slots of a card. Use one visitor class per call site of scanCardSlots. */
export interface CardSlotVisitor {
  visitSlot(slot: number, ref: number): void;
}

/**
 * The region whose objects a card's slots belong to, for the "other region"
 * filter: the card's region, or the START region of a humongous run.
 */
function sourceRegionOfCard(heap: Heap, card: number): number {
  const r = card >> (heap.logRegionWords - LOG_CARD_WORDS);
  return heap.regions.kind[r] === REGION_HUMONGOUS_CONT ? heap.regions.humongousStart[r] : r;
}

/** Where to start walking card c of ordinary region r: the block-offset entry, or the region's first word if the entry is not in [region start, card start]. */
function firstObjectOnCard(heap: Heap, card: number, r: number): number {
  const obj = heap.meta.blockOffsets[card];
  const regionStart = r << heap.logRegionWords;
  return obj >= regionStart && obj <= card << LOG_CARD_WORDS ? obj : regionStart;
}

function badObject(heap: Heap, card: number, obj: number): Error {
  return new Error(`card ${card}: unparseable object at word ${obj} (header ${heap.words[obj]}) while scanning the card`);
}

/**
 * Calls visitor.visitSlot(slot, ref) for every non-null reference slot whose
 * address lies in card `card`. Cards of FREE regions have none. Returns the
 * number of slots visited.
 */
export function scanCardSlots(heap: Heap, card: number, visitor: CardSlotVisitor): number {
  const regions = heap.regions;
  const words = heap.words;
  const r = card >> (heap.logRegionWords - LOG_CARD_WORDS);
  const kind = regions.kind[r];
  if (kind === REGION_FREE) return 0;
  const cardStart = card << LOG_CARD_WORDS;
  const cardEnd = cardStart + CARD_WORDS;
  let visited = 0;
  if (kind === REGION_HUMONGOUS_START || kind === REGION_HUMONGOUS_CONT) {
    const obj = regions.bottom(kind === REGION_HUMONGOUS_START ? r : regions.humongousStart[r]);
    const first = obj + HEADER_WORDS;
    const n = heap.refCount(obj);
    for (let s = first > cardStart ? first : cardStart, end = first + n < cardEnd ? first + n : cardEnd; s < end; s++) {
      const v = words[s];
      if (v !== 0) { visitor.visitSlot(s, v); visited++; }
    }
    return visited;
  }
  const top = regions.top[r];
  const limit = top < cardEnd ? top : cardEnd;
  if (cardStart >= limit) return 0;
  const types = heap.types;
  const typeKind = types.kind;
  const typeRefs = types.refs;
  const typeSize = types.sizeWords;
  const elementWords = types.elementWords;
  let obj = firstObjectOnCard(heap, card, r);
  while (obj < limit) {
    const header = words[obj];
    let size: number;
    let n = 0;
    if ((header & STATE_MASK) === STATE_FORWARDED) {
      size = heap.sizeOf(obj);
    } else {
      const type = header >>> TYPE_SHIFT;
      const k = typeKind[type];
      if (k === TYPE_STRUCT) {
        size = typeSize[type];
        n = typeRefs[type];
      } else {
        size = (HEADER_WORDS + words[obj + 1] * elementWords[type] + 1) & ~1;
        if (k === TYPE_REF_ARRAY) n = words[obj + 1];
      }
    }
    if (!(size >= 2)) throw badObject(heap, card, obj);
    if (n !== 0) {
      const first = obj + HEADER_WORDS;
      for (let s = first > cardStart ? first : cardStart, end = first + n < cardEnd ? first + n : cardEnd; s < end; s++) {
        const v = words[s];
        if (v !== 0) { visitor.visitSlot(s, v); visited++; }
      }
    }
    obj += size;
  }
  return visited;
}

/** Refinement: dirty cards -> remembered sets. */
export class CardScanner implements CardSlotVisitor {
  /** Dirty cards taken (scanned or not). */
  cardsRefined = 0;
  /** Cards whose objects were walked. */
  cardsScanned = 0;
  /** Slots found pointing into a tracked region other than their own. */
  referencesFound = 0;
  /** Per region: non-zero = do not scan its cards (default: the region table's inCset). */
  skip: Uint8Array;

  constructor(private readonly heap: Heap, private readonly remsets: RememberedSets) {
    this.skip = heap.regions.inCset;
  }

  resetCounters(): void {
    this.cardsRefined = 0;
    this.cardsScanned = 0;
    this.referencesFound = 0;
  }

  /**
   * Refines up to `max` cards from the queue, in address order (the queue's
   * order is the mutator's store order, all over the old regions: walked in
   * address order, neighbouring cards share pages and the hardware prefetcher
   * follows; measured on lru-cache at 128 MiB, 1.7 µs a card in queue order);
   * returns how many it did.
   */
  refine(queue: DirtyCardQueue, max: number): number {
    let n = 0;
    if (this.batch.length < Math.min(max, queue.length)) this.batch = new Int32Array(Math.min(max, queue.length));
    const batch = this.batch;
    while (n < max) {
      const card = queue.pop();
      if (card < 0) break;
      batch[n++] = card;
    }
    const sorted = batch.subarray(0, n).sort();
    for (let i = 0; i < n; i++) this.refineCard(sorted[i]);
    return n;
  }

  /** refine's cards, sorted. */
  private batch = new Int32Array(1024);

  /**
   * Refinement of one dirty card: clean it (YOUNG in an eden/survivor region),
   * then add it to the remembered set of every tracked region other than the
   * source object's own that one of its slots points into.
   */
  refineCard(card: number): void {
    const heap = this.heap;
    const regions = heap.regions;
    const log = heap.logRegionWords;
    const r = card >> (log - LOG_CARD_WORDS);
    const kind = regions.kind[r];
    this.cardsRefined++;
    if (kind === REGION_EDEN || kind === REGION_SURVIVOR) {
      heap.meta.cards[card] = CARD_YOUNG;
      return;
    }
    heap.meta.cards[card] = CARD_CLEAN;
    if (kind === REGION_FREE || this.skip[r] !== 0) return;
    this.cardsScanned++;
    this.refiningCard = card;
    this.refiningSource = sourceRegionOfCard(heap, card);
    this.lastTarget = -1;
    scanCardSlots(heap, card, this);
  }

  // per-card state of refineCard, read by visitSlot
  private refiningCard = 0;
  private refiningSource = 0;
  private lastTarget = -1;

  /** A non-null slot of the card being refined: record the card for a tracked target in another region. */
  visitSlot(_slot: number, ref: number): void {
    const t = ref >> this.heap.logRegionWords;
    if (t !== this.refiningSource && this.remsets.tracked[t] === 1) {
      this.referencesFound++;
      if (t !== this.lastTarget) {
        this.remsets.add(t, this.refiningCard);
        this.lastTarget = t;
      }
    }
  }
}
