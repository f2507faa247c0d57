/**
 * The collector registry: built-in collectors by name, and user collectors
 * loaded from a module path (`--collector ./my-gc.js`), whose default export
 * (or export named `collector`) is a CollectorPlugin.
 */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { CollectorPlugin } from '../vm-core/collector.js';
import { UsageError } from '../vm-core/errors.js';
import { epsilon } from './epsilon/epsilon.js';
import { gcpersist } from './gcpersist/gcpersist-collector.js';
import { EXPERIMENTAL_COLLECTORS, REGION_FAMILY } from './region/presets.js';

const BUILT_IN: CollectorPlugin[] = [epsilon, ...REGION_FAMILY, gcpersist];

export function listCollectors(): CollectorPlugin[] {
  return [...BUILT_IN];
}

/** A registered collector, or an experimental one (runnable by name, not in listCollectors()). */
export function findCollector(name: string): CollectorPlugin | undefined {
  return BUILT_IN.find((c) => c.name === name) ?? EXPERIMENTAL_COLLECTORS.find((c) => c.name === name);
}

function looksLikePath(name: string): boolean {
  return name.startsWith('.') || name.startsWith('/') || /\.(m?js|ts)$/.test(name);
}

export function checkPlugin(p: unknown, where: string): CollectorPlugin {
  const c = p as Partial<CollectorPlugin> | undefined;
  if (!c || typeof c.name !== 'string' || typeof c.create !== 'function' || !c.constraints || !c.options) {
    throw new UsageError(`${where} does not export a collector plug-in (name, constraints, options, create)`);
  }
  return c as CollectorPlugin;
}

/** A built-in name, or a path to a module exporting a CollectorPlugin. */
export async function loadCollector(nameOrPath: string): Promise<CollectorPlugin> {
  const builtIn = findCollector(nameOrPath);
  if (builtIn) return builtIn;
  if (!looksLikePath(nameOrPath)) {
    throw new UsageError(`unknown collector '${nameOrPath}' (known: ${BUILT_IN.map((c) => c.name).join(', ')}; or a module path)`);
  }
  const file = resolve(nameOrPath);
  if (!existsSync(file)) throw new UsageError(`collector module ${nameOrPath} does not exist`);
  let mod: Record<string, unknown>;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (e) {
    throw new UsageError(`collector module ${nameOrPath} failed to load: ${(e as Error).message.split('\n')[0]}`);
  }
  return checkPlugin(mod.default ?? mod.collector, nameOrPath);
}
