/**
 * `heaplab persist crash-test`: crash consistency of the whole stack
 * (collector, image, recovery, workload), for real. A child process runs
 *
 *   node dist/cli/heaplab.js run -c gcpersist -w <workload> --image X      (first)
 *   node dist/cli/heaplab.js run -c gcpersist -w <workload> --recover X    (after a crash)
 *
 * and the parent kills it with SIGKILL at seeded random instants: at a random
 * time within the length of an uninterrupted run, or (about 40% of the kills)
 * right when the child announces the start of a commit on stderr
 * (HEAPLAB_PERSIST_PHASES=1: "heaplab-persist: commit-begin <epoch>"), so many
 * kills land while blocks, the manifest or a superblock are being written.
 * After every kill the parent, without writing anything:
 *
 *   1. recovers the image read-only (recovery.ts: every checksum); the epoch must
 *      be at least the last one the child reported durable and at most the last
 *      one it began;
 *   2. loads it into a fresh heap (persistMode off, so nothing is written) and
 *      runs the heap verifier, the placement check and the image-vs-heap graph
 *      check (image-check.ts), and the workload's own check of what it finds
 *      (resilient-cache: every partition marked done is complete);
 *   3. checks the image file is byte-for-byte unchanged by all that (SHA-256).
 *
 * A kill before the image existed (the child died inside its creation) leaves
 * a file recovery refuses as "not a heaplab image": that is not a corrupt
 * recovery (nothing was durable yet); the next child starts a new image. A
 * child that finishes before its kill has its checksum compared and the next
 * child starts a new image. At the end one child runs to completion from the
 * image, and its checksum must equal an uninterrupted run's.
 *
 * SIGKILL loses the process, not the page cache: this checks the commit order
 * and copy-on-write discipline (torn appends, torn superblocks); the fsyncs
 * are what would also make it hold across power loss.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../vm-core/errors.js';
import { formatBytes } from '../../vm-core/sizes.js';
import { Vm } from '../../vm-core/vm.js';
import { inspectRecoveredCache } from '../../workloads/resilient-cache.js';
import { findWorkload, resolveParams } from '../../workloads/registry.js';
import { gcpersist } from './gcpersist-collector.js';
import { checkPlacement, compareImage } from './image-check.js';
import { ImageCorruptError } from './image-format.js';
import type { RunPersistMode } from './persistence.js';
import { recoverImage } from './recovery.js';

export interface CrashTestOptions {
  workload: string;
  kills: number;
  seed: number;
  heapBytes: number;
  regionBytes: number;
  mode: RunPersistMode;
  params: Record<string, string>;
  /** Working directory (default: a fresh temp dir, removed at the end unless keep). */
  dir?: string;
  keep?: boolean;
  /** The heaplab CLI to run children with (default: dist/cli/heaplab.js of this build). */
  cli?: string;
  /** Progress lines (one per kill) go here. */
  progress?: (line: string) => void;
}

export interface CrashTestResult {
  kills: number;
  survived: number;
  corrupt: number;
  failures: string[];
  midCommit: number;
  beforeImage: number;
  finishedEarly: number;
  finalEpoch: number;
  referenceChecksum: string;
  finalChecksum: string;
  ms: number;
}

/** dist/cli/heaplab.js of this build (from the source tree under vitest, the compiled one). */
export function defaultCli(): string {
  const here = fileURLToPath(import.meta.url);
  const root = join(here, '..', '..', '..', ...(here.endsWith('.ts') ? [] : ['..']));
  return join(root, 'dist', 'cli', 'heaplab.js');
}

interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  phases: string[];
  ms: number;
}

export type KillPlan = { atMs: number } | { atCommit: number } | null;

/** Runs a heaplab child with phase lines on; kills it per `plan` (a delay after it announced its image, or at its n-th commit). */
export function runChild(cli: string, args: string[], plan: KillPlan): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HEAPLAB_PERSIST_PHASES: '1' } });
    let stdout = '';
    let stderr = '';
    let pending = '';
    const phases: string[] = [];
    let timer: NodeJS.Timeout | undefined;
    let commits = 0;
    const kill = (): void => { child.kill('SIGKILL'); };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => { stdout += d; });
    child.stderr.on('data', (d: string) => {
      stderr += d;
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const m = /^heaplab-persist: (.*)$/.exec(line);
        if (!m) continue;
        phases.push(m[1]);
        if (plan && 'atMs' in plan && !timer && (m[1] === 'image-created' || m[1].startsWith('recovered'))) timer = setTimeout(kill, plan.atMs);
        if (plan && 'atCommit' in plan && m[1].startsWith('commit-begin') && ++commits === plan.atCommit) kill();
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, phases, ms: performance.now() - t0 });
    });
  });
}

function resultChecksum(stdout: string): string | null {
  const line = stdout.split('\n').find((l) => l.startsWith('RESULT '));
  const m = line ? /checksum=(\S+)/.exec(line) : null;
  return m ? m[1] : null;
}

function sha(path: string): string {
  return createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

/** The read-only checks after a kill; problems (empty: survived). */
function checkImage(o: CrashTestOptions, image: string, lastDurable: number, lastBegun: number): { epoch: number; problems: string[]; done: number; partial: number } {
  const problems: string[] = [];
  const before = sha(image);
  const rec = recoverImage(image);
  if (rec.epoch < lastDurable) problems.push(`recovered epoch ${rec.epoch}, but the child had made epoch ${lastDurable} durable`);
  if (rec.epoch > Math.max(lastBegun, lastDurable)) problems.push(`recovered epoch ${rec.epoch}, which the child never began`);
  const vm = new Vm({ heapBytes: o.heapBytes, regionBytes: o.regionBytes, collector: gcpersist, collectorOptions: { recover: image, persistMode: 'off' } });
  const m = vm.newMutator();
  vm.verifyNow('after recovery', 'debug');
  checkPlacement(vm.heap, vm.persistentRoots, problems);
  const replayed = (vm.collector as unknown as { persistenceReport(): { recovery: { log: { stores: number; objects: number } } | null } }).persistenceReport().recovery;
  if (!replayed || replayed.log.stores + replayed.log.objects === 0) compareImage(vm.heap, vm.persistentRoots, rec, problems);
  let done = 0;
  let partial = 0;
  if (o.workload === 'resilient-cache') {
    const w = findWorkload(o.workload);
    const inspected = inspectRecoveredCache(m, vm.types, resolveParams(w, o.params));
    problems.push(...inspected.problems);
    done = inspected.done;
    partial = inspected.partial;
  }
  if (sha(image) !== before) problems.push('checking the image modified it');
  return { epoch: rec.epoch, problems, done, partial };
}

export async function crashTest(o: CrashTestOptions): Promise<CrashTestResult> {
  if (!(Number.isInteger(o.kills) && o.kills >= 1)) throw new UsageError(`--kills ${o.kills} must be a positive integer`);
  findWorkload(o.workload);
  const cli = o.cli ?? defaultCli();
  if (!fs.existsSync(cli)) throw new UsageError(`${cli} does not exist: build first (npm run build)`);
  const dir = o.dir ?? fs.mkdtempSync(join(tmpdir(), 'heaplab-crash-test-'));
  fs.mkdirSync(dir, { recursive: true });
  const image = join(dir, 'crash.hlp');
  const say = o.progress ?? (() => {});
  const t0 = performance.now();
  const common = ['-w', o.workload, '--heap', String(o.heapBytes), '--region-size', String(o.regionBytes), ...Object.entries(o.params).flatMap(([k, v]) => ['-p', `${k}=${v}`])];
  const gcArgs = ['-c', 'gcpersist', '--persist-mode', o.mode, ...common];
  let seed = o.seed >>> 0 || 1;
  const random = (): number => { seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed / 4294967296; };
  const result: CrashTestResult = {
    kills: 0, survived: 0, corrupt: 0, failures: [], midCommit: 0, beforeImage: 0, finishedEarly: 0, finalEpoch: 0, referenceChecksum: '', finalChecksum: '', ms: 0,
  };
  try {
    // the uninterrupted reference run (same collector, no image, no kill)
    const ref = await runChild(cli, ['run', ...gcArgs], null);
    const refSum = resultChecksum(ref.stdout);
    if (ref.code !== 0 || refSum === null) throw new Error(`the reference run failed (exit ${ref.code}): ${ref.stderr.trim().split('\n').pop()}`);
    result.referenceChecksum = refSum;
    const runMs = Math.max(50, ref.ms - 150);
    say(`reference: checksum ${refSum} in ${Math.round(ref.ms)} ms; image ${image}`);
    let exists = false;
    let lastDurable = 0;
    let attempts = 0;
    const reset = (): void => {
      fs.rmSync(image, { force: true });
      fs.rmSync(`${image}.wal`, { force: true });
      fs.rmSync(`${image}.compact`, { force: true });
      exists = false;
      lastDurable = 0;
    };
    reset();
    while (result.kills < o.kills) {
      if (++attempts > o.kills * 4 + 20) throw new Error('too many children finished before their kill: the workload is too short for this test');
      const plan: KillPlan = random() < 0.4 ? { atCommit: 1 + Math.floor(random() * 4) } : { atMs: Math.floor(random() * runMs) };
      const args = ['run', ...gcArgs, ...(exists ? ['--recover', image] : ['--image', image])];
      const child = await runChild(cli, args, plan);
      if (child.phases.includes('image-created')) exists = true;
      let lastBegun = lastDurable;
      let midCommit = false;
      for (const ph of child.phases) {
        const b = /^commit-begin (\d+)$/.exec(ph);
        if (b) { lastBegun = Number(b[1]); midCommit = true; }
        const d = /^commit-durable (\d+)$/.exec(ph);
        if (d) { lastDurable = Math.max(lastDurable, Number(d[1])); midCommit = false; }
      }
      if (child.signal !== 'SIGKILL') {
        // finished (or failed) before the kill
        const sum = resultChecksum(child.stdout);
        if (child.code !== 0 || sum === null) {
          const why = child.stderr.trim().split('\n').filter((l) => !l.startsWith('heaplab-persist:')).pop() ?? `exit ${child.code}`;
          result.corrupt++;
          result.failures.push(`a child ${exists ? 'recovering' : 'starting'} failed: ${why}`);
          break;
        }
        if (sum !== refSum) { result.failures.push(`a child finished with checksum ${sum}, expected ${refSum}`); break; }
        result.finishedEarly++;
        reset();
        continue;
      }
      result.kills++;
      if (midCommit) result.midCommit++;
      const label = `kill ${result.kills}/${o.kills} (${'atMs' in plan ? `at ${plan.atMs} ms` : `at commit ${plan.atCommit}`}${midCommit ? ', mid-commit' : ''})`;
      if (!fs.existsSync(image) || !exists) {
        // killed before the image was durable: recovery must refuse it as not (yet) an image
        if (fs.existsSync(image)) {
          try {
            recoverImage(image);
            exists = true;
          } catch (e) {
            if (!(e instanceof ImageCorruptError) || !/not a heaplab image|no valid superblock/.test(e.message)) {
              result.corrupt++;
              result.failures.push(`${label}: ${(e as Error).message}`);
              continue;
            }
          }
        }
        if (!exists) {
          result.beforeImage++;
          result.survived++;
          reset();
          say(`${label}: before the image existed`);
          continue;
        }
      }
      try {
        const c = checkImage(o, image, lastDurable, lastBegun);
        lastDurable = Math.max(lastDurable, c.epoch);
        result.finalEpoch = c.epoch;
        if (c.problems.length > 0) {
          result.corrupt++;
          result.failures.push(`${label}: ${c.problems.slice(0, 3).join('; ')}`);
        } else {
          result.survived++;
        }
        say(`${label}: recovered epoch ${c.epoch} (${c.done} partitions done, ${c.partial} partial)${c.problems.length ? ` CORRUPT: ${c.problems[0]}` : ''}`);
      } catch (e) {
        result.corrupt++;
        result.failures.push(`${label}: ${(e as Error).message}`);
        say(`${label}: CORRUPT: ${(e as Error).message}`);
      }
    }
    // the last child runs to completion from the image
    if (result.failures.length === 0) {
      const last = await runChild(cli, ['run', ...gcArgs, ...(exists ? ['--recover', image] : ['--image', image])], null);
      const sum = resultChecksum(last.stdout);
      if (last.code !== 0 || sum === null) result.failures.push(`the final run failed (exit ${last.code}): ${last.stderr.trim().split('\n').filter((l) => !l.startsWith('heaplab-persist:')).pop()}`);
      else {
        result.finalChecksum = sum;
        if (sum !== refSum) result.failures.push(`final checksum ${sum} differs from the uninterrupted run's ${refSum}`);
      }
      const durable = last.phases.map((p) => /^commit-durable (\d+)$/.exec(p)).filter((m) => m !== null);
      if (durable.length > 0) result.finalEpoch = Number(durable[durable.length - 1]![1]);
    }
  } finally {
    result.ms = performance.now() - t0;
    if (!o.keep && o.dir === undefined) fs.rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

export function crashTestSummary(o: CrashTestOptions, r: CrashTestResult): string {
  const lines = [
    `crash-test: ${o.workload} on gcpersist (${o.mode}), heap ${formatBytes(o.heapBytes)} in regions of ${formatBytes(o.regionBytes)}, seed ${o.seed}`,
    `  ${r.kills} SIGKILLs: ${r.midCommit} during a commit, ${r.beforeImage} before the image existed; ${r.finishedEarly} runs finished before their kill`,
    `  final run: checksum ${r.finalChecksum || '-'} (uninterrupted: ${r.referenceChecksum || '-'}), final epoch ${r.finalEpoch}; ${(r.ms / 1000).toFixed(1)} s`,
    ...r.failures.map((f) => `  FAILED: ${f}`),
    `survived ${r.survived}/${o.kills}, corrupt ${r.corrupt}`,
  ];
  return lines.join('\n');
}
