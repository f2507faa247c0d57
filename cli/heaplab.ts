#!/usr/bin/env node
/**
 * The `heaplab` command: run, compare, report, import, list, demo, persist. Errors users can fix are one line on
 * stderr, `heaplab: <message>`, never a stack trace:
 *   exit 2   bad input (UsageError, or commander's own parse errors)
 *   exit 3   out of memory (OutOfMemoryError)
 * Anything else is a bug and keeps its stack trace.
 */
import { Command, CommanderError } from 'commander';
import { heaplabVersion } from '../reports/environment.js';
import { OutOfMemoryError, UsageError } from '../vm-core/errors.js';
import { registerCompareCommand } from './compare-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerImportCommand } from './import-command.js';
import { registerListCommand } from './list-command.js';
import { registerPersistCommand } from './persist-command.js';
import { registerReportCommand } from './report-command.js';
import { registerRunCommand } from './run-command.js';

const USAGE_EXIT = 2;

function oneLine(text: string): string {
  return text.replace(/^error:\s*/i, '').replace(/\s*\n\s*/g, ' ').trim();
}

function buildProgram(): Command {
  const program = new Command('heaplab')
    .description('a garbage-collector research suite: real collectors on a region heap, measured honestly')
    .version(heaplabVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`heaplab: ${oneLine(text)}\n`) })
    .showSuggestionAfterError(true);
  registerRunCommand(program);
  registerCompareCommand(program);
  registerReportCommand(program);
  registerImportCommand(program);
  registerListCommand(program);
  registerDemoCommand(program);
  registerPersistCommand(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander has printed its message (or the help) already
      process.exitCode = e.exitCode === 0 ? 0 : USAGE_EXIT;
    } else if (e instanceof UsageError || e instanceof OutOfMemoryError) {
      process.stderr.write(`heaplab: ${oneLine(e.message)}\n`);
      process.exitCode = e.exitCode;
    } else {
      throw e;
    }
  }
}

await main(process.argv);
