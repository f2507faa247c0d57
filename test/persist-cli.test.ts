/**
 * GCPersist as a user meets it: the built CLI (dist/cli/heaplab.js) spawned
 * as a child process.
 *
 *   - run --image, then run --recover: every partition recovered, the same
 *     checksum, the heap sized from the image
 *   - a flipped byte in a region block, a flipped superblock byte in both
 *     slots, a truncated file: refused with one line, exit 2, no stack trace,
 *     and the file byte-for-byte unchanged (run --recover and persist check)
 *   - bad input: an unknown mode, a missing image, --image on gen, an image
 *     that already exists
 *   - persist crash-test with 8 kills (survived 8/8, corrupt 0)
 *   - persist study --repeat 1 on a tiny workload: the table's shape
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BLOCK_HEADER_BYTES } from '../collectors/gcpersist/image-format.js';
import { readHead } from '../collectors/gcpersist/recovery.js';

const CLI = fileURLToPath(new URL('../dist/cli/heaplab.js', import.meta.url));
const work = fs.mkdtempSync(join(tmpdir(), 'heaplab-persist-cli-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface CliResult { status: number | null; stdout: string; stderr: string }

function heaplab(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectOneLineError(r: CliResult, pattern: RegExp): void {
  expect(r.status, r.stderr).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^heaplab: \S/);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

const sha = (path: string): string => createHash('sha256').update(fs.readFileSync(path)).digest('hex');
const SMALL = ['-w', 'resilient-cache', '-p', 'partitions=8', '-p', 'size=512', '-p', 'work=4'];
const checksumOf = (out: string): string => /checksum=(\d+)/.exec(out)?.[1] ?? 'none';

describe('heaplab run --image / --recover', () => {
  const image = join(work, 'cache.hlp');
  let first: CliResult;

  it('persists a run, and a restart recovers every partition with the same checksum', () => {
    first = heaplab('run', '-c', 'gcpersist', ...SMALL, '--heap', '4m', '--region-size', '32k', '--image', image);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/persist +lazy: \d+ commits/);
    expect(first.stdout.trim().split('\n').pop()).toMatch(/^RESULT workload=resilient-cache .*recovered=0 computed=8 /);
    const again = heaplab('run', '-c', 'gcpersist', ...SMALL, '--recover', image);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/heap +4 MiB in 128 regions of 32 KiB/);
    expect(again.stdout).toMatch(/recovery +epoch \d+ of /);
    expect(again.stdout).toMatch(/recovered=8 computed=0 /);
    expect(checksumOf(again.stdout)).toBe(checksumOf(first.stdout));
    const check = heaplab('persist', 'check', image);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/epoch \d+, \d+ regions .* ok$/m);
  });

  it('refuses a flipped byte in a region block: one line, exit 2, the file unchanged', () => {
    const bad = join(work, 'flipped.hlp');
    fs.copyFileSync(image, bad);
    const fd = fs.openSync(bad, 'r+');
    const { manifest } = readHead(fd, bad);
    const entry = manifest.entries[manifest.entries.length - 1];
    const at = entry.offset + BLOCK_HEADER_BYTES + 17;
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] ^= 0x20;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
    const before = sha(bad);
    expectOneLineError(heaplab('run', '-c', 'gcpersist', ...SMALL, '--recover', bad), new RegExp(`region ${entry.index} of epoch \\d+.* fails its checksum`));
    expect(sha(bad)).toBe(before);
    expectOneLineError(heaplab('persist', 'check', bad), /fails its checksum/);
    expect(sha(bad)).toBe(before);
  });

  it('refuses an image whose superblocks are both damaged, and a truncated one', () => {
    const bad = join(work, 'superblocks.hlp');
    fs.copyFileSync(image, bad);
    const bytes = fs.readFileSync(bad);
    bytes[20] ^= 1;
    bytes[4096 + 20] ^= 1;
    fs.writeFileSync(bad, bytes);
    const before = sha(bad);
    expectOneLineError(heaplab('run', '-c', 'gcpersist', ...SMALL, '--recover', bad), /no valid superblock/);
    expect(sha(bad)).toBe(before);
    const cut = join(work, 'truncated.hlp');
    fs.writeFileSync(cut, fs.readFileSync(image).subarray(0, fs.statSync(image).size - 100));
    const cutBefore = sha(cut);
    expectOneLineError(heaplab('run', '-c', 'gcpersist', ...SMALL, '--recover', cut), /truncated/);
    expect(sha(cut)).toBe(cutBefore);
  });

  it('refuses bad input with one line', () => {
    expectOneLineError(heaplab('run', '-c', 'gcpersist', ...SMALL, '--heap', '4m', '--persist-mode', 'sometimes'), /persistMode 'sometimes'/);
    expectOneLineError(heaplab('run', '-c', 'gcpersist', ...SMALL, '--recover', join(work, 'nope.hlp')), /no such file/);
    expectOneLineError(heaplab('run', '-c', 'gen', ...SMALL, '--heap', '4m', '--image', join(work, 'gen.hlp')), /collector gen does not persist/);
    expectOneLineError(heaplab('run', '-c', 'gcpersist', ...SMALL, '--heap', '4m', '--image', image), /already exists/);
    expectOneLineError(heaplab('persist', 'crash-test', '--kills', '0'), /--kills/);
  });
});

describe('heaplab persist crash-test', () => {
  it('survives 8 SIGKILLs (some during commits) with 0 corrupt recoveries and the uninterrupted checksum', () => {
    const r = heaplab('persist', 'crash-test', '--kills', '8', '--seed', '5', '--heap', '4m', '--region-size', '32k', '-p', 'partitions=16', '-p', 'size=1024', '-p', 'work=24');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^survived 8\/8, corrupt 0$/m);
    const m = /final run: checksum (\d+) \(uninterrupted: (\d+)\)/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(m![1]).toBe(m![2]);
  });
});

describe('heaplab persist study', () => {
  it('prints the overhead and restart tables', () => {
    const out = join(work, 'study.json');
    const r = heaplab('persist', 'study', '--repeat', '1', '--heap', '4m', '-q', '-p', 'partitions=8', '-p', 'size=512', '-p', 'work=8', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    for (const row of ['gen (no persistence)', 'gcpersist off', 'gcpersist lazy', 'gcpersist lazy-old', 'gcpersist eager (batch 64)', 'recompute from scratch', 'recover the complete image']) {
      expect(r.stdout).toContain(`| ${row}`);
    }
    expect(r.stdout).not.toMatch(/THEY DIFFER/);
    const json = JSON.parse(fs.readFileSync(out, 'utf8')) as { rows: { name: string; eagerStores: number }[] };
    expect(json.rows.find((x) => x.name === 'eager')!.eagerStores).toBeGreaterThan(8 * 512);
  });
});
