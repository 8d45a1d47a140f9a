// Launch benchmark: createJob with 100 tasks × 100 runs (time to commit), then the dispatcher until
// all 10,000 orders are in JetStream. Baselines in the same run: a bare INSERT … SELECT of 10,000
// rows into an unindexed table, and 10,000 bare JetStream publishes with message ids.
import { randomUUID } from 'node:crypto';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ensureStreams } from 'runner/protocol';
import { startDispatcher } from '../src/jobs/dispatcher.js';
import { createJob } from '../src/jobs/launch.js';
import { seedTasks } from './seed.js';
import { createTestDatabase } from '../test/support/database.js';
import { createTestNats } from '../test/support/nats.js';

const TASKS = 100;
const RUNS_PER_TASK = 100;
const TOTAL = TASKS * RUNS_PER_TASK;

const seconds = (since: number) => (performance.now() - since) / 1000;

export async function benchJobs(): Promise<void> {
  const [database, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  const { db } = database;
  try {
    const jsm = await jetstreamManager(nats.nc);
    await ensureStreams(jsm, nats.topology);
    const taskIds = await seedTasks(db, TASKS);

    // Baseline 1: the database's floor for writing 10,000 rows in one statement.
    await db.$executeRawUnsafe('CREATE TABLE bench_rows (id uuid, n int, created timestamptz DEFAULT now())');
    let started = performance.now();
    await db.$executeRawUnsafe(`INSERT INTO bench_rows (id, n) SELECT gen_random_uuid(), g FROM generate_series(1, ${TOTAL}) g`);
    const insertBaseline = seconds(started);

    started = performance.now();
    const job = await createJob({ db, secretsKey: null }, { taskIds, agent: 'oracle', runsPerTask: RUNS_PER_TASK });
    const commit = seconds(started);

    started = performance.now();
    const dispatcher = startDispatcher({ db, js: jetstream(nats.nc), topology: nats.topology, defaultSecrets: [] }, 50);
    for (;;) {
      const info = await jsm.streams.info(nats.topology.streams.runs.name);
      if (info.state.messages >= TOTAL) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const dispatch = seconds(started);
    await dispatcher.stop();
    const stamped = await db.run.count({ where: { jobId: job.id, dispatchedAt: { not: null } } });
    if (stamped !== TOTAL) throw new Error(`only ${stamped} of ${TOTAL} runs stamped dispatched`);

    // Baseline 2: bare publishes of the same count, 128 in flight, to a scratch subject of RUNS.
    await jsm.streams.purge(nats.topology.streams.runs.name);
    const js = jetstream(nats.nc);
    const payload = new TextEncoder().encode(JSON.stringify({ v: 1, pad: 'x'.repeat(400) }));
    started = performance.now();
    for (let i = 0; i < TOTAL; i += 128) {
      await Promise.all(
        Array.from({ length: Math.min(128, TOTAL - i) }, () => {
          const id = randomUUID();
          return js.publish(nats.topology.runOrder('bench', id), payload, { msgID: id });
        }),
      );
    }
    const publishBaseline = seconds(started);

    console.log(`launch benchmark (${TASKS} tasks × ${RUNS_PER_TASK} runs = ${TOTAL} runs)`);
    console.log(`  createJob commit            ${(commit * 1000).toFixed(0)} ms   baseline INSERT…SELECT ${(insertBaseline * 1000).toFixed(0)} ms   ratio ${(commit / insertBaseline).toFixed(1)}x`);
    console.log(`  all orders in JetStream     ${(dispatch * 1000).toFixed(0)} ms   baseline bare publish ${(publishBaseline * 1000).toFixed(0)} ms   ratio ${(dispatch / publishBaseline).toFixed(1)}x`);
  } finally {
    await nats.cleanup();
    await database.drop();
  }
}
