import { it } from 'vitest';
import { listCollectors } from '../../collectors/registry.js';
import { checkCollector, standardConfigurations } from '../kit/index.js';

for (const plugin of listCollectors()) {
  for (const c of standardConfigurations(plugin)) {
    it(`${plugin.name} ${c.name}`, () => {
      const t0 = performance.now();
      const s = checkCollector(plugin, { ...c.options, runs: Number(process.env.RUNS ?? 200), seed: Number(process.env.SEED ?? 42) });
      console.log(plugin.name, c.name, (performance.now() - t0).toFixed(0), 'ms', JSON.stringify(s));
    });
  }
}
