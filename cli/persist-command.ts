/**
 * `heaplab persist`: GCPersist's tools (collectors/gcpersist).
 *
 *   persist crash-test   SIGKILL a gcpersist run at random instants, recover after each kill,
 *                        check the image invariants and the final checksum (crash-test.ts)
 *   persist study        normal-run overhead of lazy, lazy-old and eager against gen, and
 *                        recovery against recomputation, as a Markdown table (study.ts)
 *   persist check        recover an image read-only and check it: every checksum, a fresh
 *                        heap loaded from it, the heap verifier, the image's graph
 *
 * Bad input and corrupt images: one line on stderr, exit 2, the image unchanged.
 * crash-test exits 1 when any crash was not survived.
 */
import type { Command } from 'commander';
import { crashTest, crashTestSummary } from '../collectors/gcpersist/crash-test.js';
import { gcpersist } from '../collectors/gcpersist/gcpersist-collector.js';
import { checkPlacement, compareImage } from '../collectors/gcpersist/image-check.js';
import { imageInfo } from '../collectors/gcpersist/image-info.js';
import { RUN_PERSIST_MODES, type RunPersistMode } from '../collectors/gcpersist/persistence.js';
import { recoverImage } from '../collectors/gcpersist/recovery.js';
import { study, studyMarkdown } from '../collectors/gcpersist/study.js';
import { UsageError } from '../vm-core/errors.js';
import { formatBytes, parseSize } from '../vm-core/sizes.js';
import { Vm } from '../vm-core/vm.js';
import { parseInteger, parsePairs, writeFileAtomic } from './run-command.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface CrashFlags { workload: string; kills: string; seed: string; heap: string; regionSize: string; mode: string; param: string[]; dir?: string; keep: boolean; verbose: boolean }
interface StudyFlags { workload: string; heap: string; regionSize?: string; repeat: string; eagerBatch: string; param: string[]; out?: string; quiet: boolean }

function parseMode(text: string): RunPersistMode {
  if (!(RUN_PERSIST_MODES as string[]).includes(text) || text === 'off') throw new UsageError(`--mode: '${text}' is not one of lazy, lazy-old, eager`);
  return text as RunPersistMode;
}

export function registerPersistCommand(program: Command): void {
  const persist = program.command('persist').description('GCPersist: crash tests, the persistence study, image checks');

  persist
    .command('crash-test')
    .description('kill gcpersist runs with SIGKILL at random instants (some during commits), recover after each, check invariants and the final checksum')
    .option('-w, --workload <name>', 'workload', 'resilient-cache')
    .option('--kills <n>', 'SIGKILLs to survive', '100')
    .option('--seed <n>', 'seed of the kill schedule', '1')
    .option('--heap <size>', 'heap size of the children', '16m')
    .option('--region-size <size>', 'region size of the children', '64k')
    .option('--mode <mode>', 'persistence mode: lazy, lazy-old, eager', 'lazy')
    .option('-p, --param <k=v>', 'workload parameter (repeatable)', collect, [])
    .option('--dir <dir>', 'keep the image and logs in this directory (default: a temp dir, removed)')
    .option('--keep', 'keep the temp dir', false)
    .option('--verbose', 'one line per kill', false)
    .action(async (flags: CrashFlags) => {
      const o = {
        workload: flags.workload,
        kills: parseInteger(flags.kills, '--kills', 1),
        seed: parseInteger(flags.seed, '--seed', 0),
        heapBytes: parseSize(flags.heap, '--heap'),
        regionBytes: parseSize(flags.regionSize, '--region-size'),
        mode: parseMode(flags.mode),
        params: parsePairs(flags.param, '--param'),
        ...(flags.dir !== undefined ? { dir: flags.dir } : {}),
        keep: flags.keep,
        progress: flags.verbose ? (line: string) => process.stderr.write(`${line}\n`) : undefined,
      };
      const result = await crashTest(o);
      process.stdout.write(`${crashTestSummary(o, result)}\n`);
      if (result.failures.length > 0 || result.survived !== o.kills) process.exitCode = 1;
    });

  persist
    .command('study')
    .description('overhead of lazy, lazy-old and eager persistence against gen, and recovery against recomputation (fresh process per run)')
    .option('-w, --workload <name>', 'workload', 'resilient-cache')
    .option('--heap <size>', 'heap size', '64m')
    .option('--region-size <size>', 'region size (default: heap/2048 in [64k, 32m])')
    .option('--repeat <n>', 'runs per configuration (medians are reported)', '5')
    .option('--eager-batch <n>', 'eager mode: stores per fdatasync at most', '64')
    .option('-p, --param <k=v>', 'workload parameter (repeatable)', collect, [])
    .option('-o, --out <file>', 'also write every run and the medians as JSON')
    .option('-q, --quiet', 'no progress on stderr', false)
    .action(async (flags: StudyFlags) => {
      const result = await study({
        workload: flags.workload,
        heapBytes: parseSize(flags.heap, '--heap'),
        ...(flags.regionSize !== undefined ? { regionBytes: parseSize(flags.regionSize, '--region-size') } : {}),
        repeat: parseInteger(flags.repeat, '--repeat', 1),
        eagerBatch: parseInteger(flags.eagerBatch, '--eager-batch', 1),
        params: parsePairs(flags.param, '--param'),
        ...(flags.quiet ? {} : { progress: (line: string) => process.stderr.write(`${line}\n`) }),
      });
      if (flags.out !== undefined) writeFileAtomic(flags.out, `${JSON.stringify(result, null, 2)}\n`);
      process.stdout.write(`${studyMarkdown(result)}\n`);
    });

  persist
    .command('check <image>')
    .description('recover an image read-only and check it (checksums, a fresh heap from it, heap verifier, image graph); the file is never written')
    .action((path: string) => {
      const info = imageInfo(path);
      const image = recoverImage(path);
      const vm = new Vm({ heapBytes: info.heapBytes, regionBytes: info.regionBytes, collector: gcpersist, collectorOptions: { recover: path, persistMode: 'off' } });
      vm.newMutator();
      vm.verifyNow('after recovery', 'debug');
      const problems: string[] = [];
      checkPlacement(vm.heap, vm.persistentRoots, problems);
      const report = (vm.collector as unknown as { persistenceReport(): { recovery: { log: { stores: number; objects: number; status: string }; reachableObjects: number } } }).persistenceReport().recovery!;
      if (report.log.stores + report.log.objects === 0) compareImage(vm.heap, vm.persistentRoots, image, problems);
      if (problems.length > 0) throw new UsageError(`${path}: ${problems[0]}`);
      const bytes = [...image.regions.values()].reduce((s, w) => s + w.byteLength, 0);
      process.stdout.write(`${path}: epoch ${image.epoch}, ${image.regions.size} regions (${formatBytes(bytes)}), roots ${Object.keys(image.roots).join(', ') || 'none'}, `
        + `${report.reachableObjects} reachable objects; eager log: ${report.log.status}${report.log.stores + report.log.objects > 0 ? ` (${report.log.stores} stores, ${report.log.objects} objects replayed)` : ''}; ok\n`);
    });
}
