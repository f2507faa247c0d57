/**
 * The matrix runner behind `heaplab compare`: plans every cell of
 * collectors x workloads x heaps x repeats (plus HotSpot GCs and V8 on the
 * workloads' ports) and runs each one, returning one MatrixRun per cell.
 *
 * Method:
 *   - heaplab cells run in a FRESH Node child process each
 *     (`process.execPath dist/cli/heaplab.js run ... --out <tmp json>`): a
 *     clean JIT and one collector per process, so V8 inlines the one barrier
 *     variant it sees (DESIGN.md, "Barriers"). The child runs `iterations`
 *     iterations and reports the last (DaCapo-style warm-up).
 *   - Cells run one after the other by default (jobs = 1) so they do not share
 *     the CPU; jobs > 1 runs that many at once.
 *   - The order is repeat-major (all cells of repeat 1, then of repeat 2, ...),
 *     so a slow drift of the machine spreads over every cell instead of
 *     biasing the last ones.
 *   - A failing cell is recorded and the matrix goes on: exit 3 with a report
 *     is 'out-of-memory' (the report is kept), any other failure (non-zero
 *     exit, a signal, no or unreadable report, a time-out) is 'crashed' with
 *     the child's first error line. HotSpot / V8 cells go through
 *     runHotspot / runV8; a ToolMissingError (no java) is announced once and
 *     every cell of that tool is 'skipped'.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GcLogLevel } from '../cli/runner.js';
import type { CellKey, MatrixRun } from './compare-types.js';
import { ToolMissingError, runHotspot, runV8 } from './production-runs.js';
import type { RunReport } from './run-report.js';

export interface MatrixWorkload {
  name: string;
  /** Parameters given for this workload (strings, as on the command line), passed to the child. */
  given: Record<string, string>;
  /** Every parameter resolved (defaults filled in), for the production ports. */
  params: Record<string, number>;
  /** Whether the workload is made of requests (then every heaplab cell records request latency). */
  latency: boolean;
}

export interface MatrixSpec {
  collectors: string[];
  workloads: MatrixWorkload[];
  heaps: number[];
  repeat: number;
  iterations: number;
  /** HotSpot GC names (G1, Parallel, Shenandoah, Z, ...). */
  hotspot: string[];
  v8: boolean;
  /** Touch every heap page before each run: heaplab --pretouch, HotSpot -XX:+AlwaysPreTouch (V8 has no such flag). */
  pretouch: boolean;
  /** Collector options by heaplab collector (as named in `collectors`), passed to its cells as --gc-opt k=v. */
  gcOptions: Record<string, Record<string, string>>;
  /** -XX:MaxGCPauseMillis of the HotSpot cells (undefined: the JVM's default, 200 ms for G1). */
  hotspotPauseGoalMs?: number;
  jobs: number;
  /** GC log for heaplab cells: `file` becomes one file per cell next to it. */
  log?: { file?: string; level: GcLogLevel };
  /** Kill a cell after this long (it is then 'crashed'); undefined: no limit. */
  cellTimeoutMs?: number;
  /** The CLI to spawn (default: the built dist/cli/heaplab.js next to this module). */
  cli?: string;
}

export interface PlannedCell {
  index: number;
  key: CellKey;
  repeat: number;
  workload: MatrixWorkload;
  /** HotSpot GC name for source 'hotspot'. */
  gc?: string;
}

export interface MatrixHooks {
  /** A cell starts (for a progress display). */
  onStart?(cell: PlannedCell): void;
  /** A cell finished. */
  onDone?(cell: PlannedCell, run: MatrixRun): void;
  /** A one-line notice for the user (e.g. java is missing). */
  notice?(line: string): void;
  /** A line a child wrote on its terminal (its GC log at --log-level info/debug). */
  childOutput?(cell: PlannedCell, line: string): void;
}

/** A heap size as a short label for files and tables: 256m, 1g, 64k, or bytes. */
export function heapLabel(bytes: number): string {
  const units: [number, string][] = [[1024 ** 3, 'g'], [1024 ** 2, 'm'], [1024, 'k']];
  for (const [scale, unit] of units) if (bytes % scale === 0) return `${bytes / scale}${unit}`;
  return String(bytes);
}

/** A short, file-name-safe name of a cell and repeat: evac-lru-cache-256m-r1. */
export function cellId(key: CellKey, repeat: number): string {
  return `${key.collector}-${key.workload}-${heapLabel(key.heapBytes)}-r${repeat}`.replace(/[^\w.-]+/g, '_');
}

/** The per-cell GC log file: events.jsonl -> events.evac-lru-cache-256m-r1.jsonl (same directory). */
export function cellLogFile(file: string, key: CellKey, repeat: number): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.${cellId(key, repeat)}${ext}`);
}

/** Every cell in run order: repeat-major, then workload, heap, and heaplab collectors before HotSpot and V8. */
export function planCells(spec: MatrixSpec): PlannedCell[] {
  const cells: PlannedCell[] = [];
  for (let repeat = 1; repeat <= spec.repeat; repeat++) {
    for (const workload of spec.workloads) {
      for (const heapBytes of spec.heaps) {
        const add = (key: CellKey, gc?: string): void => {
          cells.push({ index: cells.length, key, repeat, workload, ...(gc !== undefined ? { gc } : {}) });
        };
        for (const c of spec.collectors) add({ collector: c, workload: workload.name, heapBytes, source: 'heaplab' });
        for (const gc of spec.hotspot) add({ collector: `hotspot-${gc}`, workload: workload.name, heapBytes, source: 'hotspot' }, gc);
        if (spec.v8) add({ collector: 'v8', workload: workload.name, heapBytes, source: 'v8' });
      }
    }
  }
  return cells;
}

function defaultCli(): string {
  return fileURLToPath(new URL('../cli/heaplab.js', import.meta.url));
}

/** The child's arguments for one heaplab cell. */
export function childArgs(spec: MatrixSpec, cell: PlannedCell, outFile: string): string[] {
  const args = [
    'run', '--collector', cell.key.collector, '--workload', cell.key.workload,
    '--heap', String(cell.key.heapBytes), '--iterations', String(spec.iterations), '--out', outFile,
  ];
  for (const [k, v] of Object.entries(cell.workload.given)) args.push('--param', `${k}=${v}`);
  if (cell.workload.latency) args.push('--latency');
  if (spec.pretouch) args.push('--pretouch');
  for (const [k, v] of Object.entries(spec.gcOptions[cell.key.collector] ?? {})) args.push('--gc-opt', `${k}=${v}`);
  if (spec.log) {
    if (spec.log.file !== undefined) args.push('--log', cellLogFile(spec.log.file, cell.key, cell.repeat));
    args.push('--log-level', spec.log.level);
  }
  return args;
}

/** The line that says why a child failed: its `heaplab:` line, else an `...Error` line, else the first line. */
export function failureLine(stderr: string, status: number | null, signal: string | null): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const why = lines.find((l) => l.startsWith('heaplab: ')) ?? lines.find((l) => /^\w*Error\b/.test(l)) ?? lines[0];
  const how = signal ? `killed by ${signal}` : `exit ${status}`;
  return why ? `${how}: ${why.replace(/^heaplab: /, '')}` : how;
}

const MAX_STDERR = 64 * 1024;

function runChild(spec: MatrixSpec, cell: PlannedCell, tmp: string, hooks: MatrixHooks): Promise<MatrixRun> {
  const outFile = join(tmp, `${cell.index}-${cellId(cell.key, cell.repeat)}.json`);
  const args = [spec.cli ?? defaultCli(), ...childArgs(spec, cell, outFile)];
  const base = { cell: cell.key, repeat: cell.repeat };
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let timedOut = false;
    let partial = '';
    const forward = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      if (stderr.length < MAX_STDERR) stderr += text;
      if (hooks.childOutput && spec.log && spec.log.level !== 'silent') {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim() && !line.startsWith('heaplab: ')) hooks.childOutput(cell, line);
      }
    };
    // stdout is the run summary: not needed, the report file has everything. The
    // GC log's terminal lines (--log-level info|debug) come on stderr.
    child.stdout.resume();
    child.stderr.on('data', (c: Buffer) => forward(c));
    const timer = spec.cellTimeoutMs !== undefined
      ? setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, spec.cellTimeoutMs)
      : null;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ ...base, outcome: 'crashed', message: `could not start: ${e.message}`, report: null });
    });
    child.on('close', (status, signal) => {
      if (timer) clearTimeout(timer);
      if (timedOut) {
        resolve({ ...base, outcome: 'crashed', message: `timed out after ${Math.round((spec.cellTimeoutMs ?? 0) / 1000)} s`, report: null });
        return;
      }
      let report: RunReport | null = null;
      if (status === 0 || status === 3) {
        try {
          report = JSON.parse(readFileSync(outFile, 'utf8')) as RunReport;
        } catch {
          report = null;
        }
      }
      if (report && status === 0 && report.outcome === 'ok') {
        resolve({ ...base, outcome: 'ok', report });
      } else if (report && status === 3) {
        resolve({ ...base, outcome: 'out-of-memory', message: report.error ?? 'out of memory', report });
      } else {
        const why = failureLine(stderr, status, signal);
        resolve({ ...base, outcome: 'crashed', message: report ? why : `${why}${status === 0 || status === 3 ? ' (no readable report)' : ''}`, report: null });
      }
    });
  });
}

/** Runs every cell (at most spec.jobs at once) and returns the runs in plan order. */
export async function runMatrix(spec: MatrixSpec, hooks: MatrixHooks = {}): Promise<MatrixRun[]> {
  const cells = planCells(spec);
  const runs: MatrixRun[] = new Array(cells.length);
  const tmp = mkdtempSync(join(tmpdir(), 'heaplab-compare-'));
  /** Tools found missing: their remaining cells are skipped. */
  const missing = new Map<'hotspot' | 'v8', string>();

  const production = async (cell: PlannedCell): Promise<MatrixRun> => {
    const source = cell.key.source as 'hotspot' | 'v8';
    const base = { cell: cell.key, repeat: cell.repeat };
    const already = missing.get(source);
    if (already !== undefined) return { ...base, outcome: 'skipped', message: already, report: null };
    const workDir = join(tmp, `${cell.index}-${cellId(cell.key, cell.repeat)}`);
    const common = { workload: cell.key.workload, heapBytes: cell.key.heapBytes, params: cell.workload.params, iterations: spec.iterations, workDir };
    try {
      const report = source === 'hotspot' ? await runHotspot({ gc: cell.gc ?? '', pretouch: spec.pretouch, pauseGoalMs: spec.hotspotPauseGoalMs, ...common }) : await runV8(common);
      const outcome = report.outcome === 'ok' ? 'ok' : 'out-of-memory';
      return { ...base, outcome, ...(report.error !== undefined ? { message: report.error } : {}), report };
    } catch (e) {
      if (e instanceof ToolMissingError) {
        const line = (e.message || `${source} tool missing`).split('\n')[0];
        if (!missing.has(source)) {
          missing.set(source, line);
          hooks.notice?.(`${line}; skipping the ${source === 'hotspot' ? 'HotSpot' : 'V8'} cells`);
        }
        return { ...base, outcome: 'skipped', message: line, report: null };
      }
      return { ...base, outcome: 'crashed', message: ((e as Error).message ?? String(e)).split('\n')[0], report: null };
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cells.length) {
      const cell = cells[next++];
      hooks.onStart?.(cell);
      const run = cell.key.source === 'heaplab' ? await runChild(spec, cell, tmp, hooks) : await production(cell);
      runs[cell.index] = run;
      hooks.onDone?.(cell, run);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(spec.jobs, cells.length)) }, worker));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return runs;
}
