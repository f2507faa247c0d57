/**
 * The GC log (reports/gc-log.ts) on a tiny evac run: one JSON line per GC
 * event in the file (pino, synchronous), one -Xlog:gc-style line per pause on
 * the terminal at info, phase lines at debug, nothing at silent; the numbers
 * are the pause recorder's.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evac } from '../collectors/region/region-collector.js';
import { attachGcLog, heapTransition, pauseKindTitle, pauseLine, type GcLogLevel } from '../reports/gc-log.js';
import { PauseRecorder } from '../reports/recorder.js';
import type { GcEventListener } from '../vm-core/events.js';
import { testVm } from './kit/fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'heaplab-gc-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAP = 64 * 1024;
const PAUSE_LINE = /^\[\d+\.\d{3}s\] Pause [A-Z][\w ]* \([\w-]+\) \d+K->\d+K\(64K\) \d+\.\d{3}ms$/;

/** A small evac run with some garbage and some survivors; returns what the log and a counting listener saw. */
function tinyRun(level: GcLogLevel, file?: string): { vm: ReturnType<typeof testVm>['vm']; lines: string[]; events: number; recorder: PauseRecorder; close: () => Promise<void> } {
  const { vm, m, t } = testVm({ collector: evac, heapBytes: HEAP });
  const recorder = new PauseRecorder(() => vm.heap.accountedWords);
  vm.events.subscribe(recorder);
  let events = 0;
  const counter: GcEventListener = {
    pauseEvent: () => { events++; }, phaseEnd: () => { events++; }, count: () => { events++; }, reclassify: () => { events++; }, concurrent: () => { events++; },
  };
  vm.events.subscribe(counter);
  let text = '';
  const log = attachGcLog(vm, { ...(file !== undefined ? { file } : {}), level, heapBytes: vm.heap.heapBytes, terminal: { write: (s: string) => { text += s; } } });
  const keep = m.push(0);
  for (let i = 0; i < 3000; i++) {
    const c = m.alloc(t.cons);
    if (i % 50 === 0) {
      m.setRef(c, 0, m.get(keep));
      m.set(keep, c);
    }
  }
  vm.collect('explicit');
  return { vm, recorder, get lines() { return text.split('\n').filter((l) => l.length > 0); }, get events() { return events; }, close: () => log.close() };
}

describe('gc log', () => {
  it('writes one JSON line per GC event to the file, and one -Xlog:gc-style line per pause at info', async () => {
    const file = join(dir, 'nested', 'events.jsonl');
    const run = tinyRun('info', file);
    await run.close();
    const pauses = run.recorder.pauses;
    expect(pauses.length).toBeGreaterThan(2);
    const json = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json.length).toBe(run.events);
    expect(json.filter((j) => j.event === 'requested').length).toBe(pauses.length);
    const resumed = json.filter((j) => j.event === 'mutators-resumed');
    expect(resumed.length).toBe(pauses.length);
    resumed.forEach((j, i) => {
      expect(j.gc).toBe(i);
      expect(j.durationMs).toBe(pauses[i].durationMs);
      expect(j.usedBytesAfter).toBe(pauses[i].usedBytesAfter);
      expect(j.kind).toBe(pauses[i].kind);
      expect(j.msg).toBe(pauseLine(pauses[i], HEAP));
    });
    expect(json.every((j) => typeof j.level === 'number' && typeof j.time === 'number' && !('pid' in j))).toBe(true);

    expect(run.lines.length).toBe(pauses.length);
    for (const line of run.lines) expect(line).toMatch(PAUSE_LINE);
    expect(run.lines[0]).toContain('Pause Evacuation (allocation) ');
    expect(run.lines[run.lines.length - 1]).toContain('Pause Evacuation (explicit) ');
    // the line's numbers are the pause record's
    const last = pauses[pauses.length - 1];
    expect(run.lines[run.lines.length - 1].endsWith(` ${last.durationMs.toFixed(3)}ms`)).toBe(true);
    expect(run.lines[run.lines.length - 1]).toContain(heapTransition(last.usedBytesBefore, last.usedBytesAfter, HEAP));

    // after close, events are ignored (and close is idempotent)
    const logged = run.lines.length;
    run.vm.collect('explicit');
    await run.close();
    expect(readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0).length).toBe(json.length);
    expect(run.lines.length).toBe(logged);
  });

  it('adds phase and counter lines at debug, and prints nothing at silent', async () => {
    const debug = tinyRun('debug');
    await debug.close();
    const pauseLines = debug.lines.filter((l) => PAUSE_LINE.test(l));
    expect(pauseLines.length).toBe(debug.recorder.pauses.length);
    const first = debug.recorder.pauses[0];
    for (const phase of Object.keys(first.phases)) {
      expect(debug.lines.some((l) => new RegExp(`^\\[\\d+\\.\\d{3}s\\] GC\\(0\\)   ${phase} \\d+\\.\\d{3}ms$`).test(l))).toBe(true);
    }
    expect(debug.lines.some((l) => /GC\(0\)   counters .*objectsMarked=\d+/.test(l))).toBe(true);

    const silent = tinyRun('silent');
    await silent.close();
    expect(silent.recorder.pauses.length).toBeGreaterThan(0);
    expect(silent.lines).toEqual([]);
  });

  it('formats kinds and sizes as -Xlog:gc does', () => {
    expect(pauseKindTitle('evacuation')).toBe('Evacuation');
    expect(pauseKindTitle('evacuation-failure')).toBe('Evacuation Failure');
    expect(heapTransition(120 * 2 ** 20 + 5, 40 * 2 ** 20, 256 * 2 ** 20)).toBe('120M->40M(256M)');
    expect(heapTransition(3000, 1024, 64 * 1024)).toBe('2K->1K(64K)');
  });
});
