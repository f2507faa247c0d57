/**
 * xorshift32, Marsaglia's 13/17/5 generator, exactly as the reference
 * workloads use it (/work/shared/reference-workloads/js/common.js, makeRng):
 *
 *   x ^= x << 13;  x ^= x >>> 17;  x ^= x << 5;     (int32 arithmetic)
 *
 * The new state is the output. The state is a plain int32 held by the caller,
 * so drawing a number allocates nothing and V8 keeps it in a register:
 *
 *   let rng = seed | 0;
 *   rng = xorshift32(rng);
 *   const u = unitInterval(rng);      // (rng as uint32) / 2^32, in [0, 1)
 */

/** The next xorshift32 state (and output) after `x`, as an int32. */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x;
}

/** The uniform double in [0, 1) the references derive from an output: (x as uint32) / 2^32. */
export function unitInterval(x: number): number {
  return (x >>> 0) / 4294967296.0;
}
