/**
 * The machine and software a run happened on, recorded in every report so
 * numbers from different machines are never compared by accident.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Environment {
  nodeVersion: string;
  v8Version: string;
  cpuModel: string;
  cores: number;
  totalMemoryBytes: number;
  platform: string;
  arch: string;
  heaplabVersion: string;
  /** When the run started, ISO 8601. */
  timestamp: string;
}

let cachedVersion: string | undefined;

/** heaplab's version from its package.json (found from this module, in the source tree or in dist/). */
export function heaplabVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  cachedVersion = 'unknown';
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'heaplab' && typeof pkg.version === 'string') {
        cachedVersion = pkg.version;
        break;
      }
    } catch {
      // not here; try the next place
    }
  }
  return cachedVersion;
}

export function captureEnvironment(at: Date = new Date()): Environment {
  const cpus = os.cpus();
  return {
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    totalMemoryBytes: os.totalmem(),
    platform: process.platform,
    arch: process.arch,
    heaplabVersion: heaplabVersion(),
    timestamp: at.toISOString(),
  };
}
