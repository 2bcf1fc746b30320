import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The CPU is single-threaded Wasm; two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
