/**
 * vitest configuration of `npm run test:deep` (HEAPLAB_DEEP=1: the property
 * tests with 10x more programs, HEAPLAB_PROPERTY_FACTOR=100 for 100x), and the concurrent-marking stress tests at
 * deep scale: the marker's random programs (test/concurrent-marker.test.ts),
 * the worker hand-over hammer, the SATB stress programs on cre and g1 (also
 * interleaved), the planted SATB bug (test/unit/concurrent-*, satb-*), and
 * test/deep/ (kit programs with a cycle at almost every young pause, hiding
 * drivers), which `npm test` leaves out.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'test/unit/concurrent-*.test.ts', 'test/unit/satb-*.test.ts', 'test/concurrent-marker.test.ts', 'test/deep/**/*.test.ts',
      'test/properties/**/*.test.ts',
    ],
    pool: 'forks',
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
  },
});
