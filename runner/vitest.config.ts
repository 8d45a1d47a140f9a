import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test makes LOGS streams of its own on one shared nats-server, which reserves a stream's
    // max_bytes: the default 10 GiB each soon exhausts its store ("insufficient storage resources").
    env: { NATS_LOGS_MAX_BYTES: String(64 * 1024 * 1024) },
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database- and NATS-backed suites are isolated per file, so files may run side by side.
    fileParallelism: true,
    // Two files at a time (vitest's default on two cores is one): most wait on the simulator's phases.
    maxWorkers: 2,
  },
});
