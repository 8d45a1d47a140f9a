// Statistics benchmark: a job of 100 tasks × 100 runs (10,000 latest attempts plus 500 superseded
// ones), seeded with one INSERT … SELECT, then the stats service and a whole GraphQL request through
// yoga (stats + taskStats with task names + errorBreakdown). Baseline in the same run: a bare
// `GROUP BY status` over the job's runs, the floor of reading those rows once.
import { randomBytes } from 'node:crypto';
import { createYoga } from 'graphql-yoga';
import type { Viewer } from '../src/auth/viewer.js';
import type { Context } from '../src/schema/context.js';
import { toSchema } from '../src/schema/index.js';
import { compareJobs } from '../src/stats/compare.js';
import { errorBreakdown, jobStats, overview } from '../src/stats/service.js';
import { createTestDatabase } from '../test/support/database.js';

/** The schema requires a signed-in caller; the benchmark reads as a VIEWER would. */
const BENCH_VIEWER: Viewer = { userId: '00000000-0000-0000-0000-000000000000', name: 'bench', role: 'VIEWER', via: 'token', credentialId: 'bench' };

const TASKS = 100;
const RUNS_PER_TASK = 100;
const ROUNDS = 200;
const WARMUP = 20;

export async function measure(rounds: number, work: () => Promise<unknown>, before?: () => Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < WARMUP; i++) {
    await before?.();
    await work();
  }
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    // Untimed: what has to happen before each round (a write the next read must see).
    await before?.();
    const started = performance.now();
    await work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.ceil(q * times.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99) };
}

export async function benchStats(): Promise<void> {
  const database = await createTestDatabase();
  const { db } = database;
  try {
    await db.task.createMany({
      data: Array.from({ length: TASKS }, (_, i) => ({
        contentHash: randomBytes(32).toString('hex'),
        name: `bench-${String(i).padStart(3, '0')}`,
        instruction: 'x',
        sizeBytes: 1n,
        fileCount: 1,
      })),
    });
    const job = await db.job.create({ data: { name: 'bench', agent: 'terminus-2', model: 'm', runsPerTask: RUNS_PER_TASK, status: 'COMPLETED' } });
    // Outcomes drawn per run: 55% pass, 25% fail, 8% agent error, 7% infrastructure error, 5%
    // cancelled; two reward keys, phase timings, tokens and cost as Harbor reports them.
    await db.$executeRaw`SELECT setseed(0.42)`;
    await db.$executeRaw`
      INSERT INTO "Run" (id, "jobId", "taskId", repeat, attempt, status, reward, rewards, "failureKind", "exceptionType",
                         "exceptionMessage", "inputTokens", "outputTokens", "cacheTokens", "costUsd",
                         "environmentSetupMs", "agentSetupMs", "agentExecutionMs", "verifierMs", "startedAt", "finishedAt")
      SELECT gen_random_uuid(), ${job.id}::uuid, t.id, g, 1, o.status::"RunStatus",
             o.reward, CASE WHEN o.reward IS NULL THEN NULL ELSE jsonb_build_object('reward', o.reward, 'style', round(random()::numeric, 2)) END,
             o.kind::"FailureKind", o.type, CASE WHEN o.type IS NULL THEN NULL ELSE 'message of ' || o.type END,
             (random() * 200000)::int, (random() * 20000)::int, (random() * 50000)::int, (random() * 2)::numeric(14, 6),
             (random() * 60000)::int, (random() * 30000)::int, (random() * 900000)::int, (random() * 120000)::int,
             now() - interval '2 days', now() - interval '2 days' + random() * interval '20 minutes'
        FROM "Task" t
       CROSS JOIN generate_series(1, ${RUNS_PER_TASK}::int) g
       CROSS JOIN LATERAL (SELECT random() AS x, t.id AS tid) r
       CROSS JOIN LATERAL (
         SELECT CASE WHEN r.x < 0.55 THEN 'PASSED' WHEN r.x < 0.80 THEN 'FAILED' WHEN r.x < 0.95 THEN 'ERRORED' ELSE 'CANCELLED' END AS status,
                CASE WHEN r.x < 0.55 THEN 1.0 WHEN r.x < 0.80 THEN 0.0 END AS reward,
                CASE WHEN r.x >= 0.80 AND r.x < 0.88 THEN 'AGENT' WHEN r.x >= 0.88 AND r.x < 0.95 THEN 'INFRASTRUCTURE' END AS kind,
                CASE WHEN r.x >= 0.80 AND r.x < 0.88 THEN 'ContextLengthExceededError'
                     WHEN r.x >= 0.88 AND r.x < 0.95 THEN 'ApiRateLimitError'
                     WHEN r.x >= 0.95 THEN 'CancelledError' END AS type
       ) o`;
    // 5% of the runs were retried: the first attempt becomes attempt 2 and a failed attempt 1 is
    // added behind it, so the latest-attempt filter has real work.
    await db.$executeRaw`
      WITH picked AS (SELECT id FROM "Run" WHERE "jobId" = ${job.id}::uuid ORDER BY random() LIMIT ${(TASKS * RUNS_PER_TASK) / 20}::int)
      UPDATE "Run" SET attempt = 2 WHERE id IN (SELECT id FROM picked)`;
    await db.$executeRaw`
      INSERT INTO "Run" (id, "jobId", "taskId", repeat, attempt, status, "failureKind", "exceptionType", "costUsd")
      SELECT gen_random_uuid(), "jobId", "taskId", repeat, 1, 'ERRORED', 'INFRASTRUCTURE', 'ApiRateLimitError', 0.1
        FROM "Run" WHERE "jobId" = ${job.id}::uuid AND attempt = 2`;
    // A second job over the same tasks for compareJobs: the same runs with outcomes drawn again.
    const rival = await db.job.create({ data: { name: 'bench rival', agent: 'terminus-2', model: 'm2', runsPerTask: RUNS_PER_TASK, status: 'COMPLETED' } });
    await db.$executeRaw`
      INSERT INTO "Run" (id, "jobId", "taskId", repeat, attempt, status, reward, "costUsd", "startedAt", "finishedAt")
      SELECT gen_random_uuid(), ${rival.id}::uuid, "taskId", repeat, attempt,
             (CASE WHEN random() < 0.6 THEN 'PASSED' ELSE 'FAILED' END)::"RunStatus", NULL, "costUsd", "startedAt", "finishedAt"
        FROM "Run" WHERE "jobId" = ${job.id}::uuid`;
    await db.$executeRaw`UPDATE "Run" SET reward = CASE WHEN status = 'PASSED' THEN 1.0 ELSE 0.0 END WHERE "jobId" = ${rival.id}::uuid`;
    await db.$executeRaw`ANALYZE "Run"`;
    const total = await db.run.count({ where: { jobId: job.id } });

    const yoga = createYoga<Record<string, never>, Context>({ schema: toSchema(), context: () => ({ db, viewer: BENCH_VIEWER }) as Context, logging: false });
    const query = JSON.stringify({
      query: `query ($id: ID!) { job(id: $id) {
        stats { runs scored passRate passRateLow passRateHigh meanReward meanRewardByKey durationP50Ms durationP95Ms
                phaseDurations { phase p50Ms p95Ms } costUsd costPerPass passAtK { k value } }
        taskStats { task { id name } runs scored passRate passRateLow passRateHigh meanReward passAtK { k value } }
        errorBreakdown { exceptionType failureKind count sampleMessage sampleRunId } } }`,
      variables: { id: job.id },
    });
    const request = async () => {
      const response = await yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: query });
      const body = (await response.json()) as { errors?: unknown[] };
      if (body.errors) throw new Error(`GraphQL errors: ${JSON.stringify(body.errors)}`);
    };

    const baseline = await measure(ROUNDS, () => db.$queryRaw`SELECT status, count(*) FROM "Run" WHERE "jobId" = ${job.id}::uuid GROUP BY status`);
    const compareQuery = JSON.stringify({
      query: `query ($ids: [ID!]!) { compareJobs(ids: $ids) { __typename ... on QueryCompareJobsSuccess { data {
        jobs { passRate passRateLow passRateHigh costPerPass
               vsBaseline { commonTasks passRateDifference passRateDifferenceLow passRateDifferenceHigh mcnemarP } }
        tasks { task { name } results { passRate scored passed differenceVsBaseline } } } } } }`,
      variables: { ids: [job.id, rival.id] },
    });
    const compareRequest = async () => {
      const response = await yoga.fetch('http://bench/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: compareQuery });
      const body = (await response.json()) as { errors?: unknown[]; data?: { compareJobs: { __typename: string } } };
      if (body.errors || body.data?.compareJobs.__typename !== 'QueryCompareJobsSuccess') throw new Error(`compareJobs: ${JSON.stringify(body)}`);
    };
    const rows: [string, { p50: number; p99: number }][] = [
      ['jobStats (job + 100 task rows)', await measure(ROUNDS, () => jobStats(db, job.id))],
      ['jobStats, infrastructure included', await measure(ROUNDS, () => jobStats(db, job.id, { includeInfrastructure: true }))],
      ['errorBreakdown', await measure(ROUNDS, () => errorBreakdown(db, job.id))],
      ['overview', await measure(ROUNDS, () => overview(db))],
      ['GraphQL: stats + taskStats + errorBreakdown', await measure(ROUNDS, request)],
      ['compareJobs (2 jobs × 100 tasks)', await measure(ROUNDS, () => compareJobs(db, [job.id, rival.id]))],
      ['GraphQL: compareJobs', await measure(ROUNDS, compareRequest)],
    ];

    console.log(`stats benchmark (${TASKS} tasks × ${RUNS_PER_TASK} runs; ${total} rows incl. superseded attempts; ${ROUNDS} rounds)`);
    console.log(`  baseline GROUP BY status      p50 ${baseline.p50.toFixed(1)} ms   p99 ${baseline.p99.toFixed(1)} ms`);
    for (const [name, { p50, p99 }] of rows) {
      console.log(`  ${name.padEnd(44)} p50 ${p50.toFixed(1)} ms   p99 ${p99.toFixed(1)} ms   ratio p50 ${(p50 / baseline.p50).toFixed(1)}x`);
    }
  } finally {
    await database.drop();
  }
}
