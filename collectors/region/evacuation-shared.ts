/**
 * The shared state of a parallel evacuation pause: what the mutator thread
 * (GC thread 0 while the world is stopped) and the evacuation worker (GC
 * thread 1) both read and write, in SharedArrayBuffers posted to the worker
 * once per heap. HotSpot's G1 keeps the same things in G1ParScanThreadState,
 * G1ScannerTasksQueueSet and the collection set's region attributes.
 *
 *   control (Int32Array, CONTROL_INTS)
 *   +-----+--------+------+-------+-----------+------------+-----------+-----------+
 *   | CMD | SIGNAL | DONE | STATE | CARD_NEXT | CARD_COUNT | POOL_NEXT | POOL_COUNT|
 *   +-----+--------+------+-------+-----------+------------+-----------+-----------+
 *   | SURVIVOR_CLAIMED | SURVIVOR_MAX | TENURING | Q_LOCK | Q_SIZE | IDLE | THREADS | ABORT |
 *   +------------------+--------------+----------+--------+--------+------+---------+-------+
 *   | WAKES | HEAD 0 | TAIL 0 | HEAD 1 | TAIL 1 | (spare) |
 *   +-------+--------+--------+--------+--------+---------+
 *   The first four words are used in the worker's own command buffer: CMD = op | seq << 4;
 *   SIGNAL counts commands (the worker waits on it); DONE = seq of the last command the
 *   worker finished; STATE: starting / ready / failed. The rest are per heap and pause.
 *
 *   cardVisited Uint8Array(cards of the heap,   1 = remembered (a card of the collection set's remembered
 *              rounded up to 4)                 sets), 0 = not, or done. The pause's other cards are the
 *                                               dirty ones of the card table (side-metadata.ts): the threads
 *                                               claim CLAIM_CARDS card indices at a time (CARD_NEXT, up to
 *                                               CARD_COUNT = the heap's cards) and scan every card there that
 *                                               is remembered or dirty, four bytes of each table at a time
 *   pool       Int32Array(regions)              free regions taken for this pause's copies
 *   queue      Int32Array(QUEUE_CAPACITY)       shared objects-to-scan (work sharing), under Q_LOCK
 *   handoff    Int32Array(2 × ring ints)        thread t's ring of (slot, referent) pairs for the other
 *                                               thread at t × ring ints: pairs [HEAD t, TAIL t) mod capacity
 *   youngSource, humongousCandidate             Uint8Array(regions): per-region flags of the pause
 *   cardSource Uint8Array(regions)              1 = a region whose remembered and dirty cards the pause scans:
 *                                               one in use and not in the collection set when the pause
 *                                               began (so no copy destination: cards dirtied there during
 *                                               the pause wait for the next one)
 *   slotTarget Uint8Array(regions)              what a slot pointing into region r asks for, in one load:
 *                                               TARGET_IN_CSET | TARGET_CANDIDATE | TARGET_TRACKED | TARGET_NEW_SURVIVOR
 *   error      SharedArrayBuffer(ERROR_BYTES)   the worker's last error message
 */
import { REGION_FREE } from '../../vm-core/region-table.js';


export const CMD = 0;
/** In a heap's control buffer word 0 stays 0: idle GC threads nap on it (Atomics.wait with a timeout). */
export const NAP = 0;
export const SIGNAL = 1;
export const DONE = 2;
export const STATE = 3;
export const CARD_NEXT = 4;
export const CARD_COUNT = 5;
export const POOL_NEXT = 6;
export const POOL_COUNT = 7;
export const SURVIVOR_CLAIMED = 8;
export const SURVIVOR_MAX = 9;
export const TENURING = 10;
export const Q_LOCK = 11;
export const Q_SIZE = 12;
export const IDLE = 13;
export const THREADS = 14;
/** Set by a thread that failed: the others stop waiting for it. */
export const ABORT = 15;
/** Counts every time a thread leaves IDLE (the termination check sees whether anyone did meanwhile). */
export const WAKES = 16;
/** The hand-off ring of GC thread t: HANDOFF_HEAD + 2t (advanced by its consumer), HANDOFF_TAIL + 2t (by t). */
export const HANDOFF_HEAD = 17;
export const HANDOFF_TAIL = 18;
export const CONTROL_INTS = 24;

export const CMD_OP_MASK = 0xf;
export const CMD_SEQ_SHIFT = 4;
export const CMD_ATTACH = 1;
export const CMD_EVACUATE = 2;
export const CMD_EXIT = 3;

export const STATE_STARTING = 0;
export const STATE_READY = 1;
export const STATE_FAILED = 2;

/** slotTarget bits: the region is in the collection set / a humongous eager-reclaim candidate / tracked. */
export const TARGET_IN_CSET = 1;
export const TARGET_CANDIDATE = 2;
export const TARGET_TRACKED = 4;
/** slotTarget bit: a survivor region claimed in this pause (a slot into it dirties its card again: see EvacuationClosure.remember). */
export const TARGET_NEW_SURVIVOR = 8;
/**
 * slotTarget bit: a collection-set region thread 1 owns (bit clear: thread 0).
 * The collection set is dealt out alternately in address order, so each
 * thread owns half its regions however they lie in the heap (eden in every
 * other region would otherwise fall to one thread under an owner-by-parity rule).
 */
export const TARGET_OWNER = 16;
/** TARGET_OWNER's position: (slotTarget[r] >>> OWNER_SHIFT) & ownerMask is region r's owner. */
export const OWNER_SHIFT = 4;

/**
 * Fills slotTarget from the collection set, the candidates and the regions
 * whose remembered sets are kept (`tracked`, the remembered sets' flags), at
 * the start of a pause, before any GC thread runs. During the pause a thread
 * sets TRACKED for a survivor region it starts and clears CANDIDATE when it
 * finds a reference to one.
 */
export function computeSlotTargets(shared: EvacuationShared, inCset: Uint8Array, tracked: Uint8Array, regionCount: number): void {
  const { slotTarget, humongousCandidate } = shared;
  let dealt = 0;
  for (let r = 0; r < regionCount; r++) {
    const owner = inCset[r] !== 0 && (dealt++ & 1) !== 0 ? TARGET_OWNER : 0;
    slotTarget[r] = (inCset[r] !== 0 ? TARGET_IN_CSET : 0) | (humongousCandidate[r] !== 0 ? TARGET_CANDIDATE : 0) | (tracked[r] !== 0 ? TARGET_TRACKED : 0) | owner;
  }
}

/**
 * Fills cardSource at the start of a pause, before any GC thread runs: a
 * region in use and not in the collection set is one whose remembered and
 * dirty cards the pause scans (a region claimed as a copy destination later
 * in the pause is not, whatever its kind by then).
 */
export function computeCardSources(shared: EvacuationShared, kind: Uint8Array, inCset: Uint8Array, regionCount: number): void {
  const { cardSource } = shared;
  for (let r = 0; r < regionCount; r++) cardSource[r] = kind[r] !== REGION_FREE && inCset[r] === 0 ? 1 : 0;
}

/** Card indices a thread claims at once (a multiple of 4: the tables are read four cards at a time). */
export const CLAIM_CARDS = 1024;
/** Cards a thread loads together and then scans (their cache misses overlap). */
export const CARD_CHUNK = 16;
/** Capacity of the shared scan queue (entries are object addresses). */
export const QUEUE_CAPACITY = 1 << 16;
/** Threads of a parallel pause (the mutator thread and one worker). */
export const MAX_GC_THREADS = 2;
/** Ints in each thread's hand-off ring, by default; a power of two. */
export const HANDOFF_RING_INTS = 1 << 16;
export const ERROR_BYTES = 4096;

export interface EvacuationBuffers {
  control: SharedArrayBuffer;
  cardVisited: SharedArrayBuffer;
  pool: SharedArrayBuffer;
  queue: SharedArrayBuffer;
  handoff: SharedArrayBuffer;
  youngSource: SharedArrayBuffer;
  humongousCandidate: SharedArrayBuffer;
  cardSource: SharedArrayBuffer;
  slotTarget: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

export interface EvacuationShared {
  buffers: EvacuationBuffers;
  control: Int32Array;
  cardVisited: Uint8Array;
  pool: Int32Array;
  queue: Int32Array;
  handoff: Int32Array;
  youngSource: Uint8Array;
  humongousCandidate: Uint8Array;
  cardSource: Uint8Array;
  slotTarget: Uint8Array;
}

/** The buffers of a heap's parallel pauses (`ringInts`: a power of two; small in the JIT warm-up, so its rings fill). */
export function newEvacuationBuffers(cardCount: number, regionCount: number, ringInts = HANDOFF_RING_INTS): EvacuationBuffers {
  return {
    control: new SharedArrayBuffer(CONTROL_INTS * 4),
    cardVisited: new SharedArrayBuffer((cardCount + 3) & ~3),
    pool: new SharedArrayBuffer(regionCount * 4),
    queue: new SharedArrayBuffer(QUEUE_CAPACITY * 4),
    handoff: new SharedArrayBuffer(MAX_GC_THREADS * ringInts * 4),
    youngSource: new SharedArrayBuffer(regionCount),
    humongousCandidate: new SharedArrayBuffer(regionCount),
    cardSource: new SharedArrayBuffer(regionCount),
    slotTarget: new SharedArrayBuffer(regionCount),
    error: new SharedArrayBuffer(ERROR_BYTES),
  };
}

export function evacuationViews(b: EvacuationBuffers): EvacuationShared {
  return {
    buffers: b,
    control: new Int32Array(b.control),
    cardVisited: new Uint8Array(b.cardVisited),
    pool: new Int32Array(b.pool),
    queue: new Int32Array(b.queue),
    handoff: new Int32Array(b.handoff),
    youngSource: new Uint8Array(b.youngSource),
    humongousCandidate: new Uint8Array(b.humongousCandidate),
    cardSource: new Uint8Array(b.cardSource),
    slotTarget: new Uint8Array(b.slotTarget),
  };
}

export function writeError(buffer: SharedArrayBuffer, text: string): void {
  const bytes = new TextEncoder().encode(text.slice(0, ERROR_BYTES / 4));
  const view = new Uint8Array(buffer);
  view.fill(0);
  view.set(bytes.subarray(0, ERROR_BYTES - 1));
}

export function readError(buffer: SharedArrayBuffer): string {
  const view = new Uint8Array(buffer);
  const end = view.indexOf(0);
  return new TextDecoder().decode(view.slice(0, end < 0 ? view.length : end));
}

/** What a thread hands back at the end of its share of a pause (the worker posts it). */
export interface ThreadResult {
  objectsCopied: number;
  wordsCopied: number;
  wordsPromoted: number;
  failedObjects: number;
  cardsScanned: number;
  /** Dirty cards taken from the card table (scanned with refinement's duty). */
  dirtyCardsTaken: number;
  /** Cards dirtied again because a slot there points into a survivor region made in this pause. */
  cardsRedirtied: number;
  /** Slots this thread handed to the other thread (their referents are the other's to copy). */
  slotsHandedOver: number;
  /** Time this thread spent scanning cards (copying excluded) and copying/scanning copies (idle waits excluded). */
  cardScanMs: number;
  copyMs: number;
  /** Words copied into survivor regions, by new age (index 1..15). */
  ageWords: Float64Array;
  /** Destination regions this thread claimed: region, kind, region, kind, ... */
  claimed: Int32Array;
  /** Remembered-set entries to add: target region, card, target region, card, ... */
  pairs: Int32Array;
  /** The cards dirtied again (cardsRedirtied of them): the mutator thread queues them for refinement. */
  redirtied: Int32Array;
}
