/**
 * `heaplab report results.json --out dir`: re-renders summary.md, results.csv
 * and report.html from a results.json that `heaplab compare` wrote, without
 * re-running anything. The cells' statistics are taken as stored, so the
 * same results.json always renders the same summary.md.
 *
 * Bad input is one line and exit 2: a missing or unreadable file, text that is
 * not JSON, JSON that is not a heaplab-compare/1 document, an output
 * directory holding files compare did not write.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { CompareResults } from '../reports/compare-types.js';
import { checkOutputDir, writeCompareOutputs } from '../reports/outputs.js';
import { UsageError } from '../vm-core/errors.js';

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Reads and checks a results.json (shape only, enough to render it). */
export function readCompareResults(file: string): CompareResults {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON; is it a results.json from heaplab compare?`);
  }
  const bad = (why: string): UsageError => new UsageError(`${file} is not a heaplab compare results file: ${why}`);
  if (!isObject(data)) throw bad('not a JSON object');
  if (data.schema !== 'heaplab-compare/1') throw bad(`schema is ${JSON.stringify(data.schema)}, expected "heaplab-compare/1"`);
  const m = data.matrix;
  if (!isObject(m)) throw bad('no matrix');
  for (const k of ['collectors', 'workloads', 'heaps', 'hotspot']) if (!Array.isArray(m[k])) throw bad(`matrix.${k} is not a list`);
  if (typeof m.repeat !== 'number' || typeof m.iterations !== 'number') throw bad('matrix.repeat / matrix.iterations missing');
  if (!Array.isArray(data.runs)) throw bad('runs is not a list');
  if (!Array.isArray(data.cells)) throw bad('cells is not a list');
  for (const [i, r] of (data.runs as unknown[]).entries()) {
    if (!isObject(r) || !isObject(r.cell) || typeof r.outcome !== 'string' || !('report' in r)) throw bad(`runs[${i}] is not a run`);
  }
  for (const [i, c] of (data.cells as unknown[]).entries()) {
    if (!isObject(c) || !isObject(c.cell) || !isObject(c.p50) || !Array.isArray(c.mmu) || !Array.isArray(c.latency)) throw bad(`cells[${i}] is not a cell summary`);
  }
  return data as unknown as CompareResults;
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('re-render summary.md, results.csv and report.html from a results.json, without re-running')
    .argument('<results.json>', 'a results.json written by heaplab compare')
    .option('-o, --out <dir>', 'output directory (default: the directory of results.json)')
    .action(async (file: string, flags: { out?: string }) => {
      const results = readCompareResults(file);
      const dir = flags.out ?? dirname(file);
      checkOutputDir(dir);
      const written = await writeCompareOutputs(dir, results, false);
      process.stdout.write(`heaplab report: ${results.runs.length} runs, ${results.cells.length} cells; wrote ${written.join(', ')}\n`);
    });
}
