// Leaderboard benchmark (issue 17, "Speed"): a dataset version of 100 tasks, 20 agent × model rows
// of one job each, 100,000 counted trials of its tasks (50 per row and task), plus what the queries
// must skip: 5,000 extra attempts and 20,000 runs of tasks outside the version. Seeded with INSERT …
// SELECT. Baseline in the same run: a bare GROUP BY (job, task) over the same rows, the floor of
// reading them once; the figures are its ratios.
import { randomBytes } from 'node:crypto';
import { createYoga } from 'graphql-yoga';
import type { Viewer } from '../src/auth/viewer.js';
import type { Db } from '../src/db/client.js';
import { compareRows } from '../src/leaderboard/compare.js';
import { heatmap } from '../src/leaderboard/heatmap.js';
import { leaderboard, rowKey } from '../src/leaderboard/service.js';
import type { Context } from '../src/schema/context.js';
import { toSchema } from '../src/schema/index.js';
import { createTestDatabase } from '../test/support/database.js';
import { measure } from './stats.js';

const BENCH_VIEWER: Viewer = { userId: '00000000-0000-0000-0000-000000000000', name: 'bench', role: 'VIEWER', via: 'token', credentialId: 'bench' };

const TASKS = 100;
const ROWS = 20;
const REPEATS = 50;
const OTHER_TASKS = 20;
const ROUNDS = 100;

/** The benchmark's rows in `db`: returns the dataset version's id. */
export async function seedLeaderboardBench(db: Db): Promise<string> {
  await db.task.createMany({
    data: Array.from({ length: TASKS + OTHER_TASKS }, (_, i) => ({
      contentHash: randomBytes(32).toString('hex'),
      name: `bench-${String(i).padStart(3, '0')}`,
      instruction: 'x',
      sizeBytes: 1n,
      fileCount: 1,
    })),
  });
  const tasks = await db.task.findMany({ select: { id: true, name: true }, orderBy: { name: 'asc' } });
  const dataset = await db.dataset.create({ data: { name: 'bench' } });
  const version = await db.datasetVersion.create({
    data: {
      datasetId: dataset.id, version: '1', source: 'MANUAL', taskCount: TASKS,
      tasks: { create: tasks.slice(0, TASKS).map((t) => ({ taskId: t.id, name: t.name })) },
    },
  });
  await db.job.createMany({
    data: Array.from({ length: ROWS }, (_, i) => ({ name: `bench ${i}`, agent: 'terminus-2', model: `openrouter/vendor/model-${i}`, runsPerTask: REPEATS, status: 'COMPLETED' as const })),
  });
  // Each row has a skill s (0.2 … 0.8) and each task a difficulty; outcomes are drawn per trial:
  // pass with s × (1 − difficulty / 2), else fail, agent error or infrastructure error; 2% of the
  // trials with a partial reward. Tokens, cost and timings as Harbor reports them.
  await db.$executeRaw`SELECT setseed(0.17)`;
  await db.$executeRaw`
    INSERT INTO "Run" (id, "jobId", "taskId", repeat, attempt, status, reward, "failureKind", "inputTokens", "outputTokens", "cacheTokens",
                       "costUsd", "agentVersion", "startedAt", "finishedAt")
    SELECT gen_random_uuid(), j.id, t.id, g, 1, o.status::"RunStatus", o.reward, o.kind::"FailureKind",
           (random() * 200000)::int, (random() * 20000)::int, (random() * 50000)::int, (random() * 2)::numeric(14, 6), '2.0.0',
           now() - interval '2 days', now() - interval '2 days' + random() * interval '20 minutes'
      FROM "Job" j
     CROSS JOIN (SELECT id, row_number() OVER (ORDER BY name) AS n FROM "Task") t
     CROSS JOIN generate_series(1, ${REPEATS}::int) g
     CROSS JOIN LATERAL (SELECT random() AS x, 0.2 + 0.6 * (hashtext(j.model) & 1023) / 1023.0 AS skill, (t.n % 10) / 10.0 AS difficulty, j.id AS jid, g AS gg) r
     CROSS JOIN LATERAL (
       SELECT CASE WHEN r.x < r.skill * (1 - r.difficulty / 2) THEN 'PASSED' WHEN r.x < 0.9 THEN 'FAILED' ELSE 'ERRORED' END AS status,
              CASE WHEN r.x < r.skill * (1 - r.difficulty / 2) THEN 1.0 WHEN r.x < 0.88 THEN 0.0 WHEN r.x < 0.9 THEN 0.5 END AS reward,
              CASE WHEN r.x >= 0.9 AND r.x < 0.95 THEN 'AGENT' WHEN r.x >= 0.95 THEN 'INFRASTRUCTURE' END AS kind
     ) o
     WHERE t.n <= ${TASKS + OTHER_TASKS}::int`;
  // 5% of the version's trials were retried after a fair try: an extra attempt each, never counted.
  await db.$executeRaw`
    INSERT INTO "Run" (id, "jobId", "taskId", repeat, attempt, status, reward, "attemptRole", "costUsd", "agentVersion")
    SELECT gen_random_uuid(), "jobId", "taskId", repeat, 2, 'PASSED', 1.0, 'EXTRA', 0.5, '2.0.0'
      FROM "Run" WHERE random() < 0.05 AND status = 'FAILED' LIMIT 5000`;
  await db.$executeRaw`ANALYZE`;
  return version.id;
}

export async function benchLeaderboard(): Promise<void> {
  const database = await createTestDatabase();
  const { db } = database;
  try {
    const versionId = await seedLeaderboardBench(db);
    const version = { id: versionId };
    const counted = await db.$queryRaw<{ n: number; total: number }[]>`
      SELECT count(*) FILTER (WHERE r."attemptRole" = 'COUNTED' AND dt."taskId" IS NOT NULL)::int AS n, count(*)::int AS total
        FROM "Run" r LEFT JOIN "DatasetTask" dt ON dt."taskId" = r."taskId" AND dt."datasetVersionId" = ${version.id}::uuid`;

    const yoga = createYoga<Record<string, never>, Context>({ schema: toSchema(), context: () => ({ db, viewer: BENCH_VIEWER }) as Context, logging: false });
    const request = (query: string, field: string) => async () => {
      const response = await yoga.fetch('http://bench/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables: { v: version.id } }),
      });
      const body = (await response.json()) as { errors?: unknown[]; data?: Record<string, { __typename: string }> };
      if (body.errors || !body.data?.[field]?.__typename.endsWith('Success')) throw new Error(`${field}: ${JSON.stringify(body).slice(0, 500)}`);
    };
    const boardQuery = `query($v: ID!) { leaderboard(datasetVersionId: $v) { __typename ... on QueryLeaderboardSuccess { data {
      taskCount rule datasetVersion { label } rows { key rank agent model agentVersion complete tasksCovered trials unfinished jobs { id name }
        accuracy standardError ci95Low ci95High passAt1 passAtK { k value } passHatK { k value } costPerTrial costPerSuccess
        tokensPerTrial tokensPerSuccess medianTrialSec infrastructureErrors infrastructureErrorRate } } } } }`;
    const heatmapQuery = `query($v: ID!) { datasetHeatmap(datasetVersionId: $v) { __typename ... on QueryDatasetHeatmapSuccess { data {
      columns { key } tasks { name task { id name } meanPassRate disagreement flags cells { key n passed passRate meanReward flaky } } } } } }`;

    const a = rowKey('terminus-2', 'openrouter/vendor/model-0', '2.0.0');
    const b = rowKey('terminus-2', 'openrouter/vendor/model-1', '2.0.0');
    const baseline = await measure(ROUNDS, () =>
      db.$queryRaw`SELECT r."jobId", r."taskId", count(*) FROM "DatasetTask" dt JOIN "Run" r ON r."taskId" = dt."taskId"
                    WHERE dt."datasetVersionId" = ${version.id}::uuid GROUP BY r."jobId", r."taskId"`,
    );
    const rows: [string, { p50: number; p99: number }][] = [
      ['leaderboard (service)', await measure(ROUNDS, () => leaderboard(db, version.id))],
      ['leaderboard, infrastructure included', await measure(ROUNDS, () => leaderboard(db, version.id, { includeInfrastructure: true }))],
      ['heatmap (service)', await measure(ROUNDS, () => heatmap(db, version.id))],
      ['compareRows (2 rows × 100 tasks)', await measure(ROUNDS, () => compareRows(db, version.id, a, b))],
      ['GraphQL: leaderboard (every row field, jobs)', await measure(ROUNDS, request(boardQuery, 'leaderboard'))],
      ['GraphQL: datasetHeatmap (tasks with names)', await measure(ROUNDS, request(heatmapQuery, 'datasetHeatmap'))],
    ];

    console.log(
      `leaderboard benchmark (${TASKS} tasks × ${ROWS} rows × ${REPEATS} repeats = ${counted[0]!.n} counted trials of the version; ` +
        `${counted[0]!.total} runs in all; ${ROUNDS} rounds)`,
    );
    console.log(`  baseline GROUP BY (job, task)                 p50 ${baseline.p50.toFixed(1)} ms   p99 ${baseline.p99.toFixed(1)} ms`);
    for (const [name, { p50, p99 }] of rows) {
      console.log(
        `  ${name.padEnd(45)} p50 ${p50.toFixed(1)} ms   p99 ${p99.toFixed(1)} ms   ratio p50 ${(p50 / baseline.p50).toFixed(1)}x   p99 ${(p99 / baseline.p99).toFixed(1)}x`,
      );
    }
  } finally {
    await database.drop();
  }
}
