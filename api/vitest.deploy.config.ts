// `npm run test:deploy`: the deployment built and run in containers (images, compose, kube play).
// One file at a time: each brings up a whole stack on this machine.
import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['test/deploy/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 300_000,
    hookTimeout: 420_000,
  },
});
