#!/usr/bin/env node
/**
 * The test runner behind `npm test`: runs vitest once (extra arguments are
 * passed through, e.g. `npm test -- test/unit -t verifier`) with the default
 * reporter on the terminal and the JSON reporter writing .vitest-results.json,
 * then prints exactly one final line, `N passed, N failed`, and exits with
 * vitest's exit code. When vitest dies without writing its JSON the line is
 * `0 passed, 1 failed`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsFile = join(root, '.vitest-results.json');
const vitest = join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'vitest.cmd' : 'vitest');

rmSync(resultsFile, { force: true });
const run = spawnSync(
  vitest,
  ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${resultsFile}`, ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit' },
);
const exitCode = run.status ?? 1;
if (run.error) console.error(`run-tests: could not start vitest: ${run.error.message}`);
else if (run.signal) console.error(`run-tests: vitest was killed by ${run.signal}`);

let passed = 0;
let failed = 1;
if (existsSync(resultsFile)) {
  try {
    const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
    passed = results.numPassedTests ?? 0;
    failed = results.numFailedTests ?? 0;
    // a file that fails to load, or an error outside any test, fails the run without failing a test
    if (exitCode !== 0 && failed === 0) failed = Math.max(1, results.numFailedTestSuites ?? 0);
  } catch (e) {
    console.error(`run-tests: unreadable ${resultsFile}: ${e.message}`);
    passed = 0;
    failed = 1;
  }
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(exitCode !== 0 ? exitCode : failed > 0 ? 1 : 0);
