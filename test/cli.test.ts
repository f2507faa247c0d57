/**
 * The `heaplab` command as a user meets it: the built CLI (dist/cli/heaplab.js,
 * built before vitest runs) spawned as a child process. Bad input is one line
 * and exit 2, out of memory one line and exit 3, never a stack trace; a run
 * writes a JSON report whose percentiles follow from its own pauses; `list`
 * names every collector and workload. Also the pause recorder on a synthetic
 * event stream, where every number is known.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'hdr-histogram-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pausePercentiles } from '../reports/percentiles.js';
import { PauseRecorder } from '../reports/recorder.js';

const CLI = fileURLToPath(new URL('../dist/cli/heaplab.js', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'heaplab-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface CliResult { status: number | null; stdout: string; stderr: string }

function heaplab(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: CliResult, exitCode: number): void {
  expect(r.status, r.stderr).toBe(exitCode);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^heaplab: \S/);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

/** A binary-trees run small enough for a test (about 70 pauses in a 4 MiB heap, well under a second). */
const SMALL_TREES = ['-p', 'iters=1', '-p', 'stretch=14', '-p', 'longlived=10', '-p', 'array=10000', '-p', 'max=12'];

describe('heaplab: bad input', () => {
  const cases: [string, string[]][] = [
    ['unknown collector', ['run', '--collector', 'nope', '--workload', 'lru-cache']],
    ['unknown workload', ['run', '--collector', 'evac', '--workload', 'nope']],
    ['malformed heap size', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--heap', '12q']],
    ['heap smaller than a few regions', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--heap', '128k']],
    ['region size not a power of two', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--region-size', '3k']],
    ['--param without =', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--param', 'capacity']],
    ['unknown --param', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--param', 'bogus=1']],
    ['non-integer --param', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--param', 'capacity=1.5']],
    ['unknown --gc-opt', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--gc-opt', 'bogus=1']],
    ['--gc-opt value not among its choices', ['run', '--collector', 'gen', '--workload', 'lru-cache', '--gc-opt', 'remsetRepresentation=bogus']],
    ['bad --verify level', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--verify', 'loud']],
    ['non-integer --stress-gc', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--stress-gc', '2.5']],
    ['--seed for a workload without one', ['run', '--collector', 'evac', '--workload', 'binary-trees', '--seed', '7']],
    ['missing collector module', ['run', '--collector', './no-such-gc.js', '--workload', 'lru-cache']],
    ['unknown option', ['run', '--collector', 'evac', '--workload', 'lru-cache', '--bogus']],
    ['missing required option', ['run', '--collector', 'evac']],
    ['unknown command', ['frobnicate']],
  ];
  it.each(cases)('%s: one line on stderr, exit 2', (_what, args) => {
    const out = join(work, 'bad-input.json');
    const r = heaplab(...args, ...(args[0] === 'run' ? ['--out', out] : []));
    expectOneLineError(r, 2);
    expect(existsSync(out)).toBe(false);
  });
});

describe('heaplab: out of memory', () => {
  it('epsilon on binary-trees in 64m: one line, exit 3, and a failed report', () => {
    const out = join(work, 'oom.json');
    const r = heaplab('run', '--collector', 'epsilon', '--workload', 'binary-trees', '--heap', '64m', '--out', out);
    expectOneLineError(r, 3);
    expect(r.stderr).toMatch(/^heaplab: out of memory: heap 64 MiB/);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.outcome).toBe('out-of-memory');
    expect(report.error).toMatch(/^out of memory/);
    expect(report.result).toBeNull();
  });
});

describe('heaplab run', () => {
  const out = join(work, 'run.json');
  let r: CliResult;
  beforeAll(() => {
    r = heaplab('run', '--collector', 'evac', '--workload', 'binary-trees', '--heap', '4m', ...SMALL_TREES, '--out', out);
  });

  it('prints a summary ending in the RESULT line and writes a report', () => {
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/p99\.9/);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^RESULT workload=binary-trees nodes_allocated=\d+ /);
    expect(existsSync(out)).toBe(true);
  });

  it("has percentiles that follow from the report's own pauses", () => {
    const report = JSON.parse(readFileSync(out, 'utf8'));
    const durations: number[] = report.pauses.map((p: { durationMs: number }) => p.durationMs);
    expect(durations.length).toBeGreaterThan(10);
    expect(report.gcCount).toBe(durations.length);

    const micros = durations.map((ms) => Math.round(ms * 1000));
    const histogram = build({ useWebAssembly: false, numberOfSignificantValueDigits: 3 });
    for (const us of micros) histogram.recordValue(us);
    const max = Math.max(...micros);
    const sorted = [...micros].sort((a, b) => a - b);
    const points: [string, number][] = [['p50', 50], ['p90', 90], ['p95', 95], ['p99', 99], ['p99_9', 99.9]];
    for (const [key, p] of points) {
      const fromHistogram = Math.min(histogram.getValueAtPercentile(p), max) / 1000;
      expect(report.percentiles[key], key).toBe(fromHistogram);
      const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1] / 1000;
      expect(Math.abs(report.percentiles[key] - exact), key).toBeLessThanOrEqual(Math.max(0.001, exact * 0.001));
    }
    expect(report.percentiles.max).toBe(max / 1000);
    expect(report.percentiles.count).toBe(durations.length);
    expect(report.percentiles.totalMs).toBeCloseTo(durations.reduce((a, b) => a + b, 0), 6);
    expect(report.gcMs).toBeCloseTo(report.percentiles.totalMs, 6);
  });

  it('records configuration, environment, occupancy and the result', () => {
    const report = JSON.parse(readFileSync(out, 'utf8'));
    expect(report.schema).toBe('heaplab-run/1');
    expect(report.outcome).toBe('ok');
    expect(report.configuration.collector.name).toBe('evac');
    expect(report.configuration.workload).toMatchObject({ name: 'binary-trees', params: { iters: 1, stretch: 14 } });
    expect(report.configuration.heapBytes).toBe(4 * 1024 * 1024);
    expect(report.environment.nodeVersion).toBe(process.version);
    expect(report.occupancy).toHaveLength(report.pauses.length);
    expect(report.allocatedBytes).toBeGreaterThan(0);
    expect(report.gcShare).toBeGreaterThan(0);
    expect(report.gcShare).toBeLessThan(1);
    const pause = report.pauses[0];
    expect(pause.kind).toBe('evacuation');
    expect(pause.counters.objectsMarked).toBeGreaterThan(0);
    expect(Object.keys(pause.phases)).toContain('mark');
    expect(report.result.line).toMatch(/^RESULT workload=binary-trees /);
  });
});

describe('heaplab list', () => {
  it('names every collector and workload', () => {
    const r = heaplab('list');
    expect(r.status, r.stderr).toBe(0);
    for (const name of ['epsilon', 'evac', 'binary-trees', 'lru-cache']) expect(r.stdout).toMatch(new RegExp(`^  ${name}$`, 'm'));
  });
});

describe('pause recorder (synthetic events)', () => {
  it('times phases from mark to mark, leaves verification out of the pause, and follows reclassify', () => {
    let used = 1000;
    const rec = new PauseRecorder(() => used);
    rec.pauseEvent('requested', 10, { cause: 'allocation' });
    used = 900; // TLAB tails returned when the mutators stop
    rec.pauseEvent('mutators-stopped', 11, {});
    rec.phaseEnd('stop-mutators', 11);
    rec.phaseEnd('verify-before', 14);
    rec.pauseEvent('prepare', 14, { kind: 'evacuation' });
    rec.pauseEvent('roots-traced', 15, {});
    rec.phaseEnd('mark', 17);
    rec.count('objectsMarked', 5);
    rec.count('objectsMarked', 2);
    rec.phaseEnd('copy', 18);
    rec.phaseEnd('copy', 19);
    rec.reclassify('evacuation-failure');
    rec.phaseEnd('verify-after', 21);
    rec.pauseEvent('mutators-resumed', 21, { usedWords: 400 });
    rec.concurrent('concurrent-start', 'mark', 30);
    rec.count('cardsRefined', 3);
    rec.concurrent('concurrent-end', 'mark', 34);

    expect(rec.pauses).toHaveLength(1);
    const p = rec.pauses[0];
    expect(p).toMatchObject({ index: 0, kind: 'evacuation-failure', cause: 'allocation', startMs: 10, durationMs: 6, verifyMs: 5 });
    expect(p.phases).toEqual({ 'stop-mutators': 1, mark: 3, copy: 2 });
    expect(p.counters).toEqual({ objectsMarked: 7 });
    expect(p.usedBytesBefore).toBe(3600);
    expect(p.usedBytesAfter).toBe(1600);
    expect(rec.concurrentPhases).toEqual([{ phase: 'mark', startMs: 30, durationMs: 4 }]);
    expect(rec.concurrentCounters).toEqual({ cardsRefined: 3 });
  });

  it('gives percentiles of nothing as zeros', () => {
    expect(pausePercentiles([])).toEqual({ p50: 0, p90: 0, p95: 0, p99: 0, p99_9: 0, max: 0, count: 0, totalMs: 0 });
  });
});
