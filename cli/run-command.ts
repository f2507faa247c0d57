/**
 * `heaplab run`: one collector on one workload in this process. Prints the
 * summary and, with --out, writes the JSON run report (atomically: a temp file
 * renamed into place, so a failed run never leaves half a report). Bad input
 * writes nothing; an out-of-memory run writes its (failed) report and exits 3.
 */
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { runSummary } from '../reports/summary.js';
import { OutOfMemoryError, UsageError } from '../vm-core/errors.js';
import { parseSize } from '../vm-core/sizes.js';
import { VERIFY_LEVELS, type VerifyLevel } from '../vm-core/verifier.js';
import { formatMs } from '../reports/summary.js';
import { imageInfo } from '../collectors/gcpersist/image-info.js';
import { formatBytes } from '../vm-core/sizes.js';
import { GC_LOG_LEVELS, type GcLogLevel, type MeasuredRunReport, type RunOptions, runOnce } from './runner.js';

interface RunFlags {
  collector: string;
  workload: string;
  heap: string;
  regionSize?: string;
  seed?: string;
  param: string[];
  gcOpt: string[];
  pauseGoal?: string;
  concurrentMark?: string;
  verify: string;
  stressGc: string;
  barrierCounters: boolean;
  pretouch: boolean;
  jitWarmup: boolean;
  iterations: string;
  latency: boolean;
  log?: string;
  logLevel: string;
  out?: string;
  image?: string;
  recover?: string;
  persistMode?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `k=v` pairs into a record (a later pair wins). */
export function parsePairs(pairs: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z_][\w.-]*)=(.*)$/.exec(pair);
    if (!m || m[2] === '') throw new UsageError(`${flag}: '${pair}' is not key=value`);
    out[m[1]] = m[2];
  }
  return out;
}

export function parseInteger(text: string, flag: string, min: number): number {
  if (!/^-?\d+$/.test(text.trim())) throw new UsageError(`${flag}: '${text}' is not an integer`);
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`${flag}: ${text} must be an integer of at least ${min}`);
  return n;
}

export function parseOnOff(text: string, flag: string): string {
  const t = text.trim().toLowerCase();
  if (t !== 'on' && t !== 'off') throw new UsageError(`${flag}: '${text}' is not on or off`);
  return t;
}

export function parseVerifyLevel(text: string): VerifyLevel {
  if (!(VERIFY_LEVELS as string[]).includes(text)) throw new UsageError(`--verify: '${text}' is not one of ${VERIFY_LEVELS.join(', ')}`);
  return text as VerifyLevel;
}

/** Refuses an --out that cannot be a file (an existing directory) before anything runs. */
export function checkOutFile(path: string): void {
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return; // does not exist yet: fine
  }
  if (isDirectory) throw new UsageError(`--out ${path} is a directory; give a file name`);
}

/** Writes a file whole or not at all: a temp file in the same directory, then rename. */
export function writeFileAtomic(path: string, text: string): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const temp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, text);
    renameSync(temp, path);
  } catch (e) {
    rmSync(temp, { force: true });
    throw new UsageError(`cannot write ${path}: ${(e as Error).message}`);
  }
}

export function parseLogLevel(text: string): GcLogLevel {
  if (!(GC_LOG_LEVELS as readonly string[]).includes(text)) throw new UsageError(`--log-level: '${text}' is not one of ${GC_LOG_LEVELS.join(', ')}`);
  return text as GcLogLevel;
}

/** The lines `heaplab run` prints after the run summary: warm-up policy and request latency. */
export function measuredLines(report: MeasuredRunReport): string[] {
  const lines: string[] = [];
  if (report.iterations !== undefined && report.iterations > 1) {
    lines.push(`  ${'iterations'.padEnd(12)}${report.iterations} (each on a fresh VM); reported: iteration ${report.reportedIteration ?? report.iterations}`);
  }
  if (report.jitWarmup !== undefined) {
    lines.push(`  ${'jit warm-up'.padEnd(12)}${report.jitWarmup.pauses} pauses on a 64 MiB heap of its own, ${formatMs(report.jitWarmup.ms)} ms before the run (--no-jit-warmup skips it)`);
  }
  for (const l of report.latency ?? []) {
    lines.push(`  ${`${l.kind} lat`.padEnd(12)}ms p50 ${formatMs(l.p50)}  p90 ${formatMs(l.p90)}  p99 ${formatMs(l.p99)}  p99.9 ${formatMs(l.p99_9)}  max ${formatMs(l.max)}`);
  }
  lines.push(...persistenceLines(report));
  return lines;
}

/** gcpersist: what was persisted, at what cost, and what recovery loaded. */
export function persistenceLines(report: MeasuredRunReport): string[] {
  const p = report.persistence;
  if (!p) return [];
  const label = (name: string): string => `  ${name.padEnd(12)}`;
  const lines: string[] = [];
  if (p.recovery) {
    const r = p.recovery;
    const log = r.log.status === 'ok' ? `; eager log: ${r.log.stores} stores, ${r.log.objects} objects replayed${r.log.tornTail ? ' (torn tail ignored)' : ''}` : '';
    lines.push(`${label('recovery')}epoch ${r.epoch} of ${r.from}: ${r.regions} regions, ${formatBytes(r.bytes)}, ${r.reachableObjects} objects, ${formatMs(r.ms)} ms${log}`);
  }
  if (p.mode === 'off') return lines;
  const where = p.image === '' ? 'in memory' : `${p.image} epoch ${p.epoch}`;
  lines.push(`${label('persist')}${p.mode}: ${p.commits} commits (${p.commitsSkipped} with nothing new), ${formatBytes(p.bytesPersisted)} written, write ${formatMs(p.writeMs)} ms, sync ${formatMs(p.syncMs)} ms; ${where}`);
  lines.push(`${label('')}${formatBytes(p.persistentBytes)} in ${p.persistentRegions} persistent regions; ${p.objectsPreCopied} objects pre-copied (${formatBytes(p.bytesPreCopied)}); ${p.stragglers} stragglers${p.adoptedRegions ? `, ${p.adoptedRegions} regions adopted` : ''}`);
  if (p.mode === 'eager' || p.eager.stores > 0) {
    const e = p.eager;
    lines.push(`${label('eager')}${e.stores} stores written through (${e.objectsLogged} objects logged), ${e.syncs} syncs (batch ${e.batch}), ${formatMs(e.syncMs)} ms syncing, ${Math.round(e.nsPerStore)} ns per store`);
  }
  return lines;
}

export function runOptionsFromFlags(flags: RunFlags): RunOptions {
  return {
    collector: flags.collector,
    workload: flags.workload,
    heapBytes: parseSize(flags.heap, '--heap'),
    ...(flags.regionSize !== undefined ? { regionBytes: parseSize(flags.regionSize, '--region-size') } : {}),
    ...(flags.seed !== undefined ? { seed: parseInteger(flags.seed, '--seed', Number.MIN_SAFE_INTEGER) } : {}),
    params: parsePairs(flags.param, '--param'),
    collectorOptions: {
      ...parsePairs(flags.gcOpt, '--gc-opt'),
      ...(flags.pauseGoal !== undefined ? { pauseGoalMs: String(parseInteger(flags.pauseGoal, '--pause-goal', 1)) } : {}),
      ...(flags.concurrentMark !== undefined ? { concurrentMark: parseOnOff(flags.concurrentMark, '--concurrent-mark') } : {}),
    },
    verify: parseVerifyLevel(flags.verify),
    stressGc: parseInteger(flags.stressGc, '--stress-gc', 0),
    countBarriers: flags.barrierCounters,
    pretouch: flags.pretouch,
    jitWarmup: flags.jitWarmup,
    iterations: parseInteger(flags.iterations, '--iterations', 1),
    latency: flags.latency,
    log: { ...(flags.log !== undefined ? { file: flags.log } : {}), level: parseLogLevel(flags.logLevel) },
    ...(flags.image !== undefined ? { image: flags.image } : {}),
    ...(flags.recover !== undefined ? { recover: flags.recover } : {}),
    ...(flags.persistMode !== undefined ? { persistMode: flags.persistMode } : {}),
  };
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('run one workload under one collector; print a summary and (with --out) write the JSON report')
    .requiredOption('-c, --collector <name>', 'collector name (see `heaplab list`) or a module path')
    .requiredOption('-w, --workload <name>', 'workload name (see `heaplab list`) or a module path')
    .option('--heap <size>', 'heap size, e.g. 256m, 1g', '256m')
    .option('--region-size <size>', 'region size, a power of two (default: heap/2048 in [64k, 32m])')
    .option('--seed <n>', "the workload's seed parameter")
    .option('-p, --param <k=v>', 'workload parameter (repeatable)', collect, [])
    .option('-g, --gc-opt <k=v>', 'collector option (repeatable)', collect, [])
    .option('--pause-goal <ms>', 'pause-time goal for collectors that have one (g1; MaxGCPauseMillis), the same as --gc-opt pauseGoalMs=<ms>')
    .option('--concurrent-mark <on|off>', 'concurrent marking for collectors that have it (cre, g1), the same as --gc-opt concurrentMark=on|off')
    .option('--verify <level>', `heap verification before and after every pause: ${VERIFY_LEVELS.join('|')}`, 'off')
    .option('--stress-gc <n>', 'collect at every n-th allocation and poison freed memory (0: off)', '0')
    .option('--no-barrier-counters', 'do not count barrier fast/slow/filtered outcomes')
    .option('--pretouch', 'touch every heap page before the run, as -XX:+AlwaysPreTouch (first touch costs about 0.6 GB/s here)', false)
    .option('--no-jit-warmup', 'skip the collector\'s JIT warm-up (a short synthetic program on a 64 MiB heap of its own before the workload, for heaps of 64 MiB and more: the measured pauses then run optimized collector code)')
    .option('-n, --iterations <n>', 'run the workload n times, each on a fresh VM, and report the last (DaCapo-style warm-up)', '1')
    .option('--latency', 'record request latency (simple and metered; workloads made of requests, e.g. lru-cache)', false)
    .option('--log <file>', 'write one JSON line per GC event of the reported iteration to this file')
    .option('--log-level <level>', `terminal GC log: ${GC_LOG_LEVELS.join('|')} (info: one -Xlog:gc-style line per pause)`, 'silent')
    .option('-o, --out <file>', 'write the JSON run report to this file')
    .option('--image <file>', 'gcpersist: persist into this new image file (the NVM stand-in; never overwritten)')
    .option('--recover <image>', 'gcpersist: recover the newest valid epoch of this image into the fresh heap first, then go on appending to it (or to --image); the heap size defaults to the image\'s')
    .option('--persist-mode <mode>', 'gcpersist: lazy (commit at every pause), lazy-old (at mixed and full pauses), eager (write-through per store), off')
    .action(async (flags: RunFlags, command: Command) => {
      if (flags.recover !== undefined) {
        // the heap takes the image's geometry unless the user sized it
        const info = imageInfo(flags.recover);
        if (command.getOptionValueSource('heap') === 'default') flags.heap = String(info.heapBytes);
        if (flags.regionSize === undefined) flags.regionSize = String(info.regionBytes);
      }
      const options = runOptionsFromFlags(flags);
      if (flags.out !== undefined) checkOutFile(flags.out);
      const report = await runOnce(options);
      if (flags.out !== undefined) writeFileAtomic(flags.out, `${JSON.stringify(report, null, 2)}\n`);
      if (report.outcome === 'out-of-memory') throw new OutOfMemoryError(report.error ?? 'out of memory');
      // the RESULT line stays last
      const lines = runSummary(report).split('\n');
      const resultAt = lines.length > 0 && lines[lines.length - 1].startsWith('RESULT ') ? lines.length - 1 : lines.length;
      lines.splice(resultAt, 0, ...measuredLines(report));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
