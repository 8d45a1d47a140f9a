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
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database- and NATS-backed suites are isolated per file, so files may run side by side.
    fileParallelism: true,
  },
});
