/**
 * Runs every bench suite, each variant in a FRESH child process, and prints
 * one readable report; also writes bench-results.json in the current
 * directory (a build artefact: keep it out of git).
 *
 *   npm run bench                              (= build, then node dist/bench/run-all.js)
 *   node dist/bench/run-all.js [suite ...] [--strict] [--time ms]
 *     suite     mutator-ops, gc-rates and/or young-rates (default: all)
 *     --strict  exit 1 when a floor fails (a child that crashes always exits 1)
 *     --time    tinybench time per mutator-ops task, ms (default 500)
 *
 * Why a process per variant: V8 inlines a barrier only while a call site has
 * seen one or two receiver classes, and a call that was inlined for one
 * Mutator class stops being inlined once a second class shows up (DESIGN.md,
 * "Barriers": 1.9 ns with one variant live, 6-11 ns with two). So each barrier
 * variant (and the counted build) gets its own `node dist/bench/<suite>.js`,
 * started with process.execPath; the child prints exactly one JSON line on
 * stdout (progress goes to stderr, passed through) and this parent collects
 * them. Children run one after another, never in parallel, so they do not
 * compete for cores or caches.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Floor, OpResult } from './common.js';

interface Run {
  suite: 'mutator-ops' | 'gc-rates' | 'young-rates';
  label: string;
  args: string[];
}

const argv = process.argv.slice(2);
const strict = argv.includes('--strict');
const timeIdx = argv.indexOf('--time');
const timeArgs = timeIdx >= 0 && argv[timeIdx + 1] ? ['--time', argv[timeIdx + 1]] : [];
const wanted = argv.filter((a, i) => !a.startsWith('--') && (timeIdx < 0 || i !== timeIdx + 1));

const RUNS: Run[] = [
  { suite: 'mutator-ops', label: 'none', args: ['--variant', 'none', ...timeArgs] },
  { suite: 'mutator-ops', label: 'satb', args: ['--variant', 'satb', ...timeArgs] },
  { suite: 'mutator-ops', label: 'card', args: ['--variant', 'card', ...timeArgs] },
  { suite: 'mutator-ops', label: 'g1', args: ['--variant', 'g1', ...timeArgs] },
  { suite: 'mutator-ops', label: 'card (counted)', args: ['--variant', 'card', '--counted', ...timeArgs] },
  { suite: 'gc-rates', label: 'evac', args: [] },
  { suite: 'young-rates', label: 'gen, 1 GC thread', args: ['--threads', '1'] },
  { suite: 'young-rates', label: 'gen, 2 GC threads', args: ['--threads', '2'] },
];

const known = new Set(RUNS.map((r) => r.suite));
for (const w of wanted) {
  if (!known.has(w as Run['suite'])) {
    process.stderr.write(`run-all: unknown suite '${w}' (known: ${[...known].join(', ')})\n`);
    process.exit(2);
  }
}
const runs = RUNS.filter((r) => wanted.length === 0 || wanted.includes(r.suite));
const here = dirname(fileURLToPath(import.meta.url));

/** Runs one suite in a fresh node process and returns its JSON line. */
function runChild(run: Run): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const file = join(here, `${run.suite}.js`);
    const child = spawn(process.execPath, [file, ...run.args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => { out += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code !== 0) return reject(new Error(`${run.suite} ${run.args.join(' ')} exited with ${signal ?? code}`));
      const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
      if (!line) return reject(new Error(`${run.suite} ${run.args.join(' ')} printed no JSON result`));
      try {
        resolve(JSON.parse(line) as Record<string, unknown>);
      } catch (e) {
        reject(new Error(`${run.suite}: bad JSON result: ${(e as Error).message}`));
      }
    });
  });
}

// ---- formatting ------------------------------------------------------------------

function table(headers: string[], rows: (string | number)[][], rightAlign = true): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  const fmt = (r: string[]): string => r.map((v, c) => (c === 0 || !rightAlign ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [fmt(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(fmt)].join('\n');
}

const f = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));

interface MutatorOpsResult {
  variant: string;
  counted: boolean;
  mutatorClass: string;
  objectBytes: number;
  results: Record<string, OpResult>;
  ratios: Record<string, number>;
  floors: Floor[];
  barrierCounters?: Record<string, { fast: number; slow: number; filtered: number }>;
  loadAverage: number;
}

interface GcRatesResult {
  entries: number;
  heapBytes: number;
  regionBytes: number;
  heapBuiltMB: number;
  liveMB: number;
  objectsMarked: number;
  regionsInCset: number;
  bytesCopiedMB: number;
  referencesFixed: number;
  roundsTimed: number;
  pauseMs: number;
  phasesMs: Record<string, number>;
  mark: { ms: number; mObjectsPerSec: number; mbPerSec: number };
  copy: { ms: number; mbPerSec: number; mObjectsPerSec: number };
  fixReferences: { ms: number; walkedMBPerSec: number; mRefsFixedPerSec: number };
  memcpy: { copyWithinSharedGBPerSec: number; copyWithinArrayBufferGBPerSec: number; jsWordLoopSharedGBPerSec: number };
  ratios: { copyRateOverCopyWithin: number; markRateOverCopyWithin: number; fixRateOverCopyWithin: number };
  floors: Floor[];
  loadAverage: number;
}

function reportMutatorOps(results: MutatorOpsResult[]): string {
  if (results.length === 0) return '';
  const rows = results.map((r) => {
    const x = r.results;
    return [
      `${r.variant}${r.variant === 'satb' ? ' (inactive)' : ''}${r.counted ? ' (counted)' : ''}`,
      r.mutatorClass,
      f(x.alloc.nsPerOp), f(x.alloc.mOpsPerSec, 0), f(x.alloc16?.nsPerOp), f(x.alloc16?.mOpsPerSec, 0),
      f(x.getRef.nsPerOp), f(x.plainLoad.nsPerOp), `${f(r.ratios.getRefOverPlainLoadPaired)}x`,
      f(x.setRef.nsPerOp), f(x.plainStore.nsPerOp), `${f(r.ratios.setRefOverPlainStorePaired)}x`,
      x.setRefCleanCards ? f(x.setRefCleanCards.nsPerOp) : '-',
    ];
  });
  const lines = [
    `Mutator operations: epsilon with each barrier, one process per row; ns/op = median batch / ops;`,
    `ratio = median over interleaved plain/barrier batch pairs; alloc: ${results[0].objectBytes} B = 1 ref + 1 data word (data is`,
    `even-aligned), 16 B = 0 refs + 1 data word`,
    '',
    table(
      ['barrier', 'class', `alloc ${results[0].objectBytes}B ns`, 'M obj/s', 'alloc 16B ns', 'M obj/s', 'getRef ns', 'load ns', 'get/load', 'setRef ns', 'store ns', 'set/store', 'setRef clean-cards ns'],
      rows,
    ),
  ];
  // cre / g1: while no concurrent marking runs, the SATB pre-write barrier is one field check per store
  const none = results.find((r) => r.variant === 'none' && !r.counted);
  const satb = results.find((r) => r.variant === 'satb' && !r.counted);
  const card = results.find((r) => r.variant === 'card' && !r.counted);
  const g1 = results.find((r) => r.variant === 'g1' && !r.counted);
  if (satb) {
    const parts = [`SATB barrier with marking inactive (one check of m.marking per store): setRef ${f(satb.results.setRef.nsPerOp)} ns`
      + ` = ${f(satb.ratios.setRefOverPlainStorePaired)}x a plain store`];
    if (none) parts.push(`no barrier ${f(none.results.setRef.nsPerOp)} ns (${f(none.ratios.setRefOverPlainStorePaired)}x)`);
    if (card && g1) parts.push(`card ${f(card.results.setRef.nsPerOp)} ns -> g1 (card + inactive SATB) ${f(g1.results.setRef.nsPerOp)} ns`);
    lines.push('', parts.join('; '));
  }
  for (const r of results) {
    if (!r.barrierCounters) continue;
    for (const [name, c] of Object.entries(r.barrierCounters)) {
      const total = c.fast + c.slow + c.filtered;
      lines.push(`  ${r.variant}${r.counted ? ' (counted)' : ''} barrier counters, ${name}: fast ${c.fast} (${f((100 * c.fast) / total, 1)}%), slow ${c.slow} (${f((100 * c.slow) / total, 2)}%), filtered ${c.filtered} (${f((100 * c.filtered) / total, 1)}%)`);
    }
  }
  return lines.join('\n');
}

interface YoungRatesResult {
  threads: number;
  heapBytes: number;
  regionBytes: number;
  entries: number;
  updates: number;
  roundsTimed: number;
  pauseMs: number;
  objectsCopied: number;
  cardsScanned: number;
  nsPerObject: number;
  nsPerCard: number;
  copyMBPerSec: number;
  memcpy: { copyWithinSharedGBPerSec: number };
  ratios: { copyRateOverCopyWithin: number };
}

function reportYoungRates(results: YoungRatesResult[]): string {
  if (results.length === 0) return '';
  const y = results[0];
  const serial = results.find((r) => r.threads === 1);
  const parallel = results.find((r) => r.threads === 2);
  const lines = [
    `Young pauses: gen on a ${y.heapBytes / (1 << 20)} MiB heap (${y.regionBytes / 1024} KiB regions), ${y.entries} lru-cache-shaped old entries,`,
    `${y.updates} old-to-young stores a round; medians over ${y.roundsTimed} timed pauses; one process per row; ns per object and per card`,
    `are GC-thread time (copying, card scanning) over the work`,
    '',
    table(['GC threads', 'pause ms', 'objects', 'cards', 'ns/object', 'ns/card', 'copy MB/s', 'copyWithin GB/s', 'copy / copyWithin'], results.map((r) => [
      String(r.threads), f(r.pauseMs, 1), r.objectsCopied, r.cardsScanned, f(r.nsPerObject, 0), f(r.nsPerCard, 0), f(r.copyMBPerSec, 0),
      f(r.memcpy.copyWithinSharedGBPerSec), f(r.ratios.copyRateOverCopyWithin, 4),
    ])),
  ];
  if (serial && parallel) lines.push('', `parallel speedup (1-thread pause / 2-thread pause, same bench run): ${f(serial.pauseMs / parallel.pauseMs)}x`);
  return lines.join('\n');
}

function reportGcRates(g: GcRatesResult | undefined): string {
  if (!g) return '';
  const bw = g.memcpy.copyWithinSharedGBPerSec;
  const pct = (x: number): string => `${f(100 * x, 1)}%`;
  return [
    `GC work rates: evac on a ${g.heapBytes / (1 << 20)} MiB heap (${g.regionBytes / 1024} KiB regions), ${g.entries} lru-cache entries;`,
    `heap built ${f(g.heapBuiltMB, 1)} MB, live ${f(g.liveMB, 1)} MB in ${g.objectsMarked} objects, ${g.regionsInCset} regions evacuated;`,
    `medians over ${g.roundsTimed} timed pauses (pause ${f(g.pauseMs, 1)} ms); MB = 1e6 bytes`,
    '',
    table(['phase', 'ms', 'work', 'rate', 'MB/s', 'vs copyWithin'], [
      ['mark (roots + closure)', f(g.mark.ms, 1), `${g.objectsMarked} objects, ${f(g.liveMB, 1)} MB`, `${f(g.mark.mObjectsPerSec, 1)} M obj/s`, f(g.mark.mbPerSec, 0), pct(g.ratios.markRateOverCopyWithin)],
      ['copy', f(g.copy.ms, 1), `${f(g.bytesCopiedMB, 1)} MB`, `${f(g.copy.mObjectsPerSec, 1)} M obj/s`, f(g.copy.mbPerSec, 0), pct(g.ratios.copyRateOverCopyWithin)],
      ['fix-references', f(g.fixReferences.ms, 1), `${g.referencesFixed} refs fixed, heap walked`, `${f(g.fixReferences.mRefsFixedPerSec, 1)} M refs/s`, f(g.fixReferences.walkedMBPerSec, 0), pct(g.ratios.fixRateOverCopyWithin)],
    ]),
    '',
    `memcpy in the same process: copyWithin 128 MiB in a SharedArrayBuffer ${f(bw)} GB/s, in an ArrayBuffer ${f(g.memcpy.copyWithinArrayBufferGBPerSec)} GB/s; JS word-loop copy ${f(g.memcpy.jsWordLoopSharedGBPerSec)} GB/s`,
    `copy rate / copyWithin bandwidth = ${f(g.ratios.copyRateOverCopyWithin, 4)}`,
    `phases (ms): ${Object.entries(g.phasesMs).map(([k, v]) => `${k} ${f(v, 2)}`).join(', ')}`,
  ].join('\n');
}

// ---- main ------------------------------------------------------------------------------

const started = Date.now();
const collected: { run: Run; result?: Record<string, unknown>; error?: string }[] = [];
for (const run of runs) {
  process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${run.suite} ${run.label}\n`);
  try {
    collected.push({ run, result: await runChild(run) });
  } catch (e) {
    process.stderr.write(`  FAILED: ${(e as Error).message}\n`);
    collected.push({ run, error: (e as Error).message });
  }
}

const mutatorOps = collected.filter((c) => c.run.suite === 'mutator-ops' && c.result).map((c) => c.result as unknown as MutatorOpsResult);
const gcRates = collected.find((c) => c.run.suite === 'gc-rates' && c.result)?.result as unknown as GcRatesResult | undefined;
const youngRates = collected.filter((c) => c.run.suite === 'young-rates' && c.result).map((c) => c.result as unknown as YoungRatesResult);
const floors = collected.flatMap((c) => ((c.result?.floors as Floor[] | undefined) ?? []).map((fl) => ({ ...fl, run: `${c.run.suite} ${c.run.label}` })));
const failures = collected.filter((c) => c.error);
const load = os.loadavg()[0];

const out: string[] = [''];
out.push(`heaplab bench: node ${process.version} (V8 ${process.versions.v8}), ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, load average ${f(load)}`);
if (load > os.cpus().length / 2) out.push(`warning: the machine is busy (load ${f(load)} on ${os.cpus().length} cores); medians are robust to short interruptions, not to sustained load`);
out.push('');
const mo = reportMutatorOps(mutatorOps);
if (mo) out.push(mo, '');
const gr = reportGcRates(gcRates);
if (gr) out.push(gr, '');
const yr = reportYoungRates(youngRates);
if (yr) out.push(yr, '');
if (floors.length) {
  out.push('Floors:');
  for (const fl of floors) {
    out.push(`  ${fl.pass ? 'PASS' : 'FAIL'}  [${fl.run}] ${fl.name}: ${f(fl.value, 2)} ${fl.unit} (${fl.kind === 'min' ? '>=' : '<='} ${fl.limit})`);
  }
}
for (const c of failures) out.push(`  ERROR ${c.run.suite} ${c.run.label}: ${c.error}`);
out.push('', `${runs.length} runs in ${((Date.now() - started) / 1000).toFixed(1)} s; results written to bench-results.json`);
process.stdout.write(`${out.join('\n')}\n`);

writeFileSync('bench-results.json', `${JSON.stringify({
  date: new Date().toISOString(),
  node: process.version,
  v8: process.versions.v8,
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  loadAverage: load,
  runs: collected.map((c) => ({ suite: c.run.suite, label: c.run.label, args: c.run.args, ...(c.error ? { error: c.error } : { result: c.result }) })),
  floors,
}, null, 2)}\n`);

if (failures.length > 0 || (strict && floors.some((fl) => !fl.pass))) process.exitCode = 1;
