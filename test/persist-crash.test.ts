/**
 * Crash consistency of the GCPersist image, for real: a child `node` process
 * (importing the compiled dist/collectors/gcpersist/persistent-image.js) commits
 * epochs of big regions in a loop, with deterministic content (epoch k: region
 * i holds fill(lastChange(k, i), i)), and compacts now and then; the parent
 * kills it with SIGKILL at random instants, often in the middle of a write,
 * then recovers the image and checks: recovery succeeds, the recovered epoch's
 * content is exactly that of one epoch (never a mix), the epoch is at least the
 * last one the child reported durable, and recovery left the file unchanged.
 * The next child opens the image and goes on from the recovered epoch.
 *
 * SIGKILL loses the process, not the page cache, so this checks the commit
 * order and the copy-on-write discipline (torn appends, torn superblock writes,
 * interrupted compactions); power loss would also test the fsyncs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PersistentImage, recoverImage } from '../collectors/gcpersist/persistent-image.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** HEAPLAB_CRASH_MODULE: another build of the module for the child (to check that the test catches a broken commit order). */
const DIST_MODULE = process.env.HEAPLAB_CRASH_MODULE ?? join(ROOT, 'dist', 'collectors', 'gcpersist', 'persistent-image.js');
const work = fs.mkdtempSync(join(tmpdir(), 'heaplab-crash-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const KILLS = 30;
const REGION_COUNT = 16;
const REGION_WORDS = 128 * 1024; // 512 KiB regions: a commit writes megabytes, so kills land mid-write
const COMPACT_MIN_BYTES = 24 * 1024 * 1024;

/** The epoch content model, shared verbatim by the child (as source text) and the parent. */
const MODEL = `
function included(k, i) { return k >= 1 && (i + k) % 11 !== 0; }
function changed(k, i) { return k === 1 || (i * 7 + k) % 3 === 0 || !included(k - 1, i); }
function lastChange(k, i) { let j = k; while (j > 1 && !changed(j, i)) j--; return j; }
function lengthOf(j, i) { return ${REGION_WORDS} - ((j * 3 + i) % 4) * 64; }
function fill(j, i) {
  const w = new Int32Array(lengthOf(j, i));
  let x = (j * 1000003 + i * 7919) | 0;
  for (let t = 0; t < w.length; t++) { x = (Math.imul(x, 1664525) + 1013904223) | 0; w[t] = x; }
  return w;
}
`;
const model = new Function(`${MODEL}; return { included, changed, lastChange, fill };`)() as {
  included(k: number, i: number): boolean;
  changed(k: number, i: number): boolean;
  lastChange(k: number, i: number): number;
  fill(j: number, i: number): Int32Array;
};

const CHILD = (moduleUrl: string): string => `
import { writeSync } from 'node:fs';
import { PersistentImage } from ${JSON.stringify(moduleUrl)};
${MODEL}
const say = (line) => writeSync(1, line + '\\n');
const img = PersistentImage.open(process.argv[2], { compactMinBytes: ${COMPACT_MIN_BYTES} });
say('ready ' + img.epoch);
for (let k = img.epoch + 1; ; k++) {
  const persistentRegions = [];
  const regions = [];
  for (let i = 0; i < ${REGION_COUNT}; i++) {
    if (!included(k, i)) continue;
    persistentRegions.push(i);
    if (changed(k, i)) regions.push({ index: i, words: fill(k, i) });
  }
  say('begin ' + k);
  const s = img.commit({ regions, persistentRegions, roots: { k, table: k * 16 }, types: [{ name: 'Partition', kind: 1, refs: 1, dataWords: k % 5, elementWords: 0 }], meta: { epoch: k, tag: 'e' + k } });
  say('durable ' + k + (s.compactMs > 0 ? ' compacted' : ''));
}
`;

function sha(path: string): string {
  return createHash('sha256').update(fs.readFileSync(path)).digest('hex');
}

/** Problems with the recovered image against the model of epoch `e` (empty: it is exactly epoch e). */
function check(path: string): { epoch: number; problems: string[] } {
  const r = recoverImage(path);
  const e = r.epoch;
  const problems: string[] = [];
  const want = [...Array(REGION_COUNT).keys()].filter((i) => model.included(e, i));
  const got = [...r.regions.keys()].sort((a, b) => a - b);
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`epoch ${e}: regions ${got} != ${want}`);
  for (const i of want) {
    const w = r.regions.get(i);
    const j = model.lastChange(e, i);
    const expected = model.fill(j, i);
    if (!w || w.length !== expected.length) { problems.push(`epoch ${e}: region ${i} has ${w?.length} words, not ${expected.length}`); continue; }
    for (let t = 0; t < w.length; t++) {
      if (w[t] !== expected[t]) { problems.push(`epoch ${e}: region ${i} word ${t} is not epoch ${j}'s`); break; }
    }
  }
  if (e > 0) {
    if (r.roots.k !== e || r.roots.table !== e * 16) problems.push(`epoch ${e}: roots ${JSON.stringify(r.roots)}`);
    if (r.meta.epoch !== e || r.meta.tag !== `e${e}`) problems.push(`epoch ${e}: meta ${JSON.stringify(r.meta)}`);
    if (r.types.length !== 1 || r.types[0].dataWords !== e % 5) problems.push(`epoch ${e}: types ${JSON.stringify(r.types)}`);
  }
  return { epoch: e, problems };
}

interface ChildRun { lines: string[]; stderr: string; code: number | null; signal: NodeJS.Signals | null }

function runAndKill(script: string, image: string, delayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, image], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      if (!timer && out.includes('ready')) timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
    });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ lines: out.split('\n').filter((l) => l.length > 0), stderr, code, signal });
    });
  });
}

describe('persistent image under SIGKILL', () => {
  let script = '';
  beforeAll(() => {
    if (!fs.existsSync(DIST_MODULE)) {
      const tsc = spawnSync('npx', ['tsc', '-p', ROOT], { cwd: ROOT, stdio: 'inherit' });
      if (tsc.status !== 0) throw new Error('could not build dist for the crash test');
    }
    script = join(work, 'committer.mjs');
    fs.writeFileSync(script, CHILD(pathToFileURL(DIST_MODULE).href));
  });

  it(`survives ${KILLS} kills at random instants with 0 corrupt recoveries`, async () => {
    const image = join(work, 'crash.hlp');
    PersistentImage.create(image, { regionBytes: REGION_WORDS * 4, regionCount: REGION_COUNT }).close();
    let seed = 0x5eed;
    const random = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff; return seed / 0x80000000; };
    let survived = 0;
    let midCommit = 0;
    let compactions = 0;
    let lastDurable = 0;
    const corrupt: string[] = [];
    for (let kill = 0; kill < KILLS; kill++) {
      const run = await runAndKill(script, image, 1 + Math.floor(random() * 40));
      expect(run.signal, `child ${kill} was not killed but ended (${run.code}): ${run.stderr}`).toBe('SIGKILL');
      expect(run.lines[0], run.stderr).toMatch(/^ready \d+$/);
      for (const line of run.lines) {
        const m = /^durable (\d+)( compacted)?$/.exec(line);
        if (m) { lastDurable = Number(m[1]); if (m[2]) compactions++; }
      }
      const last = run.lines[run.lines.length - 1];
      const begun = /^begin (\d+)$/.exec(last);
      if (begun) midCommit++;
      const before = sha(image);
      let result: { epoch: number; problems: string[] };
      try {
        result = check(image);
      } catch (e) {
        corrupt.push(`kill ${kill}: ${(e as Error).message}`);
        break;
      }
      if (sha(image) !== before) result.problems.push('recovery modified the image');
      if (result.epoch < lastDurable) result.problems.push(`recovered epoch ${result.epoch} < last durable ${lastDurable}`);
      if (begun && result.epoch > Number(begun[1])) result.problems.push(`recovered epoch ${result.epoch} was never begun`);
      if (result.problems.length > 0) corrupt.push(`kill ${kill}: ${result.problems.join('; ')}`);
      else survived++;
      lastDurable = Math.max(lastDurable, result.epoch);
    }
    console.log(`persist crash test: ${survived} survived, ${corrupt.length} corrupt; ${midCommit} kills mid-commit, ${compactions} compactions, final epoch ${lastDurable}`);
    expect(corrupt).toEqual([]);
    expect(survived).toBe(KILLS);
    expect(midCommit).toBeGreaterThan(KILLS / 3);
    expect(lastDurable).toBeGreaterThan(KILLS / 2);
  });
});
