/**
 * One run, start to finish: load the collector and the workload, check every
 * input, build the VM, subscribe the pause recorder, run the workload under a
 * wall clock and turn what happened into a RunReport. Used by `heaplab run`,
 * the tests, and `compare` (one call per fresh process).
 *
 * Warm-up as DaCapo does it: with iterations N the workload runs N times in
 * this process, each iteration on a fresh Vm with the same collector (so V8
 * still sees one barrier class), and the report is the LAST iteration's; the
 * report says so (top-level `iterations` and `reportedIteration`, 1-based). An
 * iteration that runs out of memory ends the run and is the one reported.
 * Request latency (--latency, workloads with requests only) and the GC log
 * (--log / --log-level) cover the reported iteration only.
 *
 * Bad input throws UsageError before anything runs. Running out of memory is a
 * result, not an exception: the report says outcome 'out-of-memory'. Anything
 * else (a VerificationError, a bug) propagates with its stack trace.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { PersistenceReport } from '../collectors/gcpersist/persistence.js';
import { loadCollector } from '../collectors/registry.js';
import { type Environment, captureEnvironment } from '../reports/environment.js';
import type { LatencySummary } from '../reports/compare-types.js';
import { attachGcLog } from '../reports/gc-log.js';
import { RequestLatencyRecorder } from '../reports/latency.js';
import { PauseRecorder } from '../reports/recorder.js';
import { type RunConfiguration, type RunReport, buildRunReport } from '../reports/run-report.js';
import type { CollectorPlugin } from '../vm-core/collector.js';
import { OutOfMemoryError, UsageError } from '../vm-core/errors.js';
import { VERIFY_LEVELS, type VerifyLevel } from '../vm-core/verifier.js';
import { Vm } from '../vm-core/vm.js';
import { type WarmupResult, warmsUp, warmUpCollector } from './collector-warmup.js';
import { findWorkload, resolveParams } from '../workloads/registry.js';
import { type Workload, type WorkloadContext, type WorkloadResult, resultLine } from '../workloads/workload.js';

export interface RunOptions {
  /** A built-in collector name, or a module path exporting a CollectorPlugin. */
  collector: string;
  /** A built-in workload name, or a module path exporting a Workload. */
  workload: string;
  heapBytes: number;
  regionBytes?: number;
  /** The workload's `seed` parameter (an error for a workload without one). */
  seed?: number;
  params?: Record<string, string>;
  verify?: VerifyLevel;
  stressGc?: number;
  collectorOptions?: Record<string, string>;
  /** Count barrier fast/slow/filtered outcomes (default true). */
  countBarriers?: boolean;
  /** Touch every heap page before the workload starts (as -XX:+AlwaysPreTouch). */
  pretouch?: boolean;
  /** Run the collector's JIT warm-up program before the workload (collector-warmup.ts; default true, large heaps only). */
  jitWarmup?: boolean;
  /** Workload iterations in this process, each on a fresh Vm; the last is reported (default 1). */
  iterations?: number;
  /** Record per-request latency (workloads with requests only; an error for others). */
  latency?: boolean;
  /** GC log of the reported iteration: JSON lines to `file`, -Xlog:gc-style lines on the terminal at info/debug. */
  log?: { file?: string; level: GcLogLevel };
  /** GCPersist (collectors with an `image` option): image file to create, image to recover at start-up, persistence mode. */
  image?: string;
  recover?: string;
  persistMode?: string;
}

export const GC_LOG_LEVELS = ['silent', 'info', 'debug'] as const;
export type GcLogLevel = (typeof GC_LOG_LEVELS)[number];

/**
 * A RunReport with the fields `heaplab run` adds to it (additive, schema
 * unchanged): the warm-up policy and, with --latency, request latency
 * summaries (simple and metered, milliseconds).
 */
export type MeasuredRunReport = RunReport & {
  /** Iterations run in the process (DaCapo-style warm-up). */
  iterations?: number;
  /** Which iteration this report describes (1-based): the last one run. */
  reportedIteration?: number;
  latency?: LatencySummary[];
  /** A persisting collector's totals (gcpersist): epochs, bytes, write/sync time, eager log, recovery. */
  persistence?: PersistenceReport;
  /** The collector's JIT warm-up before the first iteration, on a heap of its own (not part of any reported figure). */
  jitWarmup?: WarmupResult;
};

/** --image/--recover/--persist-mode become the persisting collector's options; other collectors refuse them. */
function withPersistenceOptions(plugin: CollectorPlugin, o: RunOptions): RunOptions {
  const given: Record<string, string> = {};
  if (o.image !== undefined) given.image = o.image;
  if (o.recover !== undefined) given.recover = o.recover;
  if (o.persistMode !== undefined) given.persistMode = o.persistMode;
  if (Object.keys(given).length === 0) return o;
  const flags = Object.keys(given).map((k) => (k === 'persistMode' ? '--persist-mode' : `--${k}`)).join(', ');
  if (!('image' in plugin.options)) throw new UsageError(`${flags}: collector ${plugin.name} does not persist (use gcpersist)`);
  if ((o.iterations ?? 1) > 1 && (o.image !== undefined || o.recover !== undefined)) throw new UsageError(`${flags}: only with --iterations 1 (each iteration would need its own image)`);
  return { ...o, collectorOptions: { ...(o.collectorOptions ?? {}), ...given } };
}

function looksLikePath(name: string): boolean {
  return name.startsWith('.') || name.startsWith('/') || /\.(m?js|ts)$/.test(name);
}

function checkWorkload(w: unknown, where: string): Workload {
  const x = w as Partial<Workload> | undefined;
  if (!x || typeof x.name !== 'string' || typeof x.run !== 'function' || typeof x.params !== 'object' || x.params === null) {
    throw new UsageError(`${where} does not export a workload (name, description, params, run)`);
  }
  return x as Workload;
}

/** A built-in workload by name, or a module whose default export (or export named `workload`) is a Workload. */
export async function loadWorkload(nameOrPath: string): Promise<Workload> {
  if (!looksLikePath(nameOrPath)) return findWorkload(nameOrPath);
  const file = resolve(nameOrPath);
  if (!existsSync(file)) throw new UsageError(`workload module ${nameOrPath} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw new UsageError(`workload module ${nameOrPath} failed to load: ${(e as Error).message.split('\n')[0]}`);
  }
  return checkWorkload(mod.default ?? mod.workload, nameOrPath);
}

/** The workload's parameters: defaults, then --param values, then --seed. */
export function workloadParams(w: Workload, given: Record<string, string>, seed: number | undefined): Record<string, number> {
  if (seed === undefined) return resolveParams(w, given);
  if (!('seed' in w.params)) throw new UsageError(`workload ${w.name} takes no seed (parameters: ${Object.keys(w.params).join(', ') || 'none'})`);
  if ('seed' in given && Number(given.seed) !== seed) throw new UsageError(`--seed ${seed} and --param seed=${given.seed} disagree`);
  return resolveParams(w, { ...given, seed: String(seed) });
}

function checkRunOptions(o: RunOptions): void {
  if (!Number.isSafeInteger(o.heapBytes) || o.heapBytes <= 0) throw new UsageError(`heap size ${o.heapBytes} is not a positive number of bytes`);
  if (o.verify !== undefined && !VERIFY_LEVELS.includes(o.verify)) {
    throw new UsageError(`verify level '${o.verify}' is not one of ${VERIFY_LEVELS.join(', ')}`);
  }
  if (o.stressGc !== undefined && !(Number.isSafeInteger(o.stressGc) && o.stressGc >= 0)) {
    throw new UsageError(`stress-gc interval ${o.stressGc} is not a non-negative integer`);
  }
  if (o.seed !== undefined && !Number.isSafeInteger(o.seed)) throw new UsageError(`seed ${o.seed} is not an integer`);
  if (o.iterations !== undefined && !(Number.isSafeInteger(o.iterations) && o.iterations >= 1)) {
    throw new UsageError(`iterations ${o.iterations} is not a positive integer`);
  }
  if (o.log !== undefined && !GC_LOG_LEVELS.includes(o.log.level)) {
    throw new UsageError(`log level '${o.log.level}' is not one of ${GC_LOG_LEVELS.join(', ')}`);
  }
}

export async function runOnce(options: RunOptions): Promise<MeasuredRunReport> {
  checkRunOptions(options);
  const plugin = await loadCollector(options.collector);
  options = withPersistenceOptions(plugin, options);
  const workload = await loadWorkload(options.workload);
  const params = workloadParams(workload, options.params ?? {}, options.seed);
  const requests = workload.requests;
  if (options.latency && requests === undefined) {
    throw new UsageError(`workload ${workload.name} has no requests to measure latency of (--latency works with: lru-cache)`);
  }
  const iterations = options.iterations ?? 1;
  const environment = captureEnvironment();
  const jitWarmup = (options.jitWarmup ?? true) && (options.verify ?? 'off') === 'off' && (options.stressGc ?? 0) === 0 && warmsUp(plugin, options.heapBytes)
    ? warmUpCollector(plugin, options.collectorOptions ?? {})
    : undefined;
  let report: MeasuredRunReport | null = null;
  for (let i = 1; i <= iterations && (report === null || report.outcome === 'ok'); i++) {
    const last = i === iterations;
    const latency = last && options.latency && requests !== undefined
      ? new RequestLatencyRecorder(Math.max(1, Math.ceil(requests.call(workload, params))))
      : null;
    const single = await runIteration(options, plugin, workload, params, environment, latency, last ? options.log : undefined);
    report = { ...single, iterations, reportedIteration: i, ...(latency ? { latency: latency.summaries() } : {}), ...(jitWarmup ? { jitWarmup } : {}) };
  }
  return report as MeasuredRunReport;
}

/** One iteration: a fresh Vm, the recorder, the workload under a wall clock, its RunReport. */
async function runIteration(
  options: RunOptions,
  plugin: CollectorPlugin,
  workload: Workload,
  params: Record<string, number>,
  environment: Environment,
  latency: RequestLatencyRecorder | null,
  log: RunOptions['log'],
): Promise<RunReport & { persistence?: PersistenceReport }> {
  const verify = options.verify ?? 'off';
  const stressGc = options.stressGc ?? 0;
  const countBarriers = options.countBarriers ?? true;

  const vm = new Vm({
    heapBytes: options.heapBytes,
    regionBytes: options.regionBytes,
    collector: plugin,
    collectorOptions: options.collectorOptions ?? {},
    verify,
    stressGc,
    countBarriers,
    pretouch: options.pretouch ?? false,
  });
  const heap = vm.heap;
  const recorder = new PauseRecorder(() => heap.accountedWords);
  vm.events.subscribe(recorder);
  const gcLog = log !== undefined && (log.file !== undefined || log.level !== 'silent')
    ? attachGcLog(vm, { ...(log.file !== undefined ? { file: log.file } : {}), level: log.level, heapBytes: heap.heapBytes })
    : null;

  const configuration: RunConfiguration = {
    collector: {
      name: plugin.name,
      source: options.collector === plugin.name ? 'built-in' : options.collector,
      options: vm.options,
      constraints: plugin.constraints,
    },
    workload: { name: workload.name, params },
    heapBytes: heap.heapBytes,
    regionBytes: heap.geometry.regionBytes,
    regionCount: heap.regionCount,
    verify,
    stressGc,
    countBarriers,
    pretouch: options.pretouch ?? false,
  };

  const mutator = vm.newMutator();
  let values: WorkloadResult | null = null;
  let oom: OutOfMemoryError | null = null;
  const ctx: WorkloadContext = { mutator, types: vm.types, params, collect: (cause?: string) => vm.collect(cause ?? 'explicit') };
  if (latency) ctx.latency = latency;
  const t0 = performance.now();
  try {
    values = workload.run(ctx);
  } catch (e) {
    if (!(e instanceof OutOfMemoryError)) {
      if (gcLog) await gcLog.close();
      (vm.collector as { shutdown?(): void }).shutdown?.();
      throw e;
    }
    oom = e;
  }
  const wallMs = performance.now() - t0;
  // Give back the last TLAB's unused tail so the allocation count is what the workload used.
  vm.collector.retireTlab(mutator);
  if (gcLog) await gcLog.close();
  // a persisting collector flushes its write-through log and closes its image
  const persisting = vm.collector as { persistenceReport?(): PersistenceReport; shutdown?(): void };
  persisting.shutdown?.();

  const report = buildRunReport({
    vm,
    recorder,
    configuration,
    environment,
    wallMs,
    outcome: oom ? 'out-of-memory' : 'ok',
    ...(oom ? { error: oom.message } : {}),
    result: values ? { values, line: resultLine(workload.name, values) } : null,
  });
  return persisting.persistenceReport ? { ...report, persistence: persisting.persistenceReport() } : report;
}
