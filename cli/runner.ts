/**
 * One run, start to finish: load the collector and the workload, check every
 * input, build the VM, subscribe the pause recorder, run the workload under a
 * wall clock and turn what happened into a RunReport. Used by `heaplab run`,
 * the tests, and `compare` (one call per fresh process).
 *
 * Bad input throws UsageError before anything runs. Running out of memory is a
 * result, not an exception: the report says outcome 'out-of-memory'. Anything
 * else (a VerificationError, a bug) propagates with its stack trace.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadCollector } from '../collectors/registry.js';
import { captureEnvironment } from '../reports/environment.js';
import { PauseRecorder } from '../reports/recorder.js';
import { type RunConfiguration, type RunReport, buildRunReport } from '../reports/run-report.js';
import { OutOfMemoryError, UsageError } from '../vm-core/errors.js';
import { VERIFY_LEVELS, type VerifyLevel } from '../vm-core/verifier.js';
import { Vm } from '../vm-core/vm.js';
import { findWorkload, resolveParams } from '../workloads/registry.js';
import { type Workload, type WorkloadResult, resultLine } from '../workloads/workload.js';

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
}

export async function runOnce(options: RunOptions): Promise<RunReport> {
  checkRunOptions(options);
  const plugin = await loadCollector(options.collector);
  const workload = await loadWorkload(options.workload);
  const params = workloadParams(workload, options.params ?? {}, options.seed);
  const verify = options.verify ?? 'off';
  const stressGc = options.stressGc ?? 0;
  const countBarriers = options.countBarriers ?? true;
  const environment = captureEnvironment();

  const vm = new Vm({
    heapBytes: options.heapBytes,
    regionBytes: options.regionBytes,
    collector: plugin,
    collectorOptions: options.collectorOptions ?? {},
    verify,
    stressGc,
    countBarriers,
  });
  const heap = vm.heap;
  const recorder = new PauseRecorder(() => heap.accountedWords);
  vm.events.subscribe(recorder);

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
  };

  const mutator = vm.newMutator();
  let values: WorkloadResult | null = null;
  let oom: OutOfMemoryError | null = null;
  const t0 = performance.now();
  try {
    values = workload.run({ mutator, types: vm.types, params, collect: (cause?: string) => vm.collect(cause ?? 'explicit') });
  } catch (e) {
    if (!(e instanceof OutOfMemoryError)) throw e;
    oom = e;
  }
  const wallMs = performance.now() - t0;
  // Give back the last TLAB's unused tail so the allocation count is what the workload used.
  vm.collector.retireTlab(mutator);

  return buildRunReport({
    vm,
    recorder,
    configuration,
    environment,
    wallMs,
    outcome: oom ? 'out-of-memory' : 'ok',
    ...(oom ? { error: oom.message } : {}),
    result: values ? { values, line: resultLine(workload.name, values) } : null,
  });
}
