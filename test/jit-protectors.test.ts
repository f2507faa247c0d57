/**
 * V8 protector cells stay valid through parallel and concurrent collections.
 *
 * V8 compiles typed-array accesses without a detach check as long as no
 * ArrayBuffer in the isolate has ever been detached (the ArrayBufferDetaching
 * protector). The first detach, e.g. transferring a buffer in postMessage,
 * invalidates the protector: every optimized function that indexes a typed
 * array is thrown away and recompiled with a check on every access. The
 * evacuation worker once transferred its per-pause results, and the first
 * pauses of every run then ran in unoptimized code (lru-cache 512m: 60-107 ms
 * against 39-58). This runs the CLI with --trace-protector-invalidation over
 * collectors with an evacuation worker and a marker worker, and fails on any
 * protector the run invalidates, in any of its isolates.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli/heaplab.js', import.meta.url));

function traceRun(collector: string): string {
  const r = spawnSync(
    process.execPath,
    ['--trace-protector-invalidation', CLI, 'run', '-c', collector, '-w', 'lru-cache', '--heap', '64m', '-p', 'ops=300000', '--log-level', 'debug'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.status, r.stderr).toBe(0);
  return r.stdout + r.stderr;
}

describe('V8 protectors', () => {
  for (const collector of ['gen', 'g1']) {
    it(`${collector}: parallel pauses run and no protector is invalidated`, () => {
      const out = traceRun(collector);
      expect(out).toMatch(/RESULT workload=lru-cache/);
      const byWorker = [...out.matchAll(/objectsCopiedByWorker=(\d+)/g)].map((m) => Number(m[1]));
      expect(byWorker.some((n) => n > 0), 'no pause copied on the evacuation worker').toBe(true);
      const invalidated = out.split('\n').filter((l) => l.includes('Invalidating protector'));
      expect(invalidated).toEqual([]);
    });
  }
});
