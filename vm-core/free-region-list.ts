/**
 * The free-region list: the indices of FREE regions, kept as a stack in an
 * Int32Array with membership flags so a region is never listed twice.
 * Single regions are taken from the lowest address first (the stack is kept
 * sorted high-to-low when regions are returned in bulk), which keeps used
 * memory compact as G1's free list does. Contiguous runs for humongous objects
 * are found by scanning the region table.
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
