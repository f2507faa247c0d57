/**
 * The free-region list: the indices of FREE regions, kept as a stack in an
 * Int32Array with membership flags so a region is never listed twice.
 * Single regions are taken from the lowest address first (the stack is kept
 * sorted high-to-low when regions are returned in bulk), which keeps used
 * memory compact as G1's free list does. A caller may prefer regions of one
 * residency (see Heap.resident): the lowest free region with that flag, else
 * the lowest of all. Contiguous runs for humongous objects are found by
 * scanning the region table.
 *
 *   stack   [ 2040 2039 ... 17 16 9 8 ]      size = 8 regions listed
 *             ^ bottom: highest address  ^ top: taken first
 */
export class FreeRegionList {
  private readonly stack: Int32Array;
  private readonly listed: Uint8Array;
  private size = 0;

  constructor(regionCount: number) {
    this.stack = new Int32Array(regionCount);
    this.listed = new Uint8Array(regionCount);
  }

  get length(): number { return this.size; }

  has(r: number): boolean { return this.listed[r] === 1; }

  add(r: number): void {
    if (this.listed[r] === 1) throw new Error(`free-region list: region ${r} is already free`);
    this.listed[r] = 1;
    this.stack[this.size++] = r;
  }

  /** Removes and returns the lowest-addressed free region, or -1 when none is left. */
  take(): number {
    if (this.size === 0) return -1;
    const r = this.stack[--this.size];
    this.listed[r] = 0;
    return r;
  }

  /**
   * Removes and returns the lowest-addressed free region r with flags[r] ===
   * wanted, or the lowest-addressed free region when none has it; -1 when none
   * is left. Linear in the list's length (at most the region count).
   */
  takePreferring(flags: Uint8Array, wanted: number): number {
    const stack = this.stack;
    for (let i = this.size - 1; i >= 0; i--) {
      const r = stack[i];
      if (flags[r] !== wanted) continue;
      stack.copyWithin(i, i + 1, this.size);
      this.size--;
      this.listed[r] = 0;
      return r;
    }
    return this.take();
  }

  /** How many free regions r have flags[r] === wanted. */
  countFlagged(flags: Uint8Array, wanted: number): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (flags[this.stack[i]] === wanted) n++;
    return n;
  }

  /** The highest-addressed free region r with flags[r] === wanted (left on the list), or -1. */
  highestFlagged(flags: Uint8Array, wanted: number): number {
    let best = -1;
    for (let i = 0; i < this.size; i++) if (flags[this.stack[i]] === wanted && this.stack[i] > best) best = this.stack[i];
    return best;
  }

  /**
   * Removes every free region into `into`, lowest address first, those with
   * flags[r] === wanted before the others; returns how many.
   */
  takeAllPreferring(into: Int32Array, flags: Uint8Array, wanted: number): number {
    const stack = this.stack;
    let n = 0;
    for (let i = this.size - 1; i >= 0; i--) if (flags[stack[i]] === wanted) into[n++] = stack[i];
    for (let i = this.size - 1; i >= 0; i--) if (flags[stack[i]] !== wanted) into[n++] = stack[i];
    for (let i = 0; i < n; i++) this.listed[into[i]] = 0;
    this.size = 0;
    return n;
  }

  /** Removes the listed regions [first, first + n) (a humongous run just claimed). */
  removeRun(first: number, n: number): void {
    for (let r = first; r < first + n; r++) {
      if (this.listed[r] !== 1) throw new Error(`free-region list: region ${r} of a claimed run is not free`);
      this.listed[r] = 0;
    }
    let w = 0;
    for (let i = 0; i < this.size; i++) {
      const r = this.stack[i];
      if (this.listed[r] === 1) this.stack[w++] = r;
    }
    this.size = w;
  }

  /** Re-sorts so that take() hands out low addresses first; called after a pause releases regions. */
  sortLowFirst(): void {
    this.stack.subarray(0, this.size).sort().reverse();
  }

  /**
   * The first index of a run of n consecutive free regions, lowest address
   * first, or -1. Region 0 is never part of a run: its reserved first words
   * would push the object past the run's end.
   */
  findRun(n: number, regionCount: number): number {
    let runStart = -1;
    for (let r = 1; r < regionCount; r++) {
      if (this.listed[r] === 1) {
        if (runStart < 0) runStart = r;
        if (r - runStart + 1 === n) return runStart;
      } else {
        runStart = -1;
      }
    }
    return -1;
  }
}
