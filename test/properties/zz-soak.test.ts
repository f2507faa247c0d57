import { it } from 'vitest';
import { evac } from '../../collectors/region/region-collector.js';
import { checkCollector, standardConfigurations } from '../kit/index.js';
for (const c of standardConfigurations(evac)) {
  it(`soak ${c.name}`, { timeout: 3_600_000 }, () => {
    const runs = c.name === 'stress' ? 5000 : 30000;
    const s = checkCollector(evac, { ...c.options, runs, seed: 99 });
    console.log(c.name, s.runs, 'pauses', s.pauses, 'oom', s.outOfMemory, 'flagged', s.regionsFlaggedEvacFailed, 'released', s.regionsReleased, 'humongousReleased', s.humongousReleased, 'skipped', s.skippedAllocations);
  });
}
