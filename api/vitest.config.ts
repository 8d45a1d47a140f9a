import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql 16 ships CJS ("main") and ESM ("module") builds. Node loads the CJS one for yoga and
    // Pothos; Vite would pick the ESM one for our sources, and two graphql instances break
    // `instanceof GraphQLError`. Point both at the build Node uses.
    alias: { graphql: require.resolve('graphql') },
    // Workspace packages export their TypeScript sources under the "source" condition.
    conditions: ['source'],
  },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    // Each test makes LOGS streams of its own on one shared nats-server, which reserves a stream's
    // max_bytes: the default 10 GiB each soon exhausts its store ("insufficient storage resources").
    env: { NATS_LOGS_MAX_BYTES: String(64 * 1024 * 1024) },
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // The containerised deployment test has its own command (npm run test:deploy, vitest.deploy.config.ts).
    exclude: ['test/deploy/**', '**/node_modules/**'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database- and NATS-backed suites are isolated per file, so files may run side by side.
    fileParallelism: true,
    // Two files at a time: vitest's default on two cores is one (cores − 1), and these files mostly wait
    // on processes (runners, the simulator's phases, nats-server, PostgreSQL), not on the CPU.
    maxWorkers: 2,
  },
});
