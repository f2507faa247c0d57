/**
 * vitest configuration of `npm run test:deep` (HEAPLAB_DEEP=1: 100x more
 * programs): the property tests, the concurrent marker's stress test, and the
 * experimental concurrent collectors (test/deep/), which `npm test` leaves out.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/properties/**/*.test.ts', 'test/concurrent-marker.test.ts', 'test/deep/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 3_600_000,
    hookTimeout: 60_000,
  },
});
