/**
 * Production collectors beside heaplab's: run heaplab's Java ports under a
 * HotSpot collector and its native-JS ports under V8, and turn their GC logs
 * into heaplab's run report (configuration.collector.source = 'hotspot' | 'v8').
 *
 *   runHotspot   1. compile workloads/ports/java once per source hash into workDir (javac)
 *                2. java -XX:+Use<gc>GC -Xms<heap> -Xmx<heap> [-XX:+AlwaysPreTouch] [-XX:MaxGCPauseMillis=<ms>]
 *                        -Xlog:gc*:file=<log>:uptime,uptimenanos,level,tags <Port> --k=v ... --iterations=N
 *                        (G1: gc*,gc+phases=debug, for its per-worker card-scan and copy times)
 *                3. parse the unified log (hotspot-log.ts) and the program's stdout
 *   runV8        1. node --trace-gc --max-semi-space-size=<s> --max-old-space-size=<heap - 3s>
 *                        workloads/ports/v8/<workload>.js --k=v ... --iterations=N
 *                2. parse the trace (v8-trace.ts) and the RESULT lines from the same stdout
 *   importedRunReport   a parsed log (+ optional program output) -> RunReport; also used by
 *                `heaplab import`
 *
 * Warm-up, DaCapo-style: the ports run the workload --iterations times in one VM and print
 * `ITERATION k START <ms>` / `ITERATION k END <ms>` on the VM's GC-log clock. Only the last
 * iteration is reported: pauses that start inside [START, END) of the last iteration, with their
 * times rebased so that the iteration starts at 0 ms; wallMs is the port's own elapsed_ms for
 * that iteration.
 *
 * V8 heap sizing (there is no -Xms/-Xmx): V8's young generation takes three semi-spaces (two
 * semi-spaces plus a new large-object space of the same size), so for a heap of H MiB we choose
 * semi = clamp(largest power of two <= H/16, 1, 16) MiB and old = H - 3 * semi MiB, making the
 * young + old limits add up to H: about 19% of the heap young (256m: 16 MiB semi-spaces, 208 MiB
 * old), like Node's default 16 MiB semi-spaces on large heaps. V8's own rule for an explicit
 * old-space size would give much smaller semi-spaces (old/256 below 512 MiB: 1 MiB at 256m),
 * which makes small-heap runs scavenge-bound; HotSpot's young generations are a third (Parallel)
 * or up to 60% (G1) of the heap. V8 still grows its heap dynamically up to those limits.
 *
 * Fields a production log cannot give: no barrier counters, no verification, allocation volume
 * only as a floor estimated from heap occupancy (sum over pauses of before minus the previous
 * pause's after; allocationSource 'heap'); the collector's constraints are our description of
 * it (read barriers of Shenandoah/ZGC cannot be expressed in BarrierChoice and show as 'none').
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CollectorConstraints, OptionValue } from '../vm-core/collector.js';
import { UsageError } from '../vm-core/errors.js';
import { captureEnvironment } from './environment.js';
import { parseHotspotLog } from './hotspot-log.js';
import { pausePercentiles } from './percentiles.js';
import type { ConcurrentPhaseRecord, PauseRecord } from './recorder.js';
import { type OccupancySample, RUN_REPORT_SCHEMA, type RunOutcome, type RunReport } from './run-report.js';
import { parseV8Trace } from './v8-trace.js';

/** A GC log parsed into heaplab's records; times in ms on the VM's own clock (JVM uptime, isolate time). */
export interface ParsedGcLog {
  source: 'hotspot' | 'v8';
  /** 'G1', 'Parallel', 'Serial', 'Shenandoah', 'Z', 'Epsilon', 'V8'; null if the log never says. */
  collector: string | null;
  vmVersion: string | null;
  heapMaxBytes: number | null;
  regionBytes: number | null;
  /** The VM touched every heap page before running (HotSpot's gc,init `Pre-touch:` line); null if the log does not say. */
  preTouch: boolean | null;
  pauses: PauseRecord[];
  concurrentPhases: ConcurrentPhaseRecord[];
  occupancy: OccupancySample[];
  firstMs: number;
  lastMs: number;
  /** Lines that carried a timestamp the parser understood. */
  decoratedLines: number;
  /** Lines that became a pause or a concurrent phase. */
  eventLines: number;
  outOfMemory: boolean;
}

/** The tool a production run needs (java, javac, node) is not installed. */
export class ToolMissingError extends Error {
  override name = 'ToolMissingError';
}

/** The installed JDK does not include the requested collector (e.g. no Shenandoah in this build). */
export class UnsupportedCollectorError extends ToolMissingError {
  override name = 'UnsupportedCollectorError';
}

export interface HotspotRunOptions {
  gc: string;
  workload: string;
  heapBytes: number;
  params: Record<string, number>;
  iterations: number;
  workDir: string;
  /** -XX:+AlwaysPreTouch: touch every heap page before the program runs (heaplab's --pretouch). */
  pretouch?: boolean;
  /** -XX:MaxGCPauseMillis (undefined: the JVM's default). */
  pauseGoalMs?: number;
}

export interface V8RunOptions {
  workload: string;
  heapBytes: number;
  params: Record<string, number>;
  iterations: number;
  workDir: string;
}

const MIB = 1024 * 1024;

/** HotSpot collectors by heaplab name: the flags that select them and what we know of them. */
export const HOTSPOT_COLLECTORS: Record<string, { flags: string[]; constraints: CollectorConstraints }> = {
  G1: {
    flags: ['-XX:+UseG1GC'],
    constraints: { moves: true, collects: true, generational: true, needsRemsets: true, concurrent: true, barriers: { preWrite: 'satb', postWrite: 'card', read: 'none' } },
  },
  Parallel: {
    flags: ['-XX:+UseParallelGC'],
    constraints: { moves: true, collects: true, generational: true, needsRemsets: false, concurrent: false, barriers: { preWrite: 'none', postWrite: 'card', read: 'none' } },
  },
  Serial: {
    flags: ['-XX:+UseSerialGC'],
    constraints: { moves: true, collects: true, generational: true, needsRemsets: false, concurrent: false, barriers: { preWrite: 'none', postWrite: 'card', read: 'none' } },
  },
  Shenandoah: {
    flags: ['-XX:+UseShenandoahGC'],
    constraints: { moves: true, collects: true, generational: false, needsRemsets: false, concurrent: true, barriers: { preWrite: 'satb', postWrite: 'none', read: 'none' } },
  },
  Z: {
    flags: ['-XX:+UseZGC'],
    constraints: { moves: true, collects: true, generational: false, needsRemsets: false, concurrent: true, barriers: { preWrite: 'none', postWrite: 'none', read: 'none' } },
  },
  Epsilon: {
    flags: ['-XX:+UnlockExperimentalVMOptions', '-XX:+UseEpsilonGC'],
    constraints: { moves: false, collects: false, generational: false, needsRemsets: false, concurrent: false, barriers: { preWrite: 'none', postWrite: 'none', read: 'none' } },
  },
};

const V8_CONSTRAINTS: CollectorConstraints = {
  moves: true, collects: true, generational: true, needsRemsets: true, concurrent: true,
  barriers: { preWrite: 'none', postWrite: 'card', read: 'none' },
};

const UNKNOWN_CONSTRAINTS: CollectorConstraints = {
  moves: false, collects: true, generational: false, needsRemsets: false, concurrent: false,
  barriers: { preWrite: 'none', postWrite: 'none', read: 'none' },
};

/** Java port classes by workload name. */
const JAVA_PORTS: Record<string, string> = { 'binary-trees': 'BinaryTrees', 'lru-cache': 'LruCache' };
const V8_PORTS: Record<string, string> = { 'binary-trees': 'binary-trees.js', 'lru-cache': 'lru-cache.js' };

/** 'g1' -> 'G1', 'shenandoah' -> 'Shenandoah'; UsageError for a collector HotSpot does not have. */
export function hotspotCollectorName(gc: string): string {
  const name = Object.keys(HOTSPOT_COLLECTORS).find((k) => k.toLowerCase() === gc.trim().toLowerCase().replace(/gc$/, ''));
  if (!name) throw new UsageError(`unknown HotSpot collector '${gc}' (known: ${Object.keys(HOTSPOT_COLLECTORS).join(', ')})`);
  return name;
}

/** workloads/ports, from this module in the source tree (reports/) or in dist/reports/. */
export function portsDir(): string {
  for (const relative of ['../workloads/ports/', '../../workloads/ports/']) {
    const dir = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(join(dir, 'java')) && existsSync(join(dir, 'v8'))) return dir;
  }
  throw new Error('heaplab: workloads/ports not found next to reports/ (is the installation complete?)');
}

/** heaplab parameter names to the ports' flags: keyspaceFactor=4 -> --keyspace-factor=4. */
export function portArgs(params: Record<string, number>, iterations: number): string[] {
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new UsageError(`iterations ${iterations} must be a positive integer`);
  const args: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (!Number.isSafeInteger(value)) throw new UsageError(`parameter ${key}=${value} is not an integer`);
    args.push(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${value}`);
  }
  args.push(`--iterations=${iterations}`);
  return args;
}

/** V8 heap limits for a heap of heapBytes (see the header). */
export function v8HeapFlags(heapBytes: number): { semiMiB: number; oldMiB: number; flags: string[] } {
  const heapMiB = Math.max(1, Math.floor(heapBytes / MIB));
  let semiMiB = 1;
  while (semiMiB * 2 <= heapMiB / 16 && semiMiB < 16) semiMiB *= 2;
  const oldMiB = Math.max(4, heapMiB - 3 * semiMiB);
  return { semiMiB, oldMiB, flags: [`--max-semi-space-size=${semiMiB}`, `--max-old-space-size=${oldMiB}`] };
}

// ---------------------------------------------------------------------------------------------
// Program output: iteration markers and RESULT lines

export interface IterationMark {
  k: number;
  startMs: number;
  endMs: number | null;
  /** The RESULT line printed inside this iteration, or null. */
  resultLine: string | null;
}

/** The ports' ITERATION/RESULT lines, in order (other lines, e.g. trace lines, are skipped). */
export function parseProgramOutput(text: string): IterationMark[] {
  const marks: IterationMark[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    let m: RegExpExecArray | null;
    if ((m = /^ITERATION (\d+) START (\d+(?:\.\d+)?)$/.exec(line))) {
      marks.push({ k: Number(m[1]), startMs: Number(m[2]), endMs: null, resultLine: null });
    } else if ((m = /^ITERATION (\d+) END (\d+(?:\.\d+)?)$/.exec(line))) {
      const last = marks[marks.length - 1];
      if (last && last.k === Number(m[1])) last.endMs = Number(m[2]);
    } else if (line.startsWith('RESULT ')) {
      const last = marks[marks.length - 1];
      if (last) last.resultLine = line;
      else marks.push({ k: 1, startMs: 0, endMs: null, resultLine: line });
    }
  }
  return marks;
}

/** `RESULT workload=x lang=java elapsed_ms=1.5 a=1 b=2` -> values {a, b}, elapsed, workload, and heaplab's form of the line. */
export function parseResultLine(line: string): { workload: string; elapsedMs: number | null; values: Record<string, number>; line: string } {
  let workload = 'unknown';
  let elapsedMs: number | null = null;
  const values: Record<string, number> = {};
  for (const pair of line.replace(/^RESULT\s+/, '').split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (key === 'workload') workload = value;
    else if (key === 'lang') continue;
    else if (key === 'elapsed_ms') elapsedMs = Number(value);
    else if (/^-?\d+(?:\.\d+)?$/.test(value)) values[key] = Number(value);
  }
  const normalized = `RESULT workload=${workload} ${Object.entries(values).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  return { workload, elapsedMs, values, line: normalized };
}

// ---------------------------------------------------------------------------------------------
// Parsed log -> RunReport

export interface ImportOptions {
  /** e.g. 'hotspot-G1', 'v8'. */
  collectorName: string;
  workload: string;
  params: Record<string, number>;
  heapBytes: number;
  /** The program's stdout with ITERATION/RESULT lines; without it the whole log is reported. */
  programOutput?: string;
  options?: Record<string, OptionValue>;
  outcome?: RunOutcome;
  error?: string;
}

/** Sum over pauses of (used before - used after the previous pause): allocation the log proves, a floor. */
function allocationFloor(pauses: PauseRecord[], usedBefore: number): number {
  let total = 0;
  let previousAfter = usedBefore;
  for (const p of pauses) {
    total += Math.max(0, p.usedBytesBefore - previousAfter);
    previousAfter = p.usedBytesAfter;
  }
  return total;
}

export function importedRunReport(log: ParsedGcLog, o: ImportOptions): RunReport {
  const marks = o.programOutput !== undefined ? parseProgramOutput(o.programOutput) : [];
  const last = marks.length > 0 ? marks[marks.length - 1] : null;
  const windowStart = last ? last.startMs : 0;
  const windowEnd = last?.endMs ?? Number.POSITIVE_INFINITY;
  const parsedResult = last?.resultLine ? parseResultLine(last.resultLine) : null;
  const inWindow = (t: number): boolean => t >= windowStart && t < windowEnd;
  const rebase = (t: number): number => Math.round((t - windowStart) * 1e6) / 1e6;

  const before = log.pauses.filter((p) => p.startMs < windowStart);
  const pauses = log.pauses
    .filter((p) => inWindow(p.startMs))
    .map((p, index) => ({ ...p, index, startMs: rebase(p.startMs), phases: { ...p.phases }, counters: { ...p.counters } }));
  const concurrentPhases = log.concurrentPhases
    .filter((c) => c.startMs + Math.max(0, c.durationMs) > windowStart && c.startMs < windowEnd)
    .map((c) => {
      const start = Math.max(c.startMs, windowStart);
      return { phase: c.phase, startMs: rebase(start), durationMs: c.durationMs < 0 ? -1 : Math.round((c.startMs + c.durationMs - start) * 1e6) / 1e6 };
    });
  const occupancy = log.occupancy.filter((s) => inWindow(s.timeMs)).map((s) => ({ timeMs: rebase(s.timeMs), usedBytes: s.usedBytes }));

  const gcMs = pauses.reduce((sum, p) => sum + p.durationMs, 0);
  const lastEvent = Math.max(log.lastMs, ...pauses.map((p) => p.startMs + windowStart + p.durationMs));
  const wallMs = parsedResult?.elapsedMs ?? (last?.endMs != null ? last.endMs - windowStart : Math.max(0, lastEvent - windowStart));
  const outOfMemory = o.outcome === 'out-of-memory' || log.outOfMemory;
  const concurrentCounters: Record<string, number> = {};
  for (const p of pauses) {
    if (p.counters.incrementalMarkingMs !== undefined) {
      concurrentCounters.incrementalMarkingMs = (concurrentCounters.incrementalMarkingMs ?? 0) + p.counters.incrementalMarkingMs;
      concurrentCounters.incrementalSteps = (concurrentCounters.incrementalSteps ?? 0) + (p.counters.incrementalSteps ?? 0);
    }
  }
  const regionBytes = log.regionBytes ?? 0;
  const source = log.source;
  const hotspotInfo = log.collector && source === 'hotspot' ? HOTSPOT_COLLECTORS[log.collector] : undefined;
  const constraints = source === 'v8' ? V8_CONSTRAINTS : hotspotInfo?.constraints ?? UNKNOWN_CONSTRAINTS;

  return {
    schema: RUN_REPORT_SCHEMA,
    outcome: outOfMemory ? 'out-of-memory' : 'ok',
    ...(outOfMemory ? { error: o.error ?? `${source === 'v8' ? 'V8' : 'the JVM'} ran out of memory` } : {}),
    configuration: {
      collector: {
        name: o.collectorName,
        source,
        options: {
          ...(log.vmVersion ? { vmVersion: log.vmVersion } : {}),
          ...(last ? { reportedIteration: last.k, iterationStartMs: windowStart } : {}),
          ...o.options,
        },
        constraints,
      },
      workload: { name: o.workload, params: o.params },
      heapBytes: o.heapBytes,
      regionBytes,
      regionCount: regionBytes > 0 ? Math.floor(o.heapBytes / regionBytes) : 0,
      verify: 'off',
      stressGc: 0,
      countBarriers: false,
      ...(log.preTouch !== null ? { pretouch: log.preTouch } : {}),
    },
    environment: captureEnvironment(),
    gcCount: pauses.length,
    wallMs,
    gcMs,
    mutatorMs: Math.max(0, wallMs - gcMs),
    gcShare: wallMs > 0 ? gcMs / wallMs : 0,
    allocatedBytes: allocationFloor(pauses, before.length > 0 ? before[before.length - 1].usedBytesAfter : 0),
    allocationSource: 'heap',
    percentiles: pausePercentiles(pauses.map((p) => p.durationMs)),
    verification: { level: 'off', count: 0, ms: 0 },
    barrierCounters: {},
    occupancy,
    pauses,
    concurrentPhases,
    concurrentCounters,
    result: !outOfMemory && parsedResult ? { values: parsedResult.values, line: parsedResult.line } : null,
  };
}

// ---------------------------------------------------------------------------------------------
// Processes

interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to completion; ToolMissingError when the executable is not found. */
function runProgram(command: string, args: string[], cwd?: string): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') reject(new ToolMissingError(`${command} is not installed (not found on PATH)`));
      else reject(e);
    });
    child.on('close', (code, signal) => {
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

function firstLine(text: string): string {
  return text.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? '';
}

let runCounter = 0;
function uniqueName(prefix: string): string {
  runCounter++;
  return `${prefix}-${process.pid}-${Date.now()}-${runCounter}`;
}

/**
 * Compiles the Java ports into workDir/java-classes-<hash of the sources> once; later calls
 * (and other processes) reuse it. Compiled in a temp directory and renamed into place, so a
 * half-compiled directory is never used.
 */
export async function compileJavaPorts(workDir: string): Promise<string> {
  const sourceDir = join(portsDir(), 'java');
  const sources = readdirSync(sourceDir).filter((f) => f.endsWith('.java')).sort();
  const hash = createHash('sha256');
  for (const f of sources) hash.update(f).update('\0').update(readFileSync(join(sourceDir, f))).update('\0');
  const classesDir = join(workDir, `java-classes-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(classesDir, '.complete'))) return classesDir;
  mkdirSync(workDir, { recursive: true });
  const temp = join(workDir, uniqueName('.java-classes'));
  const compiled = await runProgram('javac', ['-nowarn', '-d', temp, ...sources.map((f) => join(sourceDir, f))]);
  if (compiled.code !== 0) {
    rmSync(temp, { recursive: true, force: true });
    throw new Error(`javac failed on heaplab's Java ports: ${firstLine(compiled.stderr + compiled.stdout)}`);
  }
  writeFileSync(join(temp, '.complete'), 'ok\n');
  try {
    renameSync(temp, classesDir);
  } catch {
    rmSync(temp, { recursive: true, force: true }); // another run got there first
    if (!existsSync(join(classesDir, '.complete'))) throw new Error(`cannot create ${classesDir}`);
  }
  return classesDir;
}

function outOfMemoryLine(text: string, pattern: RegExp): string | null {
  const line = text.split(/\r?\n/).find((l) => pattern.test(l));
  return line ? line.trim() : null;
}

/** One run of a Java port under a HotSpot collector, reported like a heaplab run. */
export async function runHotspot(o: HotspotRunOptions): Promise<RunReport> {
  const gc = hotspotCollectorName(o.gc);
  const className = JAVA_PORTS[o.workload];
  if (!className) throw new UsageError(`no Java port of workload '${o.workload}' (ports: ${Object.keys(JAVA_PORTS).join(', ')})`);
  if (!Number.isSafeInteger(o.heapBytes) || o.heapBytes < MIB) throw new UsageError(`heap size ${o.heapBytes} is too small for a JVM (at least 1 MiB)`);
  const args0 = portArgs(o.params, o.iterations);
  const classesDir = await compileJavaPorts(o.workDir);
  const logFile = join(o.workDir, `${uniqueName(`hotspot-${gc}-${o.workload}`)}.gc.log`);
  const heapFlag = `${Math.ceil(o.heapBytes / 1024)}k`;
  const jvmFlags = [...HOTSPOT_COLLECTORS[gc].flags, `-Xms${heapFlag}`, `-Xmx${heapFlag}`, ...(o.pretouch ? ['-XX:+AlwaysPreTouch'] : []),
    ...(o.pauseGoalMs !== undefined ? [`-XX:MaxGCPauseMillis=${o.pauseGoalMs}`] : []), `-Xlog:${gc === 'G1' ? 'gc*,gc+phases=debug' : 'gc*'}:file="${logFile}":uptime,uptimenanos,level,tags`];
  const run = await runProgram('java', [...jvmFlags, '-cp', classesDir, className, ...args0]);
  const output = run.stdout + run.stderr;
  writeFileSync(`${logFile}.stdout.txt`, run.stdout); // for `heaplab import hotspot <log> --stdout <this>`

  if (run.code !== 0 && /Unrecognized VM option '\S*Use\w+GC'|Use\w+GC\b.*not (?:supported|available)|GC is not supported/i.test(output)) {
    throw new UnsupportedCollectorError(`this JDK cannot run the ${gc} collector (${HOTSPOT_COLLECTORS[gc].flags.join(' ')}): ${firstLine(run.stderr || run.stdout)}`);
  }
  if (run.code !== 0 && /Could not create the Java Virtual Machine/.test(output)) {
    throw new Error(`java could not start (${gc}, heap ${heapFlag}): ${firstLine(run.stderr || run.stdout)}`);
  }
  const oom = outOfMemoryLine(output, /java\.lang\.OutOfMemoryError/);
  if (!oom && run.code !== 0) {
    throw new Error(`java (${gc}, ${o.workload}) exited with ${run.signal ?? `code ${run.code}`}: ${firstLine(run.stderr) || 'no message'}`);
  }
  let logText = '';
  try {
    logText = readFileSync(logFile, 'utf8');
  } catch {
    throw new Error(`java (${gc}, ${o.workload}) wrote no GC log at ${logFile}`);
  }
  const log = parseHotspotLog(logText);
  return importedRunReport(log, {
    collectorName: `hotspot-${gc}`,
    workload: o.workload,
    params: o.params,
    heapBytes: o.heapBytes,
    programOutput: run.stdout,
    options: { gc, jvmFlags: jvmFlags.slice(0, -1).join(' '), gcLog: logFile, iterations: o.iterations },
    ...(oom ? { outcome: 'out-of-memory' as const, error: `${oom} (heap ${o.heapBytes} bytes, ${gc})` } : {}),
  });
}

/** One run of a native-JS port under V8 (this Node's), reported like a heaplab run. */
export async function runV8(o: V8RunOptions): Promise<RunReport> {
  const file = V8_PORTS[o.workload];
  if (!file) throw new UsageError(`no V8 port of workload '${o.workload}' (ports: ${Object.keys(V8_PORTS).join(', ')})`);
  if (!Number.isSafeInteger(o.heapBytes) || o.heapBytes < 8 * MIB) throw new UsageError(`heap size ${o.heapBytes} is too small for V8 (at least 8 MiB)`);
  const args0 = portArgs(o.params, o.iterations);
  const heap = v8HeapFlags(o.heapBytes);
  const nodeFlags = ['--trace-gc', ...heap.flags];
  mkdirSync(o.workDir, { recursive: true });
  const run = await runProgram(process.execPath, [...nodeFlags, join(portsDir(), 'v8', file), ...args0]);
  const traceFile = join(o.workDir, `${uniqueName(`v8-${o.workload}`)}.trace.txt`);
  writeFileSync(traceFile, run.stdout + (run.stderr ? `\n${run.stderr}` : ''));
  const oom = outOfMemoryLine(run.stderr, /JavaScript heap out of memory|Reached heap limit/);
  if (!oom && run.code !== 0) {
    throw new Error(`node (${o.workload}) exited with ${run.signal ?? `code ${run.code}`}: ${firstLine(run.stderr) || 'no message'}`);
  }
  const log = parseV8Trace(run.stdout);
  return importedRunReport(log, {
    collectorName: 'v8',
    workload: o.workload,
    params: o.params,
    heapBytes: o.heapBytes,
    programOutput: run.stdout,
    options: {
      vmVersion: process.versions.v8,
      nodeFlags: nodeFlags.join(' '),
      semiSpaceMiB: heap.semiMiB,
      oldSpaceMiB: heap.oldMiB,
      trace: traceFile,
      iterations: o.iterations,
    },
    ...(oom ? { outcome: 'out-of-memory' as const, error: `${oom} (heap ${o.heapBytes} bytes: old ${heap.oldMiB} MiB + 3 x ${heap.semiMiB} MiB semi-space)` } : {}),
  });
}
