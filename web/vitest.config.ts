import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // One platform and one browser at a time: these machines have two cores.
    fileParallelism: false,
  },
});
