import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each test makes LOGS streams of its own on one shared nats-server, which reserves a stream's
    // max_bytes: the default 10 GiB each soon exhausts its store ("insufficient storage resources").
    env: { NATS_LOGS_MAX_BYTES: String(64 * 1024 * 1024) },
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // One platform and one browser at a time: these machines have two cores.
    fileParallelism: false,
    // documents.test.ts checks the web app's documents with the API's query limits: their libraries
    // must load the same graphql module as the test (ESM), not Node's CommonJS copy.
    server: { deps: { inline: ['graphql-query-complexity', /@escape\.tech\/graphql-armor/] } },
  },
});
