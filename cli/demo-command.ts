/**
 * `heaplab demo`: a short, real comparison. Each cell (a collector on a
 * scaled-down workload) runs in a fresh Node process (one collector per
 * process, so V8 inlines the one barrier variant it sees), one cell after the
 * other so the cells do not share the CPU. Writes every run's JSON report and a
 * summary.md table into the report directory, and prints the table.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { captureEnvironment } from '../reports/environment.js';
import type { RunReport } from '../reports/run-report.js';
import { formatDuration, formatMs, formatParams, formatPercent } from '../reports/summary.js';
import { UsageError } from '../vm-core/errors.js';
import { writeFileAtomic } from './run-command.js';

export interface DemoCell {
  collector: string;
  workload: string;
  heap: string;
  params: Record<string, number>;
}

/**
 * Sized to finish in well under a minute on a 2-core machine (measured: about
 * 25 s all told): lru-cache at 512 MiB under the region family one element
 * at a time (evac = SIM, rem, gen, g1; Zhao & Blackburn's deconstruction) and
 * under epsilon, the no-GC baseline whose heap holds everything it ever
 * allocates; binary-trees, whose young objects die, under evac and gen.
 */
const LRU_PARAMS = { capacity: 100000, ops: 4000000 };
const TREES_PARAMS = { iters: 4 };
export const DEMO_CELLS: DemoCell[] = [
  { collector: 'epsilon', workload: 'lru-cache', heap: '512m', params: LRU_PARAMS },
  { collector: 'evac', workload: 'lru-cache', heap: '512m', params: LRU_PARAMS },
  { collector: 'rem', workload: 'lru-cache', heap: '512m', params: LRU_PARAMS },
  { collector: 'gen', workload: 'lru-cache', heap: '512m', params: LRU_PARAMS },
  { collector: 'g1', workload: 'lru-cache', heap: '512m', params: LRU_PARAMS },
  { collector: 'evac', workload: 'binary-trees', heap: '64m', params: TREES_PARAMS },
  { collector: 'gen', workload: 'binary-trees', heap: '64m', params: TREES_PARAMS },
];

const SUMMARY_FILE = 'summary.md';

export function cellFile(cell: DemoCell): string {
  return `${cell.collector}-${cell.workload}-${cell.heap}.json`;
}

/** The report directory may be new, or one an earlier demo wrote; never a directory holding other files. */
function checkReportDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UsageError(`--out ${dir} exists and is not a directory`);
  const ours = new Set([SUMMARY_FILE, ...DEMO_CELLS.map(cellFile)]);
  const foreign = readdirSync(dir).filter((name) => !ours.has(name) && !/^\..*\.tmp$/.test(name));
  if (foreign.length > 0) {
    throw new UsageError(`--out ${dir} holds files the demo did not write (${foreign.slice(0, 3).join(', ')}); give another directory`);
  }
}

interface CellOutcome {
  cell: DemoCell;
  report: RunReport | null;
  /** Why there is no report (a crash), or null. */
  failure: string | null;
}

function runCell(cell: DemoCell, dir: string): CellOutcome {
  const cli = fileURLToPath(new URL('./heaplab.js', import.meta.url));
  const file = join(dir, cellFile(cell));
  const args = [cli, 'run', '--collector', cell.collector, '--workload', cell.workload, '--heap', cell.heap, '--out', file];
  for (const [k, v] of Object.entries(cell.params)) args.push('--param', `${k}=${v}`);
  const child = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ranToReport = child.status === 0 || child.status === 3;
  if (ranToReport && existsSync(file)) {
    return { cell, report: JSON.parse(readFileSync(file, 'utf8')) as RunReport, failure: null };
  }
  const why = (child.stderr ?? '').trim().split('\n')[0] || `exit ${child.status ?? child.signal}`;
  return { cell, report: null, failure: why };
}

const COLUMNS = ['collector', 'workload', 'heap', 'pauses', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'GC share', 'wall', 'result'];

function row(o: CellOutcome): string[] {
  const { cell, report } = o;
  if (!report) return [cell.collector, cell.workload, cell.heap, '', '', '', '', '', '', '', `failed: ${o.failure}`];
  const p = report.percentiles;
  const result = report.outcome === 'ok'
    ? (report.result ? formatParams(report.result.values) : '')
    : report.outcome;
  return [
    cell.collector, cell.workload, cell.heap, String(p.count),
    formatMs(p.p50), formatMs(p.p95), formatMs(p.p99), formatMs(p.max),
    formatPercent(report.gcShare), formatDuration(report.wallMs), result,
  ];
}

export function markdownTable(rows: string[][]): string {
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(COLUMNS), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function summaryMarkdown(outcomes: CellOutcome[], table: string, totalMs: number): string {
  const env = captureEnvironment();
  const cells = outcomes.map((o) => `- \`${cellFile(o.cell)}\`: ${o.cell.collector} on ${o.cell.workload}, heap ${o.cell.heap}, ${formatParams(o.cell.params)}`);
  return [
    '# heaplab demo',
    '',
    `${env.timestamp}, heaplab ${env.heaplabVersion}, Node ${env.nodeVersion} (V8 ${env.v8Version}), ${env.cpuModel}, ${env.cores} cores, ${env.platform}/${env.arch}.`,
    `Each run in a fresh process, one after another; demo total ${formatDuration(totalMs)}.`,
    '',
    table,
    '',
    'Runs (JSON reports in this directory):',
    ...cells,
    '',
  ].join('\n');
}

export function runDemo(dir: string): boolean {
  checkReportDir(dir);
  const t0 = performance.now();
  const outcomes: CellOutcome[] = [];
  for (const [i, cell] of DEMO_CELLS.entries()) {
    process.stdout.write(`[${i + 1}/${DEMO_CELLS.length}] ${cell.collector} on ${cell.workload} (heap ${cell.heap}, ${formatParams(cell.params)}) ... `);
    const started = performance.now();
    const outcome = runCell(cell, dir);
    const status = outcome.report ? outcome.report.outcome : `failed: ${outcome.failure}`;
    process.stdout.write(`${status}, ${formatDuration(performance.now() - started)}\n`);
    outcomes.push(outcome);
  }
  const totalMs = performance.now() - t0;
  const table = markdownTable(outcomes.map(row));
  writeFileAtomic(join(dir, SUMMARY_FILE), summaryMarkdown(outcomes, table, totalMs));
  process.stdout.write(`\n${table}\n\nReports in ${dir}/ (${SUMMARY_FILE} and one JSON per run); demo took ${formatDuration(totalMs)}.\n`);
  return outcomes.every((o) => o.report !== null);
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('a short real comparison: each collector/workload cell in a fresh process; writes a report directory')
    .option('-o, --out <dir>', 'report directory', 'heaplab-report')
    .action((flags: { out: string }) => {
      const allRan = runDemo(flags.out);
      if (!allRan) process.exitCode = 1;
    });
}
