/**
 * `heaplab import hotspot <gc.log>` and `heaplab import v8 <trace.txt>`: bring a
 * production collector's GC log into heaplab's run format, so it can sit in the
 * same tables and charts as heaplab's own runs.
 *
 *   hotspot   a JDK unified GC log (-Xlog:gc*, with an uptime decoration);
 *             --stdout <file> adds the program's output (a heaplab Java port's
 *             ITERATION/RESULT lines), so only the last iteration is reported
 *   v8        `node --trace-gc` output; ITERATION/RESULT lines of a heaplab
 *             V8 port in the same file are used the same way
 *
 * Prints a short summary (pause count, p50/p95/p99/max, total) and with --out
 * writes the RunReport JSON (atomically). A file that cannot be read, is empty
 * or holds no GC events is a UsageError: one line, exit 2.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { formatBytes, parseSize } from '../vm-core/sizes.js';
import { UsageError } from '../vm-core/errors.js';
import { parseHotspotLog } from '../reports/hotspot-log.js';
import { type ParsedGcLog, importedRunReport, parseProgramOutput, parseResultLine } from '../reports/production-runs.js';
import type { RunReport } from '../reports/run-report.js';
import { formatDuration, formatMs, formatPercent } from '../reports/summary.js';
import { parseV8Trace } from '../reports/v8-trace.js';
import { checkOutFile, writeFileAtomic } from './run-command.js';

interface ImportFlags {
  out?: string;
  heap?: string;
  workload?: string;
  stdout?: string;
}

function readText(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code ?? (e as Error).message;
    throw new UsageError(`cannot read ${what} ${file}: ${why}`);
  }
  if (text.trim().length === 0) throw new UsageError(`${what} ${file} is empty`);
  return text;
}

/** The log as a RunReport; UsageError when it holds nothing we can use. */
export function importLog(source: 'hotspot' | 'v8', file: string, flags: ImportFlags = {}): RunReport {
  const text = readText(file, source === 'hotspot' ? 'GC log' : 'trace');
  let log: ParsedGcLog;
  let programOutput: string | undefined;
  if (source === 'hotspot') {
    log = parseHotspotLog(text);
    if (log.decoratedLines === 0) {
      throw new UsageError(`${file} is not a HotSpot unified GC log (no line starts with an uptime decoration like [0.123s]; log with -Xlog:gc*:file=gc.log:uptime,level,tags)`);
    }
    if (log.eventLines === 0 && log.collector === null) throw new UsageError(`${file} holds no GC events (pauses or concurrent phases)`);
    if (flags.stdout !== undefined) programOutput = readText(flags.stdout, 'program output');
  } else {
    log = parseV8Trace(text);
    if (log.eventLines === 0) throw new UsageError(`${file} holds no V8 --trace-gc lines (e.g. "[123:0x...]  45 ms: Scavenge 4.1 (6.2) -> 3.9 (7.2) MB, 1.2 / 0.0 ms ...")`);
    if (flags.stdout !== undefined) programOutput = readText(flags.stdout, 'program output');
    else if (parseProgramOutput(text).some((m) => m.resultLine !== null)) programOutput = text;
  }
  const marks = programOutput !== undefined ? parseProgramOutput(programOutput) : [];
  const resultLine = marks.length > 0 ? marks[marks.length - 1].resultLine : null;
  const workload = flags.workload ?? (resultLine ? parseResultLine(resultLine).workload : `imported:${basename(file)}`);
  const heapBytes = flags.heap !== undefined ? parseSize(flags.heap, '--heap') : log.heapMaxBytes ?? 0;
  const collectorName = source === 'v8' ? 'v8' : `hotspot-${log.collector ?? 'unknown'}`;
  return importedRunReport(log, {
    collectorName,
    workload,
    params: {},
    heapBytes,
    ...(programOutput !== undefined ? { programOutput } : {}),
    options: { importedFrom: file },
  });
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export function importSummary(report: RunReport, file: string): string {
  const p = report.percentiles;
  const c = report.configuration;
  const label = (name: string): string => `  ${name.padEnd(12)}`;
  const version = c.collector.options.vmVersion;
  const lines = [`heaplab import: ${c.collector.name} (${c.collector.source}${version ? ` ${version}` : ''}) from ${file}`];
  lines.push(`${label('workload')}${c.workload.name}${c.heapBytes > 0 ? `, heap ${formatBytes(c.heapBytes)}` : ''}`);
  lines.push(`${label('pauses')}${p.count}, total ${formatDuration(p.totalMs)}`);
  if (p.count > 0) {
    lines.push(`${label('pause ms')}p50 ${formatMs(p.p50)}  p95 ${formatMs(p.p95)}  p99 ${formatMs(p.p99)}  max ${formatMs(p.max)}`);
    lines.push(`${label('pause kinds')}${Object.entries(countBy(report.pauses.map((x) => x.kind))).map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  if (report.concurrentPhases.length > 0) lines.push(`${label('concurrent')}${report.concurrentPhases.length} phases`);
  lines.push(`${label('wall')}${formatDuration(report.wallMs)}, GC ${formatPercent(report.gcShare)} of wall`);
  if (report.outcome !== 'ok') lines.push(`${label('outcome')}${report.outcome}: ${report.error ?? ''}`);
  if (report.result) lines.push(report.result.line);
  return lines.join('\n');
}

export function registerImportCommand(program: Command): void {
  const command = program
    .command('import')
    .description('bring a production collector\'s GC log (HotSpot unified log, V8 --trace-gc) into heaplab\'s run format');
  const addSource = (source: 'hotspot' | 'v8', argument: string, description: string): void => {
    command
      .command(source)
      .description(description)
      .argument(argument, source === 'hotspot' ? 'unified GC log (-Xlog:gc*:file=gc.log:uptime,level,tags)' : 'node --trace-gc output')
      .option('--out <file>', 'write the run report JSON here')
      .option('--heap <size>', 'heap size to record (default: the log\'s max heap, if it says)')
      .option('--workload <name>', 'workload name to record (default: from a RESULT line, else the file name)')
      .option('--stdout <file>', 'the program\'s output with heaplab ITERATION/RESULT lines: report the last iteration only')
      .action((file: string, flags: ImportFlags) => {
        if (flags.out !== undefined) checkOutFile(flags.out);
        const report = importLog(source, file, flags);
        process.stdout.write(`${importSummary(report, file)}\n`);
        if (flags.out !== undefined) {
          writeFileAtomic(flags.out, `${JSON.stringify(report, null, 2)}\n`);
          process.stdout.write(`  wrote ${flags.out}\n`);
        }
      });
  };
  addSource('hotspot', '<gc.log>', "import a HotSpot unified GC log (JDK 9+, -Xlog:gc*; with gc+phases=debug, G1's per-worker card-scan and copy times become counters)");
  addSource('v8', '<trace.txt>', 'import V8 --trace-gc output (node --trace-gc)');
}
