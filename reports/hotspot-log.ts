/**
 * A parser for HotSpot's unified GC log (JDK 9+, written for JDK 17's
 * `-Xlog:gc*`), turning it into pauses, concurrent phases and heap
 * occupancy on the JVM's uptime clock, for heaplab's run reports.
 *
 * A line is decorations, then the message:
 *
 *   [0.123s][123456789ns][info][gc,phases   ] GC(3)   Evacuate Collection Set: 1.234ms
 *    uptime  uptimenanos  level  tags (padded) message
 *
 * Time comes from the most precise uptime decoration present (uptimenanos,
 * uptimemillis, uptime); logs decorated only with time/utctime are timed
 * relative to their first line. Lines without decorations are ignored.
 *
 * What each message becomes (GC(n) is the collection's id):
 *
 *   GC(n) Pause <Name> (<...>) [B->A(C)] <d>ms    a pause (all collectors; ZGC logs its
 *                                                 pauses at gc,phases without heap sizes)
 *   GC(n) Concurrent <Name> [B->A(C)] <d>ms       a concurrent phase, start = end - d
 *   GC(n) <Phase>[:] <d>ms     (tag gc,phases)    a phase of GC(n)'s next pause; nested
 *                                                 (more deeply indented) phases are skipped
 *   GC(n) <Stat>: Min: .. Sum: <s>, Workers: <w>  G1's per-worker statistics (gc+phases=debug),
 *                                                 summed over the workers, become the pause's
 *                                                 counters under heaplab's own names:
 *                                                 Scan Heap Roots (ms) -> cardScanThreadMs,
 *                                                 Object Copy (ms) -> copyThreadMs, Scanned
 *                                                 Cards -> cardsScanned, Workers -> gcThreads
 *                                                 (both split copying done while scanning cards
 *                                                 into copying, so the figures compare)
 *   Allocation|Relocation Stall (<thread>) <d>ms  ZGC: a mutator thread waited for the
 *                                                 collector; counted as a pause, kind
 *                                                 'allocation-stall' / 'relocation-stall'
 *   GC(n) Pause <Name> (<...>)    (tag gc,start)  the pause's start time, when logged
 *   GC(n) Garbage Collection (<cause>)            ZGC cycle start: the cause of its pauses
 *   GC(n) Used: <six columns>   (ZGC, gc,heap)    heap used at Mark Start / Mark End /
 *                                                 Relocate Start, for those pauses
 *   Using <collector>, Version:, Heap Max Capacity:, Heap Region Size:,
 *   Pre-touch: Enabled|Disabled   (gc,init)
 *   Heap: ... <N>K used                           Epsilon's occupancy reports
 *
 * Pause kinds: G1 Young (Normal) -> 'young', (Concurrent Start) -> 'young-concurrent-start',
 * (Prepare Mixed) -> 'young-prepare-mixed', (Mixed) -> 'mixed'; 'full'; 'remark'; 'cleanup';
 * Parallel/Serial 'young' / 'full'; Shenandoah 'init-mark', 'final-mark', 'init-update-refs',
 * 'final-update-refs', 'final-roots', 'degenerated-gc', 'full'; ZGC 'mark-start', 'mark-end',
 * 'relocate-start'. A pause's cause is its last parenthesised group when that is not a G1
 * young-pause subtype (e.g. 'G1 Evacuation Pause', 'Allocation Failure', 'Ergonomics'),
 * otherwise the cause its cycle started with, otherwise 'concurrent cycle'.
 *
 * Occupancy: a pause without heap sizes (Shenandoah) takes the last occupancy the log
 * reported, before and after.
 */
import type { ConcurrentPhaseRecord, PauseRecord } from './recorder.js';
import type { OccupancySample } from './run-report.js';
import type { ParsedGcLog } from './production-runs.js';

const LEVELS = new Set(['trace', 'debug', 'info', 'warning', 'error']);
const G1_YOUNG_SUBTYPES: Record<string, string> = {
  Normal: 'young',
  'Concurrent Start': 'young-concurrent-start',
  'Prepare Mixed': 'young-prepare-mixed',
  Mixed: 'mixed',
};
const UNIT_BYTES: Record<string, number> = { B: 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

const DECORATED_LINE = /^((?:\[[^\]]*\])+)\s?(.*)$/;
const HEAP_CHANGE = String.raw`(\d+[BKMGT])->(\d+[BKMGT])\((\d+[BKMGT])\)`;
const PAUSE_END = new RegExp(String.raw`^GC\((\d+)\) Pause (.+?)(?: ${HEAP_CHANGE})? (\d+(?:\.\d+)?)ms$`);
const CONCURRENT_END = new RegExp(String.raw`^GC\((\d+)\) (Concurrent .+?)(?: ${HEAP_CHANGE})? (\d+(?:\.\d+)?)ms$`);
const PAUSE_START = /^GC\((\d+)\) Pause (.+)$/;
const PHASE = /^GC\((\d+)\)( +)(.+?):? (\d+(?:\.\d+)?)ms$/;
const STALL = /^(Allocation|Relocation) Stall \((.+)\) (\d+(?:\.\d+)?)ms$/;
const CYCLE_START = /^GC\((\d+)\) Garbage Collection \((.+)\)$/;
const Z_USED = /^GC\((\d+)\)\s+Used:\s+(.*)$/;
const EPSILON_HEAP = /^Heap: .* (\d+[BKMGT]) \([\d.]+%\) used$/;
const PRE_TOUCH = /^Pre-touch: (Enabled|Disabled)$/;
const WORKER_STAT = /^GC\((\d+)\)\s+(.+?):\s+Min:.*\bSum:\s*(\d+(?:\.\d+)?), Workers: (\d+)$/;
/** G1's per-worker statistics that have a heaplab counter of the same meaning. */
const WORKER_COUNTERS: Record<string, string> = {
  'Scan Heap Roots (ms)': 'cardScanThreadMs',
  'Object Copy (ms)': 'copyThreadMs',
  'Scanned Cards': 'cardsScanned',
};

/** '24M' -> bytes. */
export function hotspotSize(text: string): number {
  const m = /^(\d+)([BKMGT])$/.exec(text);
  if (!m) return 0;
  return Number(m[1]) * UNIT_BYTES[m[2]];
}

/** 'Young (Normal) (G1 Evacuation Pause)' -> name 'Young', groups ['Normal', 'G1 Evacuation Pause']. */
function splitTitle(title: string): { name: string; groups: string[] } {
  const at = title.indexOf(' (');
  const name = at < 0 ? title : title.slice(0, at);
  const groups: string[] = [];
  if (at >= 0) {
    // balanced parentheses: 'Full (System.gc())' has one group 'System.gc()'
    let depth = 0;
    let begin = -1;
    for (let i = at + 1; i < title.length; i++) {
      const c = title[i];
      if (c === '(') {
        if (depth === 0) begin = i + 1;
        depth++;
      } else if (c === ')') {
        depth--;
        if (depth === 0 && begin >= 0) groups.push(title.slice(begin, i));
      }
    }
  }
  return { name, groups };
}

function kebab(text: string): string {
  return text.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}

/** Shenandoah's parenthesised modifiers: what the pause also does, not why it happened. */
const MODIFIERS = new Set(['unload classes', 'process weakrefs', 'update refs']);

/** The cause a pause title names ('G1 Evacuation Pause', 'Allocation Failure'), or null. */
function titleCause(title: string): string | null {
  const { name, groups } = splitTitle(title);
  const causes = groups.filter((g, i) => !MODIFIERS.has(g) && !(name === 'Young' && i === 0 && g in G1_YOUNG_SUBTYPES));
  return causes.length > 0 ? causes[causes.length - 1] : null;
}

/** Pause kind and cause from a pause title (the text after 'Pause '). */
export function classifyPause(title: string, cycleCause: string | undefined): { kind: string; cause: string } {
  const { name, groups } = splitTitle(title);
  const kind = name === 'Young' && groups.length > 0 && groups[0] in G1_YOUNG_SUBTYPES ? G1_YOUNG_SUBTYPES[groups[0]] : kebab(name);
  return { kind, cause: titleCause(title) ?? cycleCause ?? 'concurrent cycle' };
}

interface Decorations {
  timeMs: number | null;
  absoluteMs: number | null;
  level: string | null;
  tags: string[];
}

function readDecorations(text: string): Decorations {
  const out: Decorations = { timeMs: null, absoluteMs: null, level: null, tags: [] };
  let seconds: number | null = null;
  let millis: number | null = null;
  let nanos: number | null = null;
  for (const m of text.matchAll(/\[([^\]]*)\]/g)) {
    const d = m[1].trim();
    let x: RegExpExecArray | null;
    if ((x = /^(\d+(?:\.\d+)?)s$/.exec(d))) seconds = Number(x[1]);
    else if ((x = /^(\d+)ms$/.exec(d))) millis = Number(x[1]);
    else if ((x = /^(\d+)ns$/.exec(d))) nanos = Number(x[1]);
    else if (LEVELS.has(d)) out.level = d;
    else if (/^\d{4}-\d\d-\d\dT/.test(d)) {
      const t = Date.parse(d.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
      if (Number.isFinite(t)) out.absoluteMs = t;
    } else if (/^[a-z][a-z0-9_]*(,[a-z][a-z0-9_]*)*$/.test(d)) out.tags = d.split(',');
  }
  out.timeMs = nanos !== null ? nanos / 1e6 : millis !== null ? millis : seconds !== null ? seconds * 1000 : null;
  return out;
}

interface PendingPhase {
  name: string;
  ms: number;
}

/** Parses a unified GC log. Times are milliseconds on the JVM's uptime clock. */
export function parseHotspotLog(text: string): ParsedGcLog {
  const pauses: PauseRecord[] = [];
  const concurrentPhases: ConcurrentPhaseRecord[] = [];
  const occupancy: OccupancySample[] = [];
  const pendingPhases = new Map<number, PendingPhase[]>();
  const pendingCounters = new Map<number, Record<string, number>>();
  const pauseStarts = new Map<string, number>();
  const cycleCauses = new Map<number, string>();
  const zPauses = new Map<number, PauseRecord[]>();
  let collector: string | null = null;
  let vmVersion: string | null = null;
  let heapMaxBytes: number | null = null;
  let regionBytes: number | null = null;
  let preTouch: boolean | null = null;
  let firstAbsoluteMs: number | null = null;
  let firstMs = Number.POSITIVE_INFINITY;
  let lastMs = 0;
  let eventLines = 0;
  let lastUsedBytes = 0;
  let decoratedLines = 0;

  const addPause = (p: Omit<PauseRecord, 'index' | 'verifyMs' | 'counters'>, counters: Record<string, number> = {}): PauseRecord => {
    const record: PauseRecord = {
      index: pauses.length, kind: p.kind, cause: p.cause, startMs: p.startMs, durationMs: p.durationMs, verifyMs: 0,
      phases: p.phases, counters, usedBytesBefore: p.usedBytesBefore, usedBytesAfter: p.usedBytesAfter,
    };
    pauses.push(record);
    return record;
  };

  for (const raw of text.split(/\r?\n/)) {
    const line = DECORATED_LINE.exec(raw);
    if (!line) continue;
    const deco = readDecorations(line[1]);
    let timeMs = deco.timeMs;
    if (timeMs === null && deco.absoluteMs !== null) {
      firstAbsoluteMs ??= deco.absoluteMs;
      timeMs = deco.absoluteMs - firstAbsoluteMs;
    }
    if (timeMs === null) continue;
    decoratedLines++;
    firstMs = Math.min(firstMs, timeMs);
    lastMs = Math.max(lastMs, timeMs);
    const msg = line[2].trimEnd();
    const isStartTag = deco.tags.includes('start');
    let m: RegExpExecArray | null;

    if ((m = PAUSE_END.exec(msg)) && !isStartTag) {
      eventLines++;
      const id = Number(m[1]);
      const title = m[2];
      const durationMs = Number(m[6]);
      const started = pauseStarts.get(`${id}:${title}`);
      pauseStarts.delete(`${id}:${title}`);
      const startMs = started !== undefined && started <= timeMs ? started : Math.max(0, timeMs - durationMs);
      const { kind, cause } = classifyPause(title, cycleCauses.get(id));
      const before = m[3] ? hotspotSize(m[3]) : lastUsedBytes;
      const after = m[4] ? hotspotSize(m[4]) : lastUsedBytes;
      const phases: Record<string, number> = {};
      for (const ph of pendingPhases.get(id) ?? []) phases[ph.name] = (phases[ph.name] ?? 0) + ph.ms;
      pendingPhases.delete(id);
      const counters = pendingCounters.get(id) ?? {};
      pendingCounters.delete(id);
      const record = addPause({ kind, cause, startMs, durationMs, phases, usedBytesBefore: before, usedBytesAfter: after }, counters);
      if (m[4]) {
        lastUsedBytes = after;
        occupancy.push({ timeMs: startMs + durationMs, usedBytes: after });
      }
      if (collector === 'Z' || (!m[3] && /^(Mark Start|Mark End|Relocate Start)$/.test(title))) {
        const list = zPauses.get(id) ?? [];
        list.push(record);
        zPauses.set(id, list);
      }
      continue;
    }
    if ((m = CONCURRENT_END.exec(msg)) && !isStartTag) {
      eventLines++;
      const durationMs = Number(m[6]);
      concurrentPhases.push({ phase: m[2], startMs: Math.max(0, timeMs - durationMs), durationMs });
      if (m[4]) {
        lastUsedBytes = hotspotSize(m[4]);
        occupancy.push({ timeMs, usedBytes: lastUsedBytes });
      }
      continue;
    }
    if ((m = STALL.exec(msg))) {
      eventLines++;
      const durationMs = Number(m[3]);
      addPause({
        kind: `${m[1].toLowerCase()}-stall`,
        cause: `thread ${m[2]}`,
        startMs: Math.max(0, timeMs - durationMs),
        durationMs,
        phases: {},
        usedBytesBefore: lastUsedBytes,
        usedBytesAfter: lastUsedBytes,
      });
      continue;
    }
    if ((m = PAUSE_START.exec(msg)) && isStartTag) {
      pauseStarts.set(`${m[1]}:${m[2]}`, timeMs);
      const cause = titleCause(m[2]);
      if (cause !== null && !cycleCauses.has(Number(m[1]))) cycleCauses.set(Number(m[1]), cause);
      continue;
    }
    if ((m = CYCLE_START.exec(msg))) {
      cycleCauses.set(Number(m[1]), m[2]);
      continue;
    }
    if ((m = WORKER_STAT.exec(msg)) && deco.tags.includes('phases')) {
      const counter = WORKER_COUNTERS[m[2].trim()];
      if (counter !== undefined) {
        const counters = pendingCounters.get(Number(m[1])) ?? {};
        counters[counter] = Number(m[3]);
        counters.gcThreads = Number(m[4]);
        pendingCounters.set(Number(m[1]), counters);
      }
      continue;
    }
    if ((m = PHASE.exec(msg)) && deco.tags.includes('phases') && !isStartTag) {
      // top-level phases only: 'GC(3) Marking Phase' or G1's 'GC(3)   Evacuate Collection Set:'
      if (m[2].length <= 3) {
        const list = pendingPhases.get(Number(m[1])) ?? [];
        list.push({ name: m[3].trim(), ms: Number(m[4]) });
        pendingPhases.set(Number(m[1]), list);
      }
      continue;
    }
    if ((m = Z_USED.exec(msg))) {
      const used = [...m[2].matchAll(/(\d+[BKMGT]) \(\s*\d+%\)/g)].map((x) => hotspotSize(x[1]));
      const id = Number(m[1]);
      const columns: Record<string, number> = { 'mark-start': 0, 'mark-end': 1, 'relocate-start': 2 };
      for (const p of zPauses.get(id) ?? []) {
        const c = columns[p.kind];
        if (c !== undefined && used[c] !== undefined) {
          p.usedBytesBefore = used[c];
          p.usedBytesAfter = used[c];
        }
      }
      zPauses.delete(id);
      if (used[3] !== undefined) {
        lastUsedBytes = used[3];
        occupancy.push({ timeMs, usedBytes: used[3] });
      }
      continue;
    }
    if ((m = EPSILON_HEAP.exec(msg))) {
      lastUsedBytes = hotspotSize(m[1]);
      occupancy.push({ timeMs, usedBytes: lastUsedBytes });
      continue;
    }
    if ((m = /^Using (.+)$/.exec(msg)) && !/^GC\(/.test(msg) && collector === null) {
      const name = m[1];
      collector = /Z Garbage Collector/.test(name) ? 'Z' : name.split(' ')[0];
      continue;
    }
    if ((m = /^Version: (\S+)/.exec(msg))) {
      vmVersion = m[1];
      continue;
    }
    if ((m = /^(?:Heap )?Max Capacity: (\d+[BKMGT])$/.exec(msg)) && deco.tags.includes('init')) {
      heapMaxBytes = hotspotSize(m[1]);
      continue;
    }
    if ((m = /^Heap Region Size: (\d+[BKMGT])$/.exec(msg))) {
      regionBytes = hotspotSize(m[1]);
      continue;
    }
    if ((m = PRE_TOUCH.exec(msg))) {
      preTouch = m[1] === 'Enabled';
      continue;
    }
  }

  pauses.sort((a, b) => a.startMs - b.startMs);
  removeOverlappingStalls(pauses);
  pauses.sort((a, b) => a.startMs - b.startMs);
  pauses.forEach((p, i) => { p.index = i; });
  concurrentPhases.sort((a, b) => a.startMs - b.startMs);
  occupancy.sort((a, b) => a.timeMs - b.timeMs);
  return {
    source: 'hotspot',
    collector,
    vmVersion,
    heapMaxBytes,
    regionBytes,
    preTouch,
    pauses,
    concurrentPhases,
    occupancy,
    firstMs: decoratedLines > 0 ? firstMs : 0,
    lastMs,
    decoratedLines,
    eventLines,
    outOfMemory: false,
  };
}

/**
 * A thread stalls once at a time: a stall inside an earlier stall's interval (ZGC logs a
 * relocation stall that happened during an allocation stall) is dropped, and one that
 * overlaps an earlier stall starts where that one ended. Pauses are sorted by start.
 */
function removeOverlappingStalls(pauses: PauseRecord[]): void {
  let stallEnd = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < pauses.length; i++) {
    const p = pauses[i];
    if (!p.kind.endsWith('-stall')) continue;
    const end = p.startMs + p.durationMs;
    if (end <= stallEnd) {
      pauses.splice(i, 1);
      i--;
      continue;
    }
    if (p.startMs < stallEnd) {
      p.durationMs = end - stallEnd;
      p.startMs = stallEnd;
    }
    stallEnd = end;
  }
}
