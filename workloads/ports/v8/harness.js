/**
 * What the native-JS (V8) ports of heaplab's workloads share: integer
 * arguments in the reference ports' style (--name=value), the DaCapo-style
 * iteration loop and its markers, the isolate clock and the RESULT line.
 * Shipped as plain ESM JavaScript (not compiled by tsc).
 *
 * Output, one line each (stdout):
 *
 *   ITERATION k START <ms>     before iteration k (1-based) begins
 *   RESULT workload=<name> lang=js elapsed_ms=<ms> key=value ...
 *   ITERATION k END <ms>       after iteration k's RESULT line
 *
 * <ms> is on the clock `node --trace-gc` prints: milliseconds since the V8
 * isolate was initialised. JavaScript cannot read that clock, so we use
 * performance.now() - performance.nodeTiming.v8Start (V8 platform start, which
 * precedes isolate initialisation by about a millisecond). Measured against
 * PerformanceObserver 'gc' entries, a trace timestamp (a GC's end, rounded to
 * whole ms) sits 0.5-1.4 ms before this clock's reading of the same moment;
 * the importer only uses the marker to drop pauses of earlier iterations, for
 * which that error does not matter.
 *
 * `--iterations=N` (default 1) runs the whole workload N times in this process.
 */
import { performance } from 'node:perf_hooks';

/** Milliseconds since V8 started, on (approximately) the --trace-gc clock. */
export function isolateMs() {
  return performance.now() - performance.nodeTiming.v8Start;
}

function fail(workload, message) {
  process.stderr.write(`${workload}: ${message}\n`);
  process.exit(2);
}

/** Parses --name=integer arguments against the defaults (plus --iterations); exits 2 on a bad one. */
export function parseArgs(workload, argv, defaults) {
  const params = { ...defaults, iterations: 1 };
  for (const arg of argv) {
    const match = /^--([a-z][a-z-]*)=(-?[0-9]+)$/.exec(arg);
    if (match === null) fail(workload, `bad argument '${arg}' (expected --name=integer)`);
    const [, name, value] = match;
    if (!Object.hasOwn(params, name)) fail(workload, `unknown argument '${arg}' (known: ${Object.keys(params).join(', ')})`);
    params[name] = Number(value);
  }
  if (!(params.iterations >= 1)) fail(workload, '--iterations must be at least 1');
  return params;
}

/** Runs body(params) --iterations times, printing the markers and one RESULT line per iteration. */
export function runIterations(workload, defaults, body) {
  const { iterations, ...params } = parseArgs(workload, process.argv.slice(2), defaults);
  for (let k = 1; k <= iterations; k++) {
    console.log(`ITERATION ${k} START ${isolateMs().toFixed(3)}`);
    const t0 = performance.now();
    const values = body(params);
    const elapsedMs = performance.now() - t0;
    const pairs = Object.entries(values).map(([key, v]) => `${key}=${v}`).join(' ');
    console.log(`RESULT workload=${workload} lang=js elapsed_ms=${elapsedMs.toFixed(1)} ${pairs}`);
    console.log(`ITERATION ${k} END ${isolateMs().toFixed(3)}`);
  }
}
