/**
 * Production collectors beside heaplab's:
 *
 *   1. the HotSpot unified-log parser on captured JDK 17 snippets (G1, Parallel, Shenandoah,
 *      ZGC, Epsilon, uptime-only decorations)
 *   2. the V8 --trace-gc parser on captured Node 20 snippets (scavenge, incremental
 *      mark-compact, reduce, a second isolate, the out-of-memory report)
 *   3. the conversion into a RunReport: last-iteration window, rebased times, result values
 *   4. `heaplab import` input errors (unreadable, empty, unparseable: UsageError)
 *   5. when `java` is installed: tiny real runs of both Java ports under G1 and Parallel in a
 *      64 MiB heap, and of both V8 ports, whose result values must equal the reference
 *      scripts' (HEAPLAB_REFERENCE_DIR, default ../shared/reference-workloads/js)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { importLog } from '../cli/import-command.js';
import { classifyPause, parseHotspotLog } from '../reports/hotspot-log.js';
import {
  ToolMissingError, importedRunReport, parseProgramOutput, parseResultLine, portArgs, runHotspot, runV8, v8HeapFlags,
} from '../reports/production-runs.js';
import { parseV8Trace } from '../reports/v8-trace.js';
import { UsageError } from '../vm-core/errors.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const referenceDir = process.env.HEAPLAB_REFERENCE_DIR ?? path.resolve(repoRoot, '../shared/reference-workloads/js');
const M = 1024 * 1024;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'heaplab-production-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

const G1_LOG = `
[0.003s][3070091ns][info][gc] Using G1
[0.005s][4538693ns][info][gc,init] Version: 17.0.15+6-Debian-1deb12u1 (release)
[0.005s][4561026ns][info][gc,init] Heap Region Size: 1M
[0.005s][4566464ns][info][gc,init] Heap Max Capacity: 128M
[0.005s][4570001ns][info][gc,init] Pre-touch: Disabled
[0.167s][166941380ns][info][gc,start    ] GC(5) Pause Young (Normal) (G1 Evacuation Pause)
[0.189s][188865546ns][info][gc,phases   ] GC(5)   Pre Evacuate Collection Set: 0.0ms
[0.189s][188885466ns][info][gc,phases   ] GC(5)   Merge Heap Roots: 0.0ms
[0.189s][188888771ns][info][gc,phases   ] GC(5)   Evacuate Collection Set: 21.7ms
[0.189s][188889000ns][debug][gc,phases   ] GC(5)     Ext Root Scanning (ms):   Min:  0.1, Avg:  0.1, Max:  0.1, Diff:  0.0, Sum:  0.2, Workers: 2
[0.189s][188889100ns][debug][gc,phases   ] GC(5)     Scan Heap Roots (ms):          Min: 13.4, Avg: 15.0, Max: 16.5, Diff:  3.2, Sum: 29.9, Workers: 2
[0.189s][188889200ns][debug][gc,phases   ] GC(5)       Scanned Cards:                 Min: 23445, Avg: 27677.5, Max: 31910, Diff: 8465, Sum: 55355, Workers: 2
[0.189s][188889300ns][debug][gc,phases   ] GC(5)       Claimed Chunks:                Min: 2184, Avg: 3074.5, Max: 3965, Diff: 1781, Sum: 6149, Workers: 2
[0.189s][188889400ns][debug][gc,phases   ] GC(5)     Object Copy (ms):              Min: 20.1, Avg: 20.6, Max: 21.1, Diff:  1.0, Sum: 41.2, Workers: 2
[0.189s][188891165ns][info][gc,phases   ] GC(5)   Post Evacuate Collection Set: 0.1ms
[0.189s][188907309ns][info][gc,phases   ] GC(5)   Other: 0.0ms
[0.189s][188913959ns][info][gc,heap     ] GC(5) Eden regions: 12->0(15)
[0.189s][188941500ns][info][gc          ] GC(5) Pause Young (Normal) (G1 Evacuation Pause) 52M->52M(128M) 21.999ms
[0.735s][735329282ns][info][gc,start    ] GC(7) Pause Young (Concurrent Start) (G1 Evacuation Pause)
[0.764s][764070311ns][info][gc          ] GC(7) Pause Young (Concurrent Start) (G1 Evacuation Pause) 77M->71M(128M) 28.743ms
[0.764s][764118583ns][info][gc          ] GC(8) Concurrent Mark Cycle
[0.935s][934965972ns][info][gc,start    ] GC(8) Pause Remark
[0.936s][935526629ns][info][gc          ] GC(8) Pause Remark 76M->76M(128M) 0.561ms
[0.985s][985367655ns][info][gc,start    ] GC(8) Pause Cleanup
[0.985s][985417229ns][info][gc          ] GC(8) Pause Cleanup 78M->78M(128M) 0.049ms
[0.992s][992383975ns][info][gc          ] GC(8) Concurrent Mark Cycle 228.265ms
[1.041s][1041391357ns][info][gc,start    ] GC(10) Pause Young (Prepare Mixed) (G1 Evacuation Pause)
[1.063s][1063489613ns][info][gc          ] GC(10) Pause Young (Prepare Mixed) (G1 Evacuation Pause) 80M->78M(128M) 22.101ms
[1.124s][1124280148ns][info][gc,start    ] GC(11) Pause Young (Mixed) (G1 Evacuation Pause)
[1.136s][1135809723ns][info][gc          ] GC(11) Pause Young (Mixed) (G1 Evacuation Pause) 83M->79M(128M) 11.531ms
[1.500s][1500000000ns][info][gc,start    ] GC(12) Pause Full (System.gc())
[1.510s][1510000000ns][info][gc          ] GC(12) Pause Full (System.gc()) 90M->20M(128M) 10.000ms
`;

describe('HotSpot unified GC log', () => {
  it('reads G1 pauses: kinds, causes, start lines, top-level phases, per-worker sums, heap sizes, concurrent cycles', () => {
    const log = parseHotspotLog(G1_LOG);
    expect(log.collector).toBe('G1');
    expect(log.vmVersion).toBe('17.0.15+6-Debian-1deb12u1');
    expect(log.heapMaxBytes).toBe(128 * M);
    expect(log.regionBytes).toBe(M);
    expect(log.preTouch).toBe(false);
    expect(parseHotspotLog(G1_LOG.replace('Pre-touch: Disabled', 'Pre-touch: Enabled')).preTouch).toBe(true);
    expect(parseHotspotLog(G1_LOG.replace(/^.*Pre-touch.*$/m, '')).preTouch).toBeNull();
    expect(log.pauses.map((p) => p.kind)).toEqual(['young', 'young-concurrent-start', 'remark', 'cleanup', 'young-prepare-mixed', 'mixed', 'full']);
    expect(log.pauses.map((p) => p.cause)).toEqual([
      'G1 Evacuation Pause', 'G1 Evacuation Pause', 'concurrent cycle', 'concurrent cycle', 'G1 Evacuation Pause', 'G1 Evacuation Pause', 'System.gc()',
    ]);
    const first = log.pauses[0];
    expect(first.startMs).toBeCloseTo(166.94138, 5); // from the gc,start line's uptimenanos
    expect(first.durationMs).toBe(21.999);
    expect(first.usedBytesBefore).toBe(52 * M);
    expect(first.usedBytesAfter).toBe(52 * M);
    // debug-level nested phases are not added to their parents
    expect(first.phases).toEqual({ 'Pre Evacuate Collection Set': 0, 'Merge Heap Roots': 0, 'Evacuate Collection Set': 21.7, 'Post Evacuate Collection Set': 0.1, Other: 0 });
    expect(log.pauses[1].phases).toEqual({});
    // G1's per-worker sums (gc+phases=debug) under heaplab's counter names; other statistics are not kept
    expect(first.counters).toEqual({ cardScanThreadMs: 29.9, cardsScanned: 55355, copyThreadMs: 41.2, gcThreads: 2 });
    expect(log.pauses[1].counters).toEqual({});
    expect(log.concurrentPhases).toEqual([{ phase: 'Concurrent Mark Cycle', startMs: 992.383975 - 228.265, durationMs: 228.265 }].map((c) => ({ ...c, startMs: expect.closeTo(c.startMs, 6) })));
    expect(log.pauses.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('reads Parallel full-GC phases and uptime-only decorations (start = end - duration)', () => {
    const log = parseHotspotLog(`
[0.004s][info][gc] Using Parallel
[0.200s][info][gc,start       ] GC(3) Pause Full (Ergonomics)
[0.201s][info][gc,phases,start] GC(3) Marking Phase
[0.210s][info][gc,phases      ] GC(3) Marking Phase 9.100ms
[0.211s][info][gc,phases      ] GC(3) Summary Phase 0.020ms
[0.215s][info][gc,phases      ] GC(3) Compaction Phase 4.000ms
[0.216s][info][gc,heap        ] GC(3) PSYoungGen: 20992K(29696K)->0K(29696K) Eden: 20992K(20992K)->0K(20992K) From: 0K(8704K)->0K(8704K)
[0.216s][info][gc             ] GC(3) Pause Full (Ergonomics) 60M->40M(96M) 15.500ms
[0.300s][info][gc             ] GC(4) Pause Young (Allocation Failure) 61M->42M(96M) 2.250ms
`);
    expect(log.collector).toBe('Parallel');
    expect(log.pauses).toHaveLength(2);
    const [full, young] = log.pauses;
    expect(full).toMatchObject({ kind: 'full', cause: 'Ergonomics', startMs: 200, durationMs: 15.5, usedBytesBefore: 60 * M, usedBytesAfter: 40 * M });
    expect(full.phases).toEqual({ 'Marking Phase': 9.1, 'Summary Phase': 0.02, 'Compaction Phase': 4 });
    expect(young).toMatchObject({ kind: 'young', cause: 'Allocation Failure', durationMs: 2.25 });
    expect(young.startMs).toBeCloseTo(300 - 2.25, 9);
  });

  it('reads Shenandoah pauses (modifiers are not causes; occupancy carried from cleanup) and degenerated GCs', () => {
    const log = parseHotspotLog(`
[0.004s][4189422ns][info][gc] Using Shenandoah
[0.080s][80000000ns][info][gc          ] GC(0) Concurrent cleanup 50M->30M(64M) 0.100ms
[0.085s][84988045ns][info][gc,start    ] GC(1) Pause Init Mark (unload classes)
[0.085s][85031860ns][info][gc          ] GC(1) Pause Init Mark (unload classes) 0.047ms
[0.100s][100000000ns][info][gc          ] GC(1) Concurrent marking (unload classes) 14.000ms
[0.113s][113037852ns][info][gc,start    ] GC(1) Pause Final Mark (unload classes)
[0.113s][113108638ns][info][gc          ] GC(1) Pause Final Mark (unload classes) 0.072ms
[0.331s][331428157ns][info][gc,start    ] GC(5) Pause Degenerated GC (Outside of Cycle)
[0.339s][339013616ns][info][gc          ] GC(5) Pause Degenerated GC (Outside of Cycle) 60M->9M(64M) 7.584ms
[0.339s][339057903ns][info][gc,stats    ] Pause Degenerated GC (G)           7624 us
`);
    expect(log.pauses.map((p) => [p.kind, p.cause])).toEqual([
      ['init-mark', 'concurrent cycle'], ['final-mark', 'concurrent cycle'], ['degenerated-gc', 'Outside of Cycle'],
    ]);
    expect(log.pauses[0].usedBytesBefore).toBe(30 * M);
    expect(log.pauses[2].usedBytesAfter).toBe(9 * M);
    expect(log.concurrentPhases.map((c) => c.phase)).toEqual(['Concurrent cleanup', 'Concurrent marking (unload classes)']);
  });

  it('reads ZGC pauses from gc,phases, their heap from the Used table, and allocation stalls', () => {
    const log = parseHotspotLog(`
[0.038s][37641131ns][info][gc     ] Using The Z Garbage Collector
[0.004s][4074310ns][info][gc,init] Max Capacity: 128M
[0.150s][149850000ns][info][gc,start    ] GC(0) Garbage Collection (Warmup)
[0.150s][150012000ns][info][gc,phases   ] GC(0) Pause Mark Start 0.012ms
[0.200s][200000000ns][info][gc,phases   ] GC(0) Concurrent Mark 49.900ms
[0.200s][200030000ns][info][gc,phases   ] GC(0) Pause Mark End 0.030ms
[0.220s][220020000ns][info][gc,phases   ] GC(0) Pause Relocate Start 0.020ms
[0.239s][239763634ns][info][gc          ] Relocation Stall (main) 5.000ms
[0.240s][240000000ns][info][gc          ] Allocation Stall (main) 30.000ms
[0.261s][261325746ns][info][gc,heap     ] GC(0)      Used:       80M (62%)         102M (80%)         104M (81%)          98M (77%)         104M (81%)          80M (62%)
[0.261s][261339046ns][info][gc          ] GC(0) Garbage Collection (Warmup) 80M(62%)->98M(77%)
`);
    expect(log.collector).toBe('Z');
    expect(log.heapMaxBytes).toBe(128 * M);
    expect(log.pauses.map((p) => [p.kind, p.cause, p.usedBytesBefore / M])).toEqual([
      ['mark-start', 'Warmup', 80], ['mark-end', 'Warmup', 102], ['allocation-stall', 'thread main', 0], ['relocate-start', 'Warmup', 104],
    ]);
    // the relocation stall lies inside the allocation stall: not counted twice
    expect(log.pauses.filter((p) => p.kind.endsWith('-stall'))).toHaveLength(1);
    expect(log.pauses[2]).toMatchObject({ startMs: 210, durationMs: 30 });
  });

  it('reads Epsilon occupancy and knows its collector with no pauses', () => {
    const log = parseHotspotLog(`[0.006s][info][gc] Using Epsilon
[0.164s][info   ][gc          ] Heap: 65536K reserved, 65536K (100.00%) committed, 7695K (11.74%) used
`);
    expect(log.collector).toBe('Epsilon');
    expect(log.pauses).toEqual([]);
    expect(log.occupancy).toEqual([{ timeMs: 164, usedBytes: 7695 * 1024 }]);
  });

  it('classifies pause titles', () => {
    expect(classifyPause('Young (Normal) (G1 Humongous Allocation)', undefined)).toEqual({ kind: 'young', cause: 'G1 Humongous Allocation' });
    expect(classifyPause('Full (G1 Compaction Pause)', undefined)).toEqual({ kind: 'full', cause: 'G1 Compaction Pause' });
    expect(classifyPause('Init Update Refs', 'Allocation Rate')).toEqual({ kind: 'init-update-refs', cause: 'Allocation Rate' });
  });
});

const V8_TRACE = `
ITERATION 1 START 10.000
[2380:0x3ca5de30]       29 ms: Scavenge 4.4 (4.5) -> 4.0 (5.5) MB, 0.98 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; 
[2380:0x3ca5de30]       51 ms: Mark-Compact 13.5 (20.0) -> 12.8 (22.0) MB, 2.27 / 0.01 ms  (+ 2.7 ms in 30 steps since start of marking, biggest step 1.6 ms, walltime since start of marking 10 ms) (average mu = 1.000, current mu = 1.000) finalize incremental marking via stack guard; GC in old space requested
RESULT workload=lru-cache lang=js elapsed_ms=45.0 hits=1 misses=2 checksum=3 size=4
ITERATION 1 END 55.000
ITERATION 2 START 60.000
[2380:0x3ca5de30]       80 ms: Scavenge 5.0 (6.0) -> 4.5 (6.0) MB, 1.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; 
[2380:0x4444aaaa]       81 ms: Scavenge 1.0 (2.0) -> 0.5 (2.0) MB, 0.50 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; 
[2380:0x3ca5de30]      223 ms: Mark-Compact (reduce) 36.0 (68.2) -> 36.0 (38.0) MB, 39.94 / 0.00 ms  (+ 9.7 ms in 18 steps since start of marking, biggest step 4.4 ms, walltime since start of marking 55 ms) (average mu = 0.652, current mu = 0.652) finalize incremental marking via stack guard; GC in old space requested
RESULT workload=lru-cache lang=js elapsed_ms=170.5 hits=1 misses=2 checksum=3 size=4
ITERATION 2 END 231.000
`;

describe('V8 --trace-gc', () => {
  it('reads scavenges and mark-compacts: pause = main-thread time, start = end - duration, incremental marking apart', () => {
    const log = parseV8Trace(V8_TRACE);
    expect(log.pauses.map((p) => p.kind)).toEqual(['scavenge', 'mark-compact', 'scavenge', 'mark-compact-reduce']);
    const [scavenge, markCompact] = log.pauses;
    expect(scavenge).toMatchObject({ cause: 'allocation failure', durationMs: 0.98, usedBytesBefore: Math.round(4.4 * M), usedBytesAfter: 4 * M });
    expect(scavenge.startMs).toBeCloseTo(29 - 0.98, 9);
    expect(markCompact.cause).toBe('finalize incremental marking via stack guard; GC in old space requested');
    expect(markCompact.counters).toMatchObject({ incrementalMarkingMs: 2.7, incrementalSteps: 30, biggestStepMs: 1.6, externalMs: 0.01 });
    expect(log.concurrentPhases[0]).toMatchObject({ phase: 'incremental-marking', durationMs: 10 });
    expect(log.concurrentPhases[0].startMs).toBeCloseTo(51 - 2.27 - 10, 9);
  });

  it('stops at the out-of-memory report, which repeats earlier lines', () => {
    const line = '[1:0xa]      335 ms: Mark-Compact (reduce) 40.5 (43.5) -> 40.4 (42.5) MB, 31.76 / 0.00 ms  (average mu = 0.365, current mu = 0.095) allocation failure; scavenge might not succeed';
    const log = parseV8Trace(`${line}\n\n<--- Last few GCs --->\n\n${line}\n\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n`);
    expect(log.pauses).toHaveLength(1);
    expect(log.outOfMemory).toBe(true);
  });
});

describe('production runs as run reports', () => {
  it('reports only the last iteration, rebased to its start, with the RESULT values', () => {
    const report = importedRunReport(parseV8Trace(V8_TRACE), {
      collectorName: 'v8', workload: 'lru-cache', params: { ops: 10 }, heapBytes: 64 * M, programOutput: V8_TRACE,
    });
    expect(report.configuration.collector).toMatchObject({ name: 'v8', source: 'v8' });
    expect(report.configuration.collector.options).toMatchObject({ reportedIteration: 2, iterationStartMs: 60 });
    expect(report.pauses.map((p) => p.kind)).toEqual(['scavenge', 'mark-compact-reduce']);
    expect(report.pauses[0].startMs).toBeCloseTo(80 - 1.5 - 60, 6);
    expect(report.gcCount).toBe(2);
    expect(report.gcMs).toBeCloseTo(1.5 + 39.94, 9);
    expect(report.wallMs).toBe(170.5);
    expect(report.gcShare).toBeCloseTo((1.5 + 39.94) / 170.5, 9);
    expect(report.percentiles.count).toBe(2);
    expect(report.percentiles.max).toBe(39.94);
    expect(report.result).toEqual({ values: { hits: 1, misses: 2, checksum: 3, size: 4 }, line: 'RESULT workload=lru-cache hits=1 misses=2 checksum=3 size=4' });
    expect(report.concurrentCounters).toEqual({ incrementalMarkingMs: 9.7, incrementalSteps: 18 });
  });

  it('parses program output and RESULT lines; turns parameters into port flags; sizes V8 heaps', () => {
    expect(parseProgramOutput('ITERATION 1 START 1.5\nRESULT workload=x a=1\nITERATION 1 END 2\n')).toEqual([{ k: 1, startMs: 1.5, endMs: 2, resultLine: 'RESULT workload=x a=1' }]);
    expect(parseResultLine('RESULT workload=binary-trees lang=java elapsed_ms=12.5 nodes_allocated=7 checksum=-3')).toEqual({
      workload: 'binary-trees', elapsedMs: 12.5, values: { nodes_allocated: 7, checksum: -3 }, line: 'RESULT workload=binary-trees nodes_allocated=7 checksum=-3',
    });
    expect(portArgs({ capacity: 10, keyspaceFactor: 4 }, 3)).toEqual(['--capacity=10', '--keyspace-factor=4', '--iterations=3']);
    expect(v8HeapFlags(256 * M)).toMatchObject({ semiMiB: 16, oldMiB: 208 });
    expect(v8HeapFlags(64 * M)).toMatchObject({ semiMiB: 4, oldMiB: 52 });
  });

  it('heaplab import refuses unreadable, empty and unparseable files with a UsageError', () => {
    const dir = tempDir();
    const empty = path.join(dir, 'empty.log');
    writeFileSync(empty, '\n');
    const junk = path.join(dir, 'junk.log');
    writeFileSync(junk, 'hello\nworld\n');
    expect(() => importLog('hotspot', path.join(dir, 'missing.log'))).toThrow(UsageError);
    expect(() => importLog('hotspot', empty)).toThrow(/is empty/);
    expect(() => importLog('hotspot', junk)).toThrow(/not a HotSpot unified GC log/);
    expect(() => importLog('v8', junk)).toThrow(/no V8 --trace-gc lines/);
    expect(() => importLog('v8', dir)).toThrow(/directory/);
    const g1 = path.join(dir, 'g1.log');
    writeFileSync(g1, G1_LOG);
    const report = importLog('hotspot', g1);
    expect(report.configuration.collector.name).toBe('hotspot-G1');
    expect(report.configuration.heapBytes).toBe(128 * M);
    expect(report.percentiles.count).toBe(7);
  });
});

// ------------------------------------------------------------------------------------------------
// Real runs

const javaAvailable = spawnSync('java', ['-version']).status === 0 && spawnSync('javac', ['-version']).status === 0;

const SMALL: Record<string, Record<string, number>> = {
  'binary-trees': { iters: 1, stretch: 16, longlived: 12, array: 5000, min: 4, max: 12 },
  'lru-cache': { capacity: 20000, ops: 200000, keyspaceFactor: 4, seed: 42 },
};

function referenceValues(workload: string, params: Record<string, number>): Record<string, number> {
  const args = Object.entries(params).map(([k, v]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}=${v}`);
  const out = execFileSync(process.execPath, [path.join(referenceDir, `${workload}.js`), ...args], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`reference ${workload} printed no RESULT line`);
  return parseResultLine(line).values;
}

describe.skipIf(!javaAvailable)('HotSpot runs of the Java ports (64 MiB heap)', () => {
  const workDir = tempDir();
  for (const gc of ['G1', 'Parallel']) {
    for (const workload of Object.keys(SMALL)) {
      it(`${workload} under ${gc}: the reference's result values, pauses parsed, last of 2 iterations`, async () => {
        const report = await runHotspot({ gc, workload, heapBytes: 64 * M, params: SMALL[workload], iterations: 2, workDir });
        expect(report.outcome).toBe('ok');
        expect(report.configuration.collector).toMatchObject({ name: `hotspot-${gc}`, source: 'hotspot' });
        expect(report.configuration.collector.options.reportedIteration).toBe(2);
        expect(report.result?.values).toEqual(referenceValues(workload, SMALL[workload]));
        expect(report.gcCount).toBeGreaterThan(0);
        expect(report.pauses.length).toBe(report.gcCount);
        expect(report.pauses.every((p) => p.startMs >= 0 && p.durationMs >= 0)).toBe(true);
        expect(report.percentiles.count).toBe(report.pauses.length);
        expect(report.wallMs).toBeGreaterThan(0);
        expect(report.configuration.pretouch).toBe(false); // the JVM's own log says so
        // G1 runs log its per-worker times (gc+phases=debug): young pauses carry card-scan and copy thread time
        if (gc === 'G1') {
          const young = report.pauses.filter((p) => p.kind === 'young');
          expect(young.length).toBeGreaterThan(0);
          expect(young.every((p) => p.counters.copyThreadMs >= 0 && p.counters.cardScanThreadMs >= 0 && p.counters.gcThreads >= 1)).toBe(true);
        }
      });
    }
  }

  it('pretouch and a pause goal: the JVM runs with -XX:+AlwaysPreTouch and -XX:MaxGCPauseMillis, and its log says the heap was pre-touched', async () => {
    const report = await runHotspot({ gc: 'G1', workload: 'lru-cache', heapBytes: 64 * M, params: SMALL['lru-cache'], iterations: 1, workDir, pretouch: true, pauseGoalMs: 50 });
    expect(report.outcome).toBe('ok');
    expect(report.configuration.collector.options.jvmFlags).toContain('-XX:+AlwaysPreTouch');
    expect(report.configuration.collector.options.jvmFlags).toContain('-XX:MaxGCPauseMillis=50');
    expect(report.configuration.pretouch).toBe(true);
  });

  it('says which collector is unknown, and reports an out-of-memory run as a result', async () => {
    await expect(runHotspot({ gc: 'Nope', workload: 'lru-cache', heapBytes: 64 * M, params: {}, iterations: 1, workDir })).rejects.toThrow(UsageError);
    const report = await runHotspot({ gc: 'Epsilon', workload: 'binary-trees', heapBytes: 16 * M, params: SMALL['binary-trees'], iterations: 1, workDir });
    expect(report.outcome).toBe('out-of-memory');
    expect(report.error).toMatch(/OutOfMemoryError/);
    expect(report.result).toBeNull();
  });
});

describe('V8 runs of the native-JS ports', () => {
  const workDir = tempDir();
  for (const workload of Object.keys(SMALL)) {
    it(`${workload}: the reference's result values, pauses parsed`, async () => {
      const report = await runV8({ workload, heapBytes: 64 * M, params: SMALL[workload], iterations: 2, workDir });
      expect(report.outcome).toBe('ok');
      expect(report.configuration.collector).toMatchObject({ name: 'v8', source: 'v8' });
      expect(report.result?.values).toEqual(referenceValues(workload, SMALL[workload]));
      expect(report.gcCount).toBeGreaterThan(0);
      expect(report.pauses.every((p) => p.startMs >= -1 && p.durationMs >= 0)).toBe(true);
    });
  }

  it('a missing java (or javac) is a ToolMissingError', async () => {
    const path0 = process.env.PATH;
    process.env.PATH = tempDir(); // an empty directory: no java, no javac
    try {
      await expect(runHotspot({ gc: 'G1', workload: 'lru-cache', heapBytes: 64 * M, params: {}, iterations: 1, workDir: tempDir() })).rejects.toThrow(ToolMissingError);
    } finally {
      process.env.PATH = path0;
    }
  });
});
