/**
 * `heaplab persist study`: what persistence costs and what recovery saves, on
 * one workload (resilient-cache by default), every run in a fresh Node process
 * (one collector, one barrier class per process, as `compare` does) with the
 * same seed, heap and parameters, runs interleaved round-robin over the
 * configurations so machine noise spreads evenly, medians over --repeat runs:
 *
 *   normal run   gen (no persistence; the baseline), gcpersist with persistMode off,
 *                lazy, lazy-old and eager (write-through log, --eager-batch stores per
 *                sync): workload wall time, overhead against gen, GC time, commits,
 *                bytes persisted, write and sync time, stores written through and
 *                the eager barrier's cost per store
 *   restart      recompute from scratch (a lazy run on an empty heap) against
 *                recovering the lazy run's complete image and finishing (recovery +
 *                the run, which validates and reuses every partition), and against a
 *                crash at about half of a run (SIGKILL) followed by recovery and
 *                recomputing the missing partitions
 *
 * Times are the run's own clock (recovery + workload), not process start-up.
 */
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MeasuredRunReport } from '../../cli/runner.js';
import { UsageError } from '../../vm-core/errors.js';
import { formatBytes } from '../../vm-core/sizes.js';
import { findWorkload } from '../../workloads/registry.js';
import { defaultCli, runChild } from './crash-test.js';

export interface StudyOptions {
  workload: string;
  heapBytes: number;
  regionBytes?: number;
  repeat: number;
  eagerBatch: number;
  params: Record<string, string>;
  cli?: string;
  progress?: (line: string) => void;
}

interface Config { name: string; label: string; args: string[]; image: boolean }

export interface StudyRow {
  name: string;
  label: string;
  runs: number;
  wallMs: number;
  overhead: number | null;
  gcMs: number;
  pauses: number;
  commits: number;
  bytesPersisted: number;
  writeMs: number;
  syncMs: number;
  eagerStores: number;
  eagerSyncs: number;
  nsPerStore: number;
  checksum: string;
}

export interface RestartRow { name: string; label: string; ms: number; recoveryMs: number; runMs: number; speedup: number; recovered: number; computed: number }

export interface StudyResult {
  options: Omit<StudyOptions, 'progress' | 'cli'>;
  rows: StudyRow[];
  restart: RestartRow[];
  raw: Record<string, MeasuredRunReport[]>;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function study(o: StudyOptions): Promise<StudyResult> {
  if (!(Number.isInteger(o.repeat) && o.repeat >= 1)) throw new UsageError(`--repeat ${o.repeat} must be a positive integer`);
  findWorkload(o.workload);
  const cli = o.cli ?? defaultCli();
  if (!fs.existsSync(cli)) throw new UsageError(`${cli} does not exist: build first (npm run build)`);
  const say = o.progress ?? (() => {});
  const dir = fs.mkdtempSync(join(tmpdir(), 'heaplab-persist-study-'));
  const common = ['-w', o.workload, '--heap', String(o.heapBytes), ...(o.regionBytes ? ['--region-size', String(o.regionBytes)] : []), '--no-barrier-counters',
    ...Object.entries(o.params).flatMap(([k, v]) => ['-p', `${k}=${v}`])];
  const configs: Config[] = [
    { name: 'gen', label: 'gen (no persistence)', args: ['-c', 'gen'], image: false },
    { name: 'off', label: 'gcpersist off', args: ['-c', 'gcpersist', '--persist-mode', 'off'], image: false },
    { name: 'lazy', label: 'gcpersist lazy', args: ['-c', 'gcpersist', '--persist-mode', 'lazy'], image: true },
    { name: 'lazy-old', label: 'gcpersist lazy-old', args: ['-c', 'gcpersist', '--persist-mode', 'lazy-old'], image: true },
    { name: 'eager', label: `gcpersist eager (batch ${o.eagerBatch})`, args: ['-c', 'gcpersist', '--persist-mode', 'eager', '-g', `eagerBatch=${o.eagerBatch}`], image: true },
  ];
  const raw: Record<string, MeasuredRunReport[]> = {};
  let seq = 0;
  const runOne = async (name: string, args: string[], killAfterMs?: number): Promise<MeasuredRunReport | null> => {
    const out = join(dir, `run-${seq++}.json`);
    // a kill is timed from the moment the child has created its image (start-up excluded)
    const r = await runChild(cli, ['run', ...args, '--out', out], killAfterMs !== undefined ? { atMs: killAfterMs } : null);
    if (killAfterMs !== undefined && r.signal === 'SIGKILL') return null;
    if (r.code !== 0) throw new Error(`${name}: heaplab run failed (exit ${r.code}): ${r.stderr.trim().split('\n').filter((l) => !l.startsWith('heaplab-persist:')).pop()}`);
    const report = JSON.parse(fs.readFileSync(out, 'utf8')) as MeasuredRunReport;
    (raw[name] ??= []).push(report);
    return report;
  };
  try {
    const lazyImages: string[] = [];
    for (let rep = 0; rep < o.repeat; rep++) {
      for (const c of configs) {
        const image = join(dir, `${c.name}-${rep}.hlp`);
        const report = await runOne(c.name, [...c.args, ...common, ...(c.image ? ['--image', image] : [])]);
        if (c.name === 'lazy') lazyImages.push(image);
        say(`run ${rep + 1}/${o.repeat} ${c.label}: ${Math.round(report!.wallMs)} ms`);
      }
    }
    // restart: recover the complete lazy image and finish, against recomputing from scratch
    const recoveries: MeasuredRunReport[] = [];
    const halfway: { total: number; recovery: number; run: number; recovered: number; computed: number }[] = [];
    const scratchMs = median((raw.lazy ?? []).map((r) => r.wallMs));
    for (let rep = 0; rep < o.repeat; rep++) {
      const copy = join(dir, `recover-${rep}.hlp`);
      fs.copyFileSync(lazyImages[rep], copy);
      const r = await runOne('recover', ['-c', 'gcpersist', '--persist-mode', 'lazy', ...common, '--recover', copy]);
      recoveries.push(r!);
      say(`recovery ${rep + 1}/${o.repeat}: ${Math.round(r!.persistence?.recovery?.ms ?? 0)} ms + run ${Math.round(r!.wallMs)} ms`);
      // a crash at about half of a run (process start-up included in the kill time), then recovery
      const half = join(dir, `half-${rep}.hlp`);
      let crashed = false;
      for (let attempt = 0; attempt < 3 && !crashed; attempt++) {
        fs.rmSync(half, { force: true });
        crashed = (await runOne('half-crash', ['-c', 'gcpersist', '--persist-mode', 'lazy', ...common, '--image', half], Math.round(scratchMs / 2))) === null;
      }
      if (crashed && fs.existsSync(half)) {
        try {
          const h = await runOne('half-recover', ['-c', 'gcpersist', '--persist-mode', 'lazy', ...common, '--recover', half]);
          const v = h!.result?.values ?? {};
          halfway.push({ total: (h!.persistence?.recovery?.ms ?? 0) + h!.wallMs, recovery: h!.persistence?.recovery?.ms ?? 0, run: h!.wallMs, recovered: v.recovered ?? 0, computed: v.computed ?? 0 });
        } catch {
          // killed before the image existed: no half-way row for this repeat
        }
      }
    }
    const base = median((raw.gen ?? []).map((r) => r.wallMs));
    const rows: StudyRow[] = configs.map((c) => {
      const runs = raw[c.name] ?? [];
      const p = (f: (r: MeasuredRunReport) => number) => median(runs.map(f));
      const wallMs = p((r) => r.wallMs);
      return {
        name: c.name,
        label: c.label,
        runs: runs.length,
        wallMs,
        overhead: c.name === 'gen' ? null : base > 0 ? wallMs / base - 1 : null,
        gcMs: p((r) => r.gcMs),
        pauses: p((r) => r.gcCount),
        commits: p((r) => r.persistence?.commits ?? 0),
        bytesPersisted: p((r) => r.persistence?.bytesPersisted ?? 0),
        writeMs: p((r) => r.persistence?.writeMs ?? 0),
        syncMs: p((r) => r.persistence?.syncMs ?? 0),
        eagerStores: p((r) => r.persistence?.eager.stores ?? 0),
        eagerSyncs: p((r) => r.persistence?.eager.syncs ?? 0),
        nsPerStore: p((r) => r.persistence?.eager.nsPerStore ?? 0),
        checksum: String(runs[0]?.result?.values.checksum ?? '-'),
      };
    });
    const recMs = median(recoveries.map((r) => (r.persistence?.recovery?.ms ?? 0) + r.wallMs));
    const restart: RestartRow[] = [
      { name: 'scratch', label: 'recompute from scratch (lazy, empty heap)', ms: scratchMs, recoveryMs: 0, runMs: scratchMs, speedup: 1, recovered: 0, computed: Number(raw.lazy?.[0]?.result?.values.computed ?? 0) },
      {
        name: 'recover', label: 'recover the complete image + finish', ms: recMs,
        recoveryMs: median(recoveries.map((r) => r.persistence?.recovery?.ms ?? 0)), runMs: median(recoveries.map((r) => r.wallMs)),
        speedup: recMs > 0 ? scratchMs / recMs : 0, recovered: Number(recoveries[0]?.result?.values.recovered ?? 0), computed: Number(recoveries[0]?.result?.values.computed ?? 0),
      },
    ];
    if (halfway.length > 0) {
      const ms = median(halfway.map((h) => h.total));
      restart.push({
        name: 'half', label: 'crash at ~50%: recover + recompute the rest', ms, recoveryMs: median(halfway.map((h) => h.recovery)), runMs: median(halfway.map((h) => h.run)),
        speedup: ms > 0 ? scratchMs / ms : 0, recovered: median(halfway.map((h) => h.recovered)), computed: median(halfway.map((h) => h.computed)),
      });
    }
    const { progress: _p, cli: _c, ...options } = o;
    return { options, rows, restart, raw };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

export function studyMarkdown(r: StudyResult): string {
  const o = r.options;
  const params = Object.entries(o.params).map(([k, v]) => `${k}=${v}`).join(' ');
  const lines = [
    `## heaplab persist study: ${o.workload}${params ? ` (${params})` : ''}, heap ${formatBytes(o.heapBytes)}, ${o.repeat} run(s) per configuration, medians`,
    '',
    '| configuration | wall ms | overhead vs gen | GC ms | pauses | commits | persisted | write ms | sync ms | stores written through | syncs | ns per store |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of r.rows) {
    const persists = x.name !== 'gen' && x.name !== 'off';
    lines.push(`| ${x.label} | ${ms(x.wallMs)} | ${x.overhead === null ? '-' : `${(x.overhead * 100).toFixed(1)}%`} | ${ms(x.gcMs)} | ${x.pauses} | ${persists ? x.commits : '-'} | ${persists ? formatBytes(x.bytesPersisted) : '-'} | ${persists ? ms(x.writeMs) : '-'} | ${persists ? ms(x.syncMs) : '-'} | ${x.name === 'eager' ? x.eagerStores : '-'} | ${x.name === 'eager' ? x.eagerSyncs : '-'} | ${x.name === 'eager' ? Math.round(x.nsPerStore) : '-'} |`);
  }
  lines.push('', '| restart | time ms | recovery ms | run ms | partitions recovered / computed | vs recompute |', '|---|---:|---:|---:|---:|---:|');
  for (const x of r.restart) {
    lines.push(`| ${x.label} | ${ms(x.ms)} | ${x.name === 'scratch' ? '-' : ms(x.recoveryMs)} | ${ms(x.runMs)} | ${x.recovered} / ${x.computed} | ${x.name === 'scratch' ? '1.00x' : `${x.speedup.toFixed(2)}x faster`} |`);
  }
  const sums = new Set(r.rows.map((x) => x.checksum));
  lines.push('', `Every configuration printed checksum ${[...sums].join(', ')}${sums.size === 1 ? '' : ' (THEY DIFFER)'}.`);
  return lines.join('\n');
}
