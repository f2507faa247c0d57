/**
 * `heaplab list`: the built-in collectors (description, barriers, options with
 * defaults) and workloads (description, parameters with defaults).
 */
import type { Command } from 'commander';
import { describeBarriers } from '../barriers/select.js';
import { listCollectors } from '../collectors/registry.js';
import { EXPERIMENTAL_COLLECTORS } from '../collectors/region/presets.js';
import type { CollectorPlugin } from '../vm-core/collector.js';
import { listWorkloads } from '../workloads/registry.js';
import type { Workload } from '../workloads/workload.js';

function settingsLines(settings: Record<string, { default: unknown; description: string }>, indent: string): string[] {
  const entries = Object.entries(settings).map(([name, spec]) => [`${name}=${String(spec.default)}`, spec.description]);
  const width = Math.max(0, ...entries.map(([left]) => left.length));
  return entries.map(([left, description]) => `${indent}${left.padEnd(width)}  ${description}`);
}

function collectorLines(c: CollectorPlugin): string[] {
  const k = c.constraints;
  const traits = [k.moves ? 'moving' : 'non-moving', k.collects ? 'collecting' : 'never collects'];
  if (k.generational) traits.push('generational');
  if (k.concurrent) traits.push('concurrent');
  if (k.needsRemsets) traits.push('remembered sets');
  const lines = [`  ${c.name}`, `      ${c.description}`, `      ${traits.join(', ')}; barriers: ${describeBarriers(k.barriers)}`];
  const options = settingsLines(c.options, '        ');
  lines.push(options.length ? '      options (--gc-opt k=v):' : '      no options');
  return [...lines, ...options];
}

function workloadLines(w: Workload): string[] {
  const params = settingsLines(w.params, '        ');
  return [`  ${w.name}`, `      ${w.description}`, params.length ? '      parameters (--param k=v):' : '      no parameters', ...params];
}

export function listText(): string {
  const lines = ['Collectors (--collector <name>, or a module path):'];
  for (const c of listCollectors()) lines.push(...collectorLines(c));
  if (EXPERIMENTAL_COLLECTORS.length > 0) {
    lines.push('', 'Experimental (runnable by name; not yet in the tested registry, see npm run test:deep):');
    for (const c of EXPERIMENTAL_COLLECTORS) lines.push(...collectorLines(c));
  }
  lines.push('', 'Workloads (--workload <name>, or a module path):');
  for (const w of listWorkloads()) lines.push(...workloadLines(w));
  return lines.join('\n');
}

export function registerListCommand(program: Command): void {
  program
    .command('list')
    .description('list the built-in collectors and workloads with their options')
    .action(() => {
      process.stdout.write(`${listText()}\n`);
    });
}
