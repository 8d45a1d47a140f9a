// Fair-share dispatch benchmark: the cost of one dispatch round's query (dispatcher.ts `nextRuns`)
// on a queue of 10,000 waiting runs of one user, 10 of another, with runs in flight, against the
// FIFO query it replaced (oldest first, no fair share) on the same data.
import { nextRuns } from '../src/jobs/dispatcher.js';
import { createJob } from '../src/jobs/launch.js';
import { createTestDatabase } from '../test/support/database.js';
import { seedTasks } from './seed.js';
import { measure } from './stats.js';

const TASKS = 100;
const RUNS_PER_TASK = 100;
const ROUNDS = 30;

export async function benchDispatch(): Promise<void> {
  const database = await createTestDatabase();
  const { db } = database;
  try {
    const taskIds = await seedTasks(db, TASKS);
    // Both with a spend cap not reached yet, so the round also sums their spend this month.
    const [a, b] = await Promise.all(
      ['bench-a', 'bench-b'].map((name) => db.user.create({ data: { name, role: 'MEMBER', monthlySpendCapUsd: 1_000_000 }, select: { id: true } })),
    );
    const big = await createJob({ db, secretsKey: null }, { taskIds, agent: 'oracle', runsPerTask: RUNS_PER_TASK, createdById: a!.id });
    await createJob({ db, secretsKey: null }, { taskIds: taskIds.slice(0, 10), agent: 'oracle', runsPerTask: 1, createdById: b!.id });
    // 2,000 of the big job's runs finished this month with a cost; 100 are on runners: they count
    // against the capacity and A's share.
    await db.$executeRaw`UPDATE "Run" SET status = 'PASSED', "dispatchedAt" = now(), "finishedAt" = now(), "costUsd" = 0.01
                          WHERE id IN (SELECT id FROM "Run" WHERE "jobId" = ${big.id}::uuid LIMIT 2000)`;
    await db.$executeRaw`UPDATE "Run" SET status = 'RUNNING', "dispatchedAt" = now()
                          WHERE id IN (SELECT id FROM "Run" WHERE "jobId" = ${big.id}::uuid AND status = 'QUEUED' LIMIT 100)`;
    await db.$executeRaw`ANALYZE`;

    // Each in a transaction, as the dispatcher's; nothing is written, so every round sees the same queue.
    const fair = await measure(ROUNDS, () => db.$transaction((tx) => nextRuns(tx, 'docker', 4)));
    const fifo = await measure(ROUNDS, () =>
      db.$transaction((tx) => tx.$queryRaw`SELECT r.id FROM "Run" r JOIN "Job" j ON j.id = r."jobId"
                    WHERE r.status = 'QUEUED' AND r."dispatchedAt" IS NULL AND j."cancelRequestedAt" IS NULL AND j."stopReason" IS NULL
                    ORDER BY r."createdAt", r.id LIMIT 500 FOR UPDATE OF r SKIP LOCKED`),
    );
    const picked = await db.$transaction((tx) => nextRuns(tx, 'docker', 4));
    console.log(
      `fair-share dispatch (user A: ${TASKS * RUNS_PER_TASK} runs, 2,000 finished, 100 in flight, 7,900 waiting; user B: 10 waiting; both capped; 104 slots, so 4 free)`,
    );
    console.log(`  picked ${picked.length} runs: ${picked.filter((r) => r.jobId !== big.id).length} of user B`);
    console.log(`  fair-share round query   p50 ${fair.p50.toFixed(1)} ms   p99 ${fair.p99.toFixed(1)} ms`);
    console.log(`  FIFO query it replaced   p50 ${fifo.p50.toFixed(1)} ms   p99 ${fifo.p99.toFixed(1)} ms`);
  } finally {
    await database.drop();
  }
}
