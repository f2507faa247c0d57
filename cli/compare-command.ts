/**
 * `heaplab compare`: an experiment matrix (collectors x workloads x heaps x
 * repeats, plus HotSpot GCs and V8 on the workloads' ports), each heaplab cell
 * in a fresh Node process (reports/matrix-runner.ts), then statistics across
 * repeats (reports/cell-summary.ts) and the four outputs (reports/outputs.ts).
 *
 * Method: every input is checked before anything runs (unknown collector or
 * workload, bad sizes, a parameter no workload has, an output directory with
 * foreign files, a collector option no collector has or a value it refuses:
 * one line, exit 2). Collector options: `-g k=v` goes to every heaplab
 * collector that has option k, `-g collector.k=v` to that one; `--pause-goal`
 * sets pauseGoalMs where a collector has it and -XX:MaxGCPauseMillis for
 * HotSpot (honoured by G1 and Parallel). Warm-up as DaCapo: each run executes
 * --iterations iterations and reports the last. Workloads made of requests
 * (lru-cache) always record request latency. A failed cell (out of memory, a
 * crash, a missing JDK) is recorded and the matrix goes on; the command exits
 * 0 once the outputs are written. Progress goes to stderr as a bar on a
 * terminal, and nowhere without one.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadCollector } from '../collectors/registry.js';
import { summarizeCells } from '../reports/cell-summary.js';
import type { CompareResults, MatrixRun } from '../reports/compare-types.js';
import { type MatrixSpec, type MatrixWorkload, type PlannedCell, cellId, heapLabel, planCells, runMatrix } from '../reports/matrix-runner.js';
import { checkOutputDir, writeCompareOutputs } from '../reports/outputs.js';
import { formatDuration } from '../reports/summary.js';
import type { OptionValue } from '../vm-core/collector.js';
import { UsageError } from '../vm-core/errors.js';
import { resolveOptions } from '../vm-core/vm.js';
import { heapGeometry, parseSize } from '../vm-core/sizes.js';
import { parseInteger, parseLogLevel, parsePairs } from './run-command.js';
import { loadWorkload, workloadParams } from './runner.js';

interface CompareFlags {
  collectors: string;
  workloads: string;
  heaps: string;
  repeat: string;
  iterations: string;
  param: string[];
  gcOpt: string[];
  pauseGoal?: string;
  jobs: string;
  hotspot?: string;
  v8: boolean;
  pretouch: boolean;
  out: string;
  log?: string;
  logLevel: string;
  timeout?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function list(text: string, flag: string): string[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`${flag}: give at least one name`);
  const dup = items.find((x, i) => items.indexOf(x) !== i);
  if (dup !== undefined) throw new UsageError(`${flag}: '${dup}' is given twice`);
  return items;
}

/** One workload or collector of the matrix, taking k=v pairs: its names (as given, and its own) and its keys. */
interface PairTaker {
  names: string[];
  keys: string[];
}

/**
 * Deals k=v pairs out to the things of the matrix (workloads, collectors): k=v
 * goes to every thing that has key k, name.k=v to that thing only (an error if
 * it lacks k) and wins over k=v there. A key no thing takes is an error.
 */
function dealPairs(flag: string, kind: 'workload' | 'collector', noun: string, takers: PairTaker[], pairs: Record<string, string>): Record<string, string>[] {
  const used = new Set<string>();
  const dealt = takers.map((t) => {
    const given: Record<string, string> = {};
    for (const [key, value] of Object.entries(pairs)) {
      if (t.keys.includes(key)) {
        given[key] = value;
        used.add(key);
      }
    }
    for (const [key, value] of Object.entries(pairs)) {
      for (const prefix of new Set(t.names.map((n) => `${n}.`))) {
        if (!key.startsWith(prefix)) continue;
        const k = key.slice(prefix.length);
        if (!t.keys.includes(k)) throw new UsageError(`${flag} ${key}: ${kind} ${t.names[t.names.length - 1]} has no ${noun} '${k}' (${noun}s: ${t.keys.join(', ') || 'none'})`);
        given[k] = value;
        used.add(key);
      }
    }
    return given;
  });
  const unused = Object.keys(pairs).filter((k) => !used.has(k));
  if (unused.length > 0) throw new UsageError(`${flag} ${unused[0]}: no ${kind} in the matrix takes it`);
  return dealt;
}

/**
 * The matrix's workloads with their parameters resolved for the ports:
 * --param k=v applies to every workload that has parameter k; --param
 * workload.k=v to that workload only. A key no workload takes is an error.
 */
export async function matrixWorkloads(names: string[], pairs: Record<string, string>): Promise<MatrixWorkload[]> {
  const loaded = await Promise.all(names.map((n) => loadWorkload(n)));
  const dealt = dealPairs('--param', 'workload', 'parameter', loaded.map((w, i) => ({ names: [names[i], w.name], keys: Object.keys(w.params) })), pairs);
  return loaded.map((w, i) => ({ name: names[i], given: dealt[i], params: workloadParams(w, dealt[i], undefined), latency: w.requests !== undefined }));
}

/**
 * Collector options by heaplab collector: k=v goes to every collector that has
 * option k, collector.k=v to that collector only, and a pause goal to every
 * collector that has pauseGoalMs and was not given one; each collector's
 * values are checked as `heaplab run` checks them. A key no collector takes is
 * an error.
 */
export async function matrixGcOptions(names: string[], pairs: Record<string, string>, pauseGoalMs?: number): Promise<{ options: Record<string, Record<string, string>>; withGoal: number }> {
  const plugins = await Promise.all(names.map((n) => loadCollector(n)));
  const dealt = dealPairs('--gc-opt', 'collector', 'option', plugins.map((p, i) => ({ names: [names[i], p.name], keys: Object.keys(p.options) })), pairs);
  const options: Record<string, Record<string, string>> = {};
  let withGoal = 0;
  for (const [i, plugin] of plugins.entries()) {
    if (pauseGoalMs !== undefined && 'pauseGoalMs' in plugin.options) {
      withGoal++;
      dealt[i].pauseGoalMs ??= String(pauseGoalMs);
    }
    resolveOptions(plugin, dealt[i] as Record<string, OptionValue>); // a value the collector refuses: its one-line error, now
    if (Object.keys(dealt[i]).length > 0) options[names[i]] = dealt[i];
  }
  return { options, withGoal };
}

export async function matrixSpecFromFlags(flags: CompareFlags): Promise<MatrixSpec> {
  const collectors = list(flags.collectors, '--collectors');
  for (const c of collectors) await loadCollector(c);
  const workloads = await matrixWorkloads(list(flags.workloads, '--workloads'), parsePairs(flags.param, '--param'));
  const heaps = list(flags.heaps, '--heaps').map((h) => parseSize(h, '--heaps'));
  for (const h of heaps) heapGeometry(h);
  const hotspot = flags.hotspot === undefined ? [] : list(flags.hotspot, '--hotspot');
  for (const gc of hotspot) if (!/^[A-Za-z][\w-]*$/.test(gc)) throw new UsageError(`--hotspot: '${gc}' is not a GC name (e.g. G1, Parallel, Shenandoah, Z)`);
  const pauseGoalMs = flags.pauseGoal === undefined ? undefined : parseInteger(flags.pauseGoal, '--pause-goal', 1);
  const { options: gcOptions, withGoal } = await matrixGcOptions(collectors, parsePairs(flags.gcOpt, '--gc-opt'), pauseGoalMs);
  if (pauseGoalMs !== undefined && withGoal === 0 && hotspot.length === 0) {
    throw new UsageError('--pause-goal: no collector in the matrix has a pause-time goal (g1, or HotSpot cells with --hotspot)');
  }
  const level = parseLogLevel(flags.logLevel);
  const timeout = flags.timeout === undefined ? undefined : parseInteger(flags.timeout, '--timeout', 1) * 1000;
  return {
    collectors,
    workloads,
    heaps,
    repeat: parseInteger(flags.repeat, '--repeat', 1),
    iterations: parseInteger(flags.iterations, '--iterations', 1),
    hotspot,
    v8: flags.v8,
    pretouch: flags.pretouch,
    gcOptions,
    ...(pauseGoalMs !== undefined && hotspot.length > 0 ? { hotspotPauseGoalMs: pauseGoalMs } : {}),
    jobs: parseInteger(flags.jobs, '--jobs', 1),
    ...(flags.log !== undefined || level !== 'silent' ? { log: { ...(flags.log !== undefined ? { file: resolve(flags.log) } : {}), level } } : {}),
    ...(timeout !== undefined ? { cellTimeoutMs: timeout } : {}),
  };
}

/** A progress bar on stderr when it is a terminal; silent otherwise. */
class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private done = 0;
  private failed = 0;
  private readonly running = new Map<number, string>();
  private readonly t0 = performance.now();

  constructor(private readonly total: number) {}

  start(cell: PlannedCell): void {
    this.running.set(cell.index, cellId(cell.key, cell.repeat));
    this.draw();
  }

  finish(cell: PlannedCell, run: MatrixRun): void {
    this.running.delete(cell.index);
    this.done++;
    if (run.outcome !== 'ok') this.failed++;
    this.draw();
  }

  /** A line of its own (a notice, a child's GC log line), above the bar. */
  line(text: string): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
    process.stderr.write(`${text}\n`);
    this.draw();
  }

  end(): void {
    if (this.tty) process.stderr.write('\r\x1b[2K');
  }

  private draw(): void {
    if (!this.tty) return;
    const width = 24;
    const filled = Math.round((this.done / Math.max(1, this.total)) * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const now = [...this.running.values()].join(', ');
    const failed = this.failed ? `, ${this.failed} failed` : '';
    const text = `[${bar}] ${this.done}/${this.total}${failed} ${formatDuration(performance.now() - this.t0)}${now ? ` | ${now}` : ''}`;
    const columns = process.stderr.columns ?? 100;
    process.stderr.write(`\r\x1b[2K${text.slice(0, Math.max(20, columns - 1))}`);
  }
}

export async function runCompare(flags: CompareFlags): Promise<CompareResults> {
  const spec = await matrixSpecFromFlags(flags);
  checkOutputDir(flags.out);
  if (spec.log?.file !== undefined) mkdirSync(dirname(spec.log.file), { recursive: true });
  const total = planCells(spec).length;
  const progress = new Progress(total);
  const runs = await runMatrix(spec, {
    onStart: (cell) => progress.start(cell),
    onDone: (cell, run) => progress.finish(cell, run),
    notice: (line) => progress.line(`heaplab: ${line}`),
    childOutput: (cell, line) => progress.line(`[${cellId(cell.key, cell.repeat)}] ${line}`),
  });
  progress.end();
  const results: CompareResults = {
    schema: 'heaplab-compare/1',
    createdAt: new Date().toISOString(),
    matrix: {
      collectors: spec.collectors,
      workloads: spec.workloads.map((w) => w.name),
      heaps: spec.heaps,
      repeat: spec.repeat,
      iterations: spec.iterations,
      hotspot: spec.hotspot,
      v8: spec.v8,
      pretouch: spec.pretouch,
      gcOptions: spec.gcOptions,
      ...(spec.hotspotPauseGoalMs !== undefined ? { hotspotPauseGoalMs: spec.hotspotPauseGoalMs } : {}),
      params: parsePairs(flags.param, '--param'),
    },
    runs,
    cells: summarizeCells(runs),
  };
  const written = await writeCompareOutputs(flags.out, results);
  const failed = runs.filter((r) => r.outcome !== 'ok');
  const byOutcome = failed.reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.outcome]: (acc[r.outcome] ?? 0) + 1 }), {});
  const failedText = failed.length === 0 ? 'all ok' : Object.entries(byOutcome).map(([k, n]) => `${n} ${k}`).join(', ');
  process.stdout.write(`heaplab compare: ${runs.length} runs (${failedText}); heaps ${spec.heaps.map(heapLabel).join(', ')}; wrote ${written.join(', ')}\n`);
  return results;
}

export function registerCompareCommand(program: Command): void {
  program
    .command('compare')
    .description('run a matrix of collectors x workloads x heaps x repeats, each run in a fresh process; write results.json, results.csv, summary.md, report.html')
    .option('-c, --collectors <list>', 'heaplab collectors, comma-separated (names or module paths)', 'evac,epsilon')
    .option('-w, --workloads <list>', 'workloads, comma-separated', 'lru-cache,binary-trees')
    .option('--heaps <list>', 'heap sizes, comma-separated, e.g. 256m,512m', '256m')
    .option('-r, --repeat <n>', 'runs per cell, each in a fresh process', '3')
    .option('-n, --iterations <n>', 'iterations per run (fresh VM each); the last is reported (DaCapo-style warm-up)', '2')
    .option('-p, --param <k=v>', 'workload parameter for every workload that has it, or workload.k=v for one (repeatable)', collect, [])
    .option('-g, --gc-opt <k=v>', 'collector option for every heaplab collector that has it, or collector.k=v for one (repeatable)', collect, [])
    .option('--pause-goal <ms>', 'pause-time goal: pauseGoalMs of every heaplab collector that has one (g1) and -XX:MaxGCPauseMillis of the HotSpot cells (G1 and Parallel honour it)')
    .option('-j, --jobs <n>', 'cells to run at once (1: one after the other, so runs do not share the CPU)', '1')
    .option('--hotspot <gcs>', 'also run the Java ports on the installed JDK with these GCs, e.g. G1,Parallel,Shenandoah,Z')
    .option('--v8', "also run the native-JS ports under V8's own GC (--trace-gc)", false)
    .option('--pretouch', 'touch every heap page before each run, so no first-touch page fault lands in a pause: heaplab runs with --pretouch, HotSpot with -XX:+AlwaysPreTouch (V8 has no such flag)', false)
    .option('-o, --out <dir>', 'output directory (new, empty, or written by an earlier compare)', 'heaplab-compare')
    .option('--log <file>', 'GC event log, one JSON line per event: one file per heaplab run, named after the cell next to <file>')
    .option('--log-level <level>', 'GC log on the terminal: silent|info|debug (info: one -Xlog:gc-style line per pause)', 'silent')
    .option('--timeout <seconds>', 'kill a run after this long and record it as crashed')
    .action(async (flags: CompareFlags) => {
      await runCompare(flags);
    });
}
