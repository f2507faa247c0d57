/**
 * vitest configuration: every test under test/ (unit tests and the property
 * tests that run every registered collector), each file in its own forked
 * process. Property and workload tests take seconds, hence the long timeout.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/deep/**', 'node_modules/**'],
    pool: 'forks',
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
