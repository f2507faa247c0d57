/**
 * The collectors' JIT warm-up (cli/collector-warmup.ts): every collector that
 * collects runs its program to the promised number of pauses, and a collector
 * that persists, or a small heap, gets none. The warm-up's own heap is
 * checked at the end of its program (a collector that lost an object fails
 * here too).
 */
import { describe, expect, it } from 'vitest';
import { warmsUp, warmUpCollector } from '../../cli/collector-warmup.js';
import { listCollectors } from '../../collectors/registry.js';

const MIB = 1 << 20;

describe('collector JIT warm-up', () => {
  for (const plugin of listCollectors().filter((p) => warmsUp(p, 512 * MIB))) {
    it(`${plugin.name}: runs at least 12 pauses on its own heap`, () => {
      const result = warmUpCollector(plugin, {});
      expect(result.pauses).toBeGreaterThanOrEqual(12);
    });
  }

  it('skips collectors that never collect or that persist, and heaps under 64 MiB', () => {
    const names = (heap: number) => listCollectors().filter((p) => warmsUp(p, heap)).map((p) => p.name);
    expect(names(512 * MIB)).not.toContain('epsilon');
    expect(names(512 * MIB)).not.toContain('gcpersist');
    expect(names(512 * MIB)).toContain('gen');
    expect(names(32 * MIB)).toEqual([]);
  });
});
