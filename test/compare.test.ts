/**
 * `heaplab compare` and `heaplab report` end to end, on the built CLI
 * (dist/cli/heaplab.js) with a tiny matrix: evac and epsilon on lru-cache in
 * a 2 MiB heap, 2 repeats, 2 iterations, a few thousand operations. Epsilon
 * cannot hold that much allocation in 2 MiB, so its cell runs out of memory:
 * it must show as a failed cell while the command exits 0. Checked:
 *
 *   - all four outputs exist; every run is in results.json, one CSV row each
 *   - the warm-up policy: each run reports iteration 2 of 2, and summary.md says so
 *   - the pause percentiles in summary.md equal the median across repeats of
 *     the per-run percentiles in results.json (formatted the same way)
 *   - `heaplab report results.json` re-renders an identical summary.md
 *   - bad input: one line, exit 2, nothing written
 *
 * plus, in-process, the lru-cache latency hooks (called once per operation,
 * results unchanged) and runOnce's iterations / latency fields.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../cli/runner.js';
import { evac } from '../collectors/region/region-collector.js';
import type { CompareResults } from '../reports/compare-types.js';
import { formatMs } from '../reports/summary.js';
import { Vm } from '../vm-core/vm.js';
import { lruCache } from '../workloads/lru-cache.js';
import { resolveParams } from '../workloads/registry.js';

const CLI = fileURLToPath(new URL('../dist/cli/heaplab.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'heaplab-compare-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface CliResult { status: number | null; stdout: string; stderr: string }

function heaplab(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: CliResult): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^heaplab: \S/);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The cells of the first table row whose collector column is `collector`. */
function tableRow(markdown: string, collector: string): string[] {
  const line = markdown.split('\n').find((l) => l.startsWith(`| ${collector} `));
  if (!line) throw new Error(`no row for ${collector} in\n${markdown}`);
  return line.split('|').slice(1, -1).map((c) => c.trim());
}

const TINY = ['-p', 'capacity=2000', '-p', 'ops=60000'];
const out = join(work, 'report');
let compare: CliResult;
let results: CompareResults;

beforeAll(() => {
  compare = heaplab('compare', '--collectors', 'evac,epsilon', '--workloads', 'lru-cache', '--heaps', '2m',
    '--repeat', '2', '--iterations', '2', ...TINY, '--out', out);
  if (existsSync(join(out, 'results.json'))) results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as CompareResults;
});

describe('heaplab compare: a tiny matrix', () => {
  it('exits 0 and writes the four outputs, every run in results.json and results.csv', () => {
    expect(compare.status, compare.stderr).toBe(0);
    for (const f of ['results.json', 'results.csv', 'summary.md', 'report.html']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(results.schema).toBe('heaplab-compare/1');
    expect(results.runs).toHaveLength(4);
    expect(results.matrix).toMatchObject({ collectors: ['evac', 'epsilon'], workloads: ['lru-cache'], heaps: [2 << 20], repeat: 2, iterations: 2 });
    const csv = readFileSync(join(out, 'results.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 4);
    expect(csv[0]).toMatch(/^source,collector,workload,heap_bytes,repeat,outcome,pauses,p50_ms/);
  });

  it('without --pretouch: no run pre-touched its heap, and summary.md says first touches land in pauses', () => {
    expect(results.matrix.pretouch).toBe(false);
    for (const run of results.runs.filter((r) => r.report)) expect(run.report?.configuration.pretouch).toBe(false);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/\*\*No pre-touch:\*\*/);
  });

  it('with --pretouch: every heaplab run pre-touched its heap, and summary.md says so', () => {
    const touched = join(work, 'pretouched');
    const r = heaplab('compare', '--collectors', 'evac', '--workloads', 'lru-cache', '--heaps', '2m', '--repeat', '1', '--iterations', '1', ...TINY, '--pretouch', '--out', touched);
    expect(r.status, r.stderr).toBe(0);
    const pre = JSON.parse(readFileSync(join(touched, 'results.json'), 'utf8')) as CompareResults;
    expect(pre.matrix.pretouch).toBe(true);
    expect(pre.runs.map((x) => x.report?.configuration.pretouch)).toEqual([true]);
    expect(readFileSync(join(touched, 'summary.md'), 'utf8')).toMatch(/\*\*Pre-touch:\*\* every heap page was touched/);
  });

  it('passes collector options: -g k=v to every collector that has k, --pause-goal to those with a goal', () => {
    const dir = join(work, 'options');
    const r = heaplab('compare', '--collectors', 'gen,g1', '--workloads', 'lru-cache', '--heaps', '2m', '--repeat', '1', '--iterations', '1', ...TINY,
      '-g', 'tenuringThreshold=3', '-g', 'gen.budgetPercent=20', '--pause-goal', '40', '--out', dir);
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as CompareResults;
    const options = (c: string) => got.runs.find((x) => x.cell.collector === c)?.report?.configuration.collector.options;
    expect(options('gen')).toMatchObject({ tenuringThreshold: 3, budgetPercent: 20 });
    expect(options('g1')).toMatchObject({ tenuringThreshold: 3, budgetPercent: 5, pauseGoalMs: 40 });
    expect(got.matrix.gcOptions).toEqual({ gen: { tenuringThreshold: '3', 'budgetPercent': '20' }, g1: { tenuringThreshold: '3', pauseGoalMs: '40' } });
    expect(readFileSync(join(dir, 'summary.md'), 'utf8')).toMatch(/Collector options given: gen tenuringThreshold=3 budgetPercent=20; g1 tenuringThreshold=3 pauseGoalMs=40/);
  });

  it('records the out-of-memory cell as failed and goes on', () => {
    const eps = results.runs.filter((r) => r.cell.collector === 'epsilon');
    expect(eps.map((r) => r.outcome)).toEqual(['out-of-memory', 'out-of-memory']);
    expect(eps[0].message).toMatch(/out of memory/);
    const ok = results.runs.filter((r) => r.cell.collector === 'evac');
    expect(ok.map((r) => r.outcome)).toEqual(['ok', 'ok']);
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    const failed = summary.slice(summary.indexOf('## Failed cells'));
    expect(failed).toMatch(/epsilon on lru-cache, heap 2 MiB: \*\*out-of-memory\*\* \(repeats 1, 2\)/);
    expect(tableRow(summary, 'epsilon')[1]).toBe('0/2');
  });

  it('warms up as DaCapo: two iterations per run, the last reported, and says so', () => {
    for (const run of results.runs.filter((r) => r.outcome === 'ok')) {
      const report = run.report as unknown as { iterations: number; reportedIteration: number; latency: { kind: string }[] };
      expect(report.iterations).toBe(2);
      expect(report.reportedIteration).toBe(2);
      expect(report.latency.map((l) => l.kind).sort()).toEqual(['metered', 'simple']);
    }
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/2 time\(s\).*only the \*\*last iteration\*\* is measured/);
  });

  it('puts in summary.md the medians of the per-run percentiles in results.json', () => {
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    const row = tableRow(summary, 'evac');
    const header = tableRow(summary, 'collector');
    const evacRuns = results.runs.filter((r) => r.cell.collector === 'evac' && r.report);
    expect(evacRuns).toHaveLength(2);
    for (const [key, column] of [['p50', 'p50 ms'], ['p95', 'p95 ms'], ['p99', 'p99 ms'], ['max', 'max ms']] as const) {
      const expected = formatMs(median(evacRuns.map((r) => r.report!.percentiles[key])));
      const shown = row[header.indexOf(column)].split(' [')[0];
      expect(shown, `${column}: ${row.join(' | ')}`).toBe(expected);
    }
    const pauses = median(evacRuns.map((r) => r.report!.percentiles.count));
    expect(Number(row[header.indexOf('pauses')].split(' [')[0])).toBeCloseTo(pauses, 1);
  });

  it('heaplab report re-renders an identical summary.md (and csv) from results.json', () => {
    const again = join(work, 'again');
    const r = heaplab('report', join(out, 'results.json'), '--out', again);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(again, 'summary.md'), 'utf8')).toBe(readFileSync(join(out, 'summary.md'), 'utf8'));
    expect(readFileSync(join(again, 'results.csv'), 'utf8')).toBe(readFileSync(join(out, 'results.csv'), 'utf8'));
    expect(existsSync(join(again, 'report.html'))).toBe(true);
    expect(existsSync(join(again, 'results.json'))).toBe(false);
  });
});

describe('heaplab compare / report: bad input', () => {
  it.each([
    ['unknown collector', ['compare', '--collectors', 'nope', '--workloads', 'lru-cache']],
    ['unknown workload', ['compare', '--collectors', 'evac', '--workloads', 'nope']],
    ['bad heap size', ['compare', '--collectors', 'evac', '--workloads', 'lru-cache', '--heaps', '12q']],
    ['a parameter no workload takes', ['compare', '--collectors', 'evac', '--workloads', 'lru-cache', '-p', 'bogus=1']],
    ['a collector option no collector takes', ['compare', '--collectors', 'evac,gen', '--workloads', 'lru-cache', '-g', 'bogus=1']],
    ['an option the named collector lacks', ['compare', '--collectors', 'evac,gen', '--workloads', 'lru-cache', '-g', 'evac.tenuringThreshold=3']],
    ['an option value the collector refuses', ['compare', '--collectors', 'gen', '--workloads', 'lru-cache', '-g', 'remsetRepresentation=bogus']],
    ['a pause goal with no collector that has one', ['compare', '--collectors', 'evac,gen', '--workloads', 'lru-cache', '--pause-goal', '50']],
  ])('%s: one line, exit 2, nothing written', (_what, args) => {
    const dir = join(work, 'never');
    expectOneLineError(heaplab(...args, '--out', dir));
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses an output directory holding foreign files', () => {
    const dir = join(work, 'foreign');
    mkdirSync(dir);
    writeFileSync(join(dir, 'thesis.tex'), 'mine');
    expectOneLineError(heaplab('compare', '--collectors', 'evac', '--workloads', 'lru-cache', '--out', dir));
    expect(readFileSync(join(dir, 'thesis.tex'), 'utf8')).toBe('mine');
  });

  it('refuses a missing, corrupt or foreign results.json', () => {
    const corrupt = join(work, 'corrupt.json');
    writeFileSync(corrupt, '{"schema": "heaplab-compare/1", "runs": [');
    const foreign = join(work, 'foreign.json');
    writeFileSync(foreign, '{"schema": "heaplab-run/1"}');
    for (const file of [join(work, 'missing.json'), corrupt, foreign]) {
      expectOneLineError(heaplab('report', file, '--out', join(work, 'rerender')));
    }
    expect(existsSync(join(work, 'rerender'))).toBe(false);
  });
});

describe('request latency and warm-up, in process', () => {
  it('lru-cache calls the latency hooks once per operation and computes the same result', () => {
    const params = resolveParams(lruCache, { capacity: 200, ops: 3000 });
    const once = (hooks?: { begin(): void; end(): void }): Record<string, number> => {
      const vm = new Vm({ heapBytes: 4 << 20, collector: evac });
      return lruCache.run({ mutator: vm.newMutator(), types: vm.types, params, collect: () => vm.collect('explicit'), ...(hooks ? { latency: hooks } : {}) });
    };
    let begins = 0;
    let ends = 0;
    const withHooks = once({ begin: () => { begins++; }, end: () => { ends++; } });
    expect(begins).toBe(3000);
    expect(ends).toBe(3000);
    expect(withHooks).toEqual(once());
    expect(lruCache.requests?.(params)).toBe(3000);
  });

  it('runOnce runs n iterations, reports the last, with latency summaries', async () => {
    const report = await runOnce({ collector: 'evac', workload: 'lru-cache', heapBytes: 2 << 20, params: { capacity: '200', ops: '2000' }, iterations: 3, latency: true });
    expect(report.outcome).toBe('ok');
    expect(report.iterations).toBe(3);
    expect(report.reportedIteration).toBe(3);
    expect(report.latency?.map((l) => l.kind).sort()).toEqual(['metered', 'simple']);
  });
});
