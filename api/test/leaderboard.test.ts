// The leaderboard end to end (issue 17 items 2, 3 and 6): tasks uploaded, jobs launched through
// GraphQL and run by real runner processes driving the Harbor simulator, then the leaderboard, the
// heatmap, the paired comparison, the CSV and the live subscription read back and checked against
// numbers worked out by hand below.
//
// Ten tasks lb-01 … lb-10 form the dataset version; lb-outside is not in it. Each task's
// .harbor-sim fixes its cost (lb-0i costs $0.0i, lb-10 $0.10) and, for lb-01 … lb-04, its outcome:
//   lb-01, lb-02  pass (reward 1)        lb-03  fail (reward 0)
//   lb-04         reward 0.5 (below the pass threshold 1: FAILED, but 0.5 towards accuracy)
//   lb-05 … lb-10 whatever the runner's HARBOR_SIM_SCENARIO says (default pass)
// Every trial reports 1000 input and 200 output tokens (the simulator's defaults).
//
// Phase 1, runner scenario pass:  A  = terminus-2 × model-a, all 10 tasks × 2 repeats
//                                 B1 = terminus-2 × model-b, lb-01 … lb-06 × 1
// Phase 2, runner scenario fail:  B2 = terminus-2 × model-b, lb-05 … lb-10 and lb-outside × 1
//                                 C  = terminus-2 × model-c, lb-01 … lb-04 × 1 (the incomplete row)
// Phase 3, runner scenario infra-error (while a subscriber watches):
//                                 C2 = terminus-2 × model-c, lb-05 × 1: an infrastructure error
import { createClient, type Client } from 'graphql-ws';
import { parse } from 'csv-parse/sync';
import { waitFor } from 'runner/test-support';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { pairedBootstrap } from '../src/stats/math.js';
import { graphql, type TestApp } from './support/app.js';
import { authParams } from './support/auth.js';
import type { JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;
usePlatformWithRunners((p) => ({ api, h } = p));

const MODEL = { a: 'openrouter/vendor/model-a', b: 'openrouter/vendor/model-b', c: 'openrouter/vendor/model-c' };
const KEY = {
  a: `terminus-2|${MODEL.a}|2.0.0`,
  b: `terminus-2|${MODEL.b}|2.0.0`,
  c: `terminus-2|${MODEL.c}|2.0.0`,
  aAll: `terminus-2|${MODEL.a}|`,
  bAll: `terminus-2|${MODEL.b}|`,
  cAll: `terminus-2|${MODEL.c}|`,
};
const NAMES = Array.from({ length: 10 }, (_, i) => `lb-${String(i + 1).padStart(2, '0')}`);

const ROW_FIELDS = `key rank agent model agentVersion complete tasksCovered taskCount trials unfinished passed jobs { id }
  accuracy standardError ci95Low ci95High passAt1 minAttemptsPerTask passAtK { k value } passHatK { k value }
  costUsd costPerTrial costPerSuccess inputTokens outputTokens cacheTokens tokensPerTrial tokensPerSuccess
  medianTrialSec infrastructureErrors infrastructureErrorRate`;
const BOARD = `query($v: ID!, $split: Boolean, $infra: Boolean, $model: String) {
  leaderboard(datasetVersionId: $v, splitByAgentVersion: $split, includeInfrastructure: $infra, model: $model) {
    __typename ... on QueryLeaderboardSuccess { data { taskCount rule emptyReason computedAt datasetVersion { id label } rows { ${ROW_FIELDS} } } }
    ... on Error { code message } } }`;
const HEATMAP = `query($v: ID!, $infra: Boolean) { datasetHeatmap(datasetVersionId: $v, includeInfrastructure: $infra) {
  __typename ... on QueryDatasetHeatmapSuccess { data { columns { key agent model agentVersion }
    tasks { name task { id name } meanPassRate disagreement flags cells { key n passed passRate meanReward flaky } } } }
  ... on Error { code message } } }`;
const COMPARE = `query($v: ID!, $a: String!, $b: String!) { compareLeaderboardRows(datasetVersionId: $v, a: $a, b: $b) {
  __typename ... on QueryCompareLeaderboardRowsSuccess { data { a { key } b { key } commonTasks meanA meanB difference differenceLow differenceHigh
    onlyA onlyB mcnemarP onlyATasks { name task { name } } onlyBTasks { name } } }
  ... on Error { code message } } }`;

let versionId: string;
const jobs: Record<string, string> = {};

async function board(variables: Record<string, unknown> = {}) {
  const { data, errors } = await graphql(api.url, BOARD, { v: versionId, ...variables });
  expect(errors).toBeUndefined();
  expect(data.leaderboard.__typename).toBe('QueryLeaderboardSuccess');
  return data.leaderboard.data;
}

/** Runs `launch` on a fresh runner whose simulator plays `scenario` for tasks that do not fix theirs. */
async function phase(name: string, scenario: string, launch: () => Promise<string[]>): Promise<void> {
  const runner = h.startRunner(`runner-${name}`, 4, { HARBOR_SIM_SCENARIO: scenario });
  await runner.waitFor(/ready/);
  const ids = await launch();
  for (const id of ids) await h.waitForJob(id, (j) => j.status === 'COMPLETED', 120_000);
  await h.killRunners();
}

const close = (value: number) => expect.closeTo(value, 9);

/** Rows as a plain-text table for the log (console.table colours its cells). */
function printRows(title: string, rows: any[]): void {
  const lines = rows.map(line);
  const columns = Object.keys(lines[0] ?? {});
  const cell = (v: unknown) => (v === null || v === undefined ? '-' : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...lines.map((l: any) => cell(l[c]).length)));
  const format = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log([title, format(columns), ...lines.map((l: any) => format(columns.map((c) => cell(l[c]))))].join('\n'));
}

/** A leaderboard row as a line of a printed table. */
const line = (r: any) => ({
  rank: r.rank, key: r.key, complete: r.complete, tasks: `${r.tasksCovered}/${r.taskCount}`, trials: r.trials,
  accuracy: r.accuracy?.toFixed(4), se: r.standardError?.toFixed(4), ci95: r.ci95Low === null ? null : `[${r.ci95Low.toFixed(4)}, ${r.ci95High.toFixed(4)}]`,
  passAt1: r.passAt1?.toFixed(4), passAtK: r.passAtK.map((p: any) => p.value.toFixed(3)).join(' '), passHatK: r.passHatK.map((p: any) => p.value.toFixed(3)).join(' '),
  costPerTrial: r.costPerTrial?.toFixed(4), costPerSuccess: r.costPerSuccess?.toFixed(4), tokensPerTrial: r.tokensPerTrial, tokensPerSuccess: r.tokensPerSuccess,
  medianSec: r.medianTrialSec?.toFixed(2), infra: `${r.infrastructureErrors} (${r.infrastructureErrorRate})`,
});

describe('leaderboard over simulated jobs', () => {
  it('ranks every agent × model that ran the version’s tasks, by hand-checked numbers', async () => {
    const { db } = api.database;
    const cost = (i: number) => (i / 100).toFixed(2);
    const ids: string[] = [];
    for (const [i, name] of NAMES.entries()) {
      const fixed: Record<string, string> = i < 2 ? { HARBOR_SIM_SCENARIO: 'pass' } : i === 2 ? { HARBOR_SIM_SCENARIO: 'fail' } : i === 3 ? { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_REWARD: '0.5' } : {};
      ids.push(await h.simulatedTask(name, { ...fixed, HARBOR_SIM_COST_USD: cost(i + 1) }));
    }
    const outside = await h.simulatedTask('lb-outside', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_COST_USD: '5' });
    // The version's rows are written directly: making datasets is the datasets API's own test.
    const dataset = await db.dataset.create({ data: { name: 'terminal-bench' } });
    versionId = (
      await db.datasetVersion.create({
        data: { datasetId: dataset.id, version: '2.0', source: 'MANUAL', taskCount: 10, tasks: { create: ids.map((taskId, i) => ({ taskId, name: NAMES[i]! })) } },
      })
    ).id;

    // Nobody has run them yet.
    expect(await board()).toMatchObject({ rows: [], emptyReason: "nobody has run this version's tasks yet: launch a job on it, or on any of its tasks" });

    const job = (model: string, taskIds: string[], runsPerTask: number) => h.createJob({ taskIds, agent: 'terminus-2', model, runsPerTask });
    await phase('pass', 'pass', async () => {
      jobs.a = await job(MODEL.a, ids, 2);
      jobs.b1 = await job(MODEL.b, ids.slice(0, 6), 1);
      return [jobs.a, jobs.b1];
    });
    await phase('fail', 'fail', async () => {
      jobs.b2 = await job(MODEL.b, [...ids.slice(4), outside], 1);
      jobs.c = await job(MODEL.c, ids.slice(0, 4), 1);
      return [jobs.b2, jobs.c];
    });

    const lb = await board();
    printRows('leaderboard after phases 1 and 2 (split by agent version):', lb.rows);
    expect(lb).toMatchObject({ taskCount: 10, emptyReason: null, datasetVersion: { id: versionId, label: 'terminal-bench@2.0' } });
    expect(lb.rows.map((r: any) => [r.key, r.rank, r.complete])).toEqual([
      [KEY.a, 1, true],
      [KEY.b, 2, true],
      [KEY.c, null, false],
    ]);
    const [a, b, c] = lb.rows;

    // A: per task (2 trials each) lb-01 1, lb-02 1, lb-03 0, lb-04 0.5, lb-05 … lb-10 1; every task's two rewards agree.
    //   accuracy (1 + 1 + 0 + 0.5 + 6 × 1) / 10 = 0.85; SE sqrt(0) / 10 = 0; 95% [0.85, 0.85]
    //   pass@1 = mean c/n = (1 + 1 + 0 + 0 + 6) / 10 = 0.8; pass@2 = share of tasks with a pass = 0.8; pass^2 = share with both passing = 0.8
    //   cost 2 × (0.01 + … + 0.10) = 2 × 0.55 = 1.10 → per trial 1.10 / 20 = 0.055, per success 1.10 / 16 = 0.06875
    //   tokens 20 × 1000 in, 20 × 200 out → per trial 24000 / 20 = 1200, per success 24000 / 16 = 1500
    expect(a).toMatchObject({
      agent: 'terminus-2', model: MODEL.a, agentVersion: '2.0.0', tasksCovered: 10, taskCount: 10, trials: 20, unfinished: 0, passed: 16,
      accuracy: close(0.85), standardError: 0, ci95Low: close(0.85), ci95High: close(0.85), passAt1: close(0.8), minAttemptsPerTask: 2,
      passAtK: [{ k: 1, value: close(0.8) }, { k: 2, value: close(0.8) }], passHatK: [{ k: 1, value: close(0.8) }, { k: 2, value: close(0.8) }],
      costUsd: close(1.1), costPerTrial: close(0.055), costPerSuccess: close(0.06875),
      inputTokens: 20000, outputTokens: 4000, cacheTokens: 0, tokensPerTrial: 1200, tokensPerSuccess: 1500,
      infrastructureErrors: 0, infrastructureErrorRate: 0, jobs: [{ id: jobs.a }],
    });
    // B over B1 (pass) and B2 (fail): lb-01 1, lb-02 1, lb-03 0, lb-04 0.5 (c 0), lb-05 and lb-06 one pass + one fail
    //   (mean 0.5, sample variance ((1 − 0.5)² + (0 − 0.5)²) / 1 = 0.5, var/n = 0.25), lb-07 … lb-10 0.
    //   accuracy (1 + 1 + 0 + 0.5 + 0.5 + 0.5 + 0 × 4) / 10 = 0.35
    //   SE sqrt(0.25 + 0.25) / 10 = 0.0707107; 95% 0.35 ± 1.96 × 0.0707107 = [0.2114071, 0.4885929]
    //   pass@1 = (1 + 1 + 0 + 0 + 0.5 + 0.5 + 0) / 10 = 0.3; one trial on some tasks, so k = 1 only
    //   trials 4 + 4 + 4 = 12, passed lb-01, lb-02 and B1's lb-05, lb-06 = 4
    //   cost B1 0.01 + … + 0.06 = 0.21, B2 0.05 + … + 0.10 = 0.45 (lb-outside's $5 ignored) → 0.66; /12 = 0.055; /4 = 0.165
    //   tokens 12 × 1200 = 14400 → /12 = 1200, /4 = 3600
    const seB = Math.sqrt(0.5) / 10;
    expect(b).toMatchObject({
      agent: 'terminus-2', model: MODEL.b, agentVersion: '2.0.0', tasksCovered: 10, trials: 12, passed: 4,
      accuracy: close(0.35), standardError: close(seB), ci95Low: close(0.35 - 1.96 * seB), ci95High: close(0.35 + 1.96 * seB),
      passAt1: close(0.3), minAttemptsPerTask: 1, passAtK: [{ k: 1, value: close(0.3) }], passHatK: [{ k: 1, value: close(0.3) }],
      costUsd: close(0.66), costPerTrial: close(0.055), costPerSuccess: close(0.165),
      inputTokens: 12000, outputTokens: 2400, tokensPerTrial: 1200, tokensPerSuccess: 3600,
      infrastructureErrors: 0, infrastructureErrorRate: 0, jobs: [{ id: jobs.b1 }, { id: jobs.b2 }],
    });
    expect(seB).toBeCloseTo(0.0707107, 7);
    expect(0.35 - 1.96 * seB).toBeCloseTo(0.2114071, 7);
    // C: lb-01 1, lb-02 1, lb-03 0, lb-04 0.5 → 4 of 10 tasks covered: incomplete, unranked;
    //   accuracy over the covered ones (1 + 1 + 0 + 0.5) / 4 = 0.625; SE 0; pass@1 (1 + 1 + 0 + 0) / 4 = 0.5
    //   cost 0.01 + 0.02 + 0.03 + 0.04 = 0.10 → /4 = 0.025, /2 = 0.05; tokens 4 × 1200 → 1200, 2400
    expect(c).toMatchObject({
      model: MODEL.c, tasksCovered: 4, taskCount: 10, trials: 4, passed: 2, accuracy: close(0.625), standardError: 0,
      passAt1: close(0.5), costUsd: close(0.1), costPerTrial: close(0.025), costPerSuccess: close(0.05), tokensPerTrial: 1200, tokensPerSuccess: 2400,
      jobs: [{ id: jobs.c }],
    });
    // Median trial time: the middle of the scored trials' startedAt → finishedAt, as recorded.
    for (const [row, jobIds] of [[a, [jobs.a!]], [b, [jobs.b1!, jobs.b2!]], [c, [jobs.c!]]] as const) {
      const runs = await db.run.findMany({ where: { jobId: { in: [...jobIds] }, taskId: { in: ids } }, select: { startedAt: true, finishedAt: true } });
      const seconds = runs.map((r) => (r.finishedAt!.getTime() - r.startedAt!.getTime()) / 1000).sort((x, y) => x - y);
      const mid = seconds.length >> 1;
      expect(row.medianTrialSec).toBeCloseTo(seconds.length % 2 ? seconds[mid]! : (seconds[mid - 1]! + seconds[mid]!) / 2, 6);
      // The simulator's phases last 100 ms each; a trial takes at least a few of them.
      expect(row.medianTrialSec).toBeGreaterThan(0.1);
    }
    // Filtered by model, only that row.
    expect((await board({ model: MODEL.b })).rows.map((r: any) => r.key)).toEqual([KEY.b]);
  }, 300_000);

  it('heatmap: columns agent × model, difficulty, disagreement and flags per task', async () => {
    const { data } = await graphql(api.url, HEATMAP, { v: versionId });
    const map = data.datasetHeatmap.data;
    expect(map.columns.map((c: any) => c.key)).toEqual([KEY.aAll, KEY.bAll, KEY.cAll]);
    const byName = Object.fromEntries(map.tasks.map((t: any) => [t.name, t]));
    expect(map.tasks.map((t: any) => t.name)).toEqual(NAMES);
    expect(byName['lb-01'].task.name).toBe('lb-01');
    const cells = (name: string) => byName[name].cells.map((c: any) => [c.n, c.passed]);
    // lb-01: A 2/2, B 1/1, C 1/1: every column ran it and always passed → ALWAYS_SOLVED, mean 1, no disagreement.
    expect(byName['lb-01']).toMatchObject({ meanPassRate: 1, disagreement: 0, flags: ['ALWAYS_SOLVED'] });
    expect(cells('lb-01')).toEqual([[2, 2], [1, 1], [1, 1]]);
    // lb-03 fails everywhere; lb-04's reward 0.5 is below the threshold everywhere (mean reward 0.5, no pass): NEVER_SOLVED.
    expect(byName['lb-03']).toMatchObject({ meanPassRate: 0, disagreement: 0, flags: ['NEVER_SOLVED'] });
    expect(byName['lb-04']).toMatchObject({ meanPassRate: 0, flags: ['NEVER_SOLVED'] });
    expect(byName['lb-04'].cells.map((c: any) => c.meanReward)).toEqual([0.5, 0.5, 0.5]);
    // lb-05: A 2/2 (1), B 1/2 (0.5, flaky), C did not run it → mean (1 + 0.5) / 2 = 0.75; 2 × sd(1, 0.5) = 2 × 0.25 = 0.5.
    expect(byName['lb-05']).toMatchObject({ meanPassRate: 0.75, disagreement: 0.5, flags: ['FLAKY'] });
    expect(byName['lb-05'].cells).toEqual([
      { key: KEY.aAll, n: 2, passed: 2, passRate: 1, meanReward: 1, flaky: false },
      { key: KEY.bAll, n: 2, passed: 1, passRate: 0.5, meanReward: 0.5, flaky: true },
      { key: KEY.cAll, n: 0, passed: 0, passRate: null, meanReward: null, flaky: false },
    ]);
    // lb-07: A 2/2, B 0/1 → mean 0.5, 2 × sd(1, 0) = 1: the columns split completely. Not flagged.
    expect(byName['lb-07']).toMatchObject({ meanPassRate: 0.5, disagreement: 1, flags: [] });
    expect(cells('lb-07')).toEqual([[2, 2], [1, 0], [0, 0]]);
  });

  it('compares two rows on their common tasks', async () => {
    const { data } = await graphql(api.url, COMPARE, { v: versionId, a: KEY.a, b: KEY.b });
    const cmp = data.compareLeaderboardRows.data;
    // Per task, B − A: lb-01..04 0, lb-05/06 0.5 − 1, lb-07..10 0 − 1 → mean (−0.5 × 2 − 1 × 4) / 10 = −0.5.
    // Majority pass (pass rate > 0.5): A passes lb-01, 02, 05 … 10; B lb-01, 02 (1/2 is no majority) → onlyA 6, onlyB 0;
    // McNemar exact p = 2 × P(X ≤ 0 | n 6) = 2 / 64 = 0.03125.
    const differences = [0, 0, 0, 0, -0.5, -0.5, -1, -1, -1, -1];
    const bootstrap = pairedBootstrap(differences)!;
    expect(cmp).toMatchObject({
      a: { key: KEY.a }, b: { key: KEY.b }, commonTasks: 10, meanA: close(0.85), meanB: close(0.35), difference: close(-0.5),
      differenceLow: close(bootstrap.low), differenceHigh: close(bootstrap.high), onlyA: 6, onlyB: 0, mcnemarP: 0.03125, onlyBTasks: [],
    });
    expect(cmp.onlyATasks.map((t: any) => t.name)).toEqual(NAMES.slice(4));
    expect(cmp.onlyATasks[0].task.name).toBe('lb-05');
    expect(bootstrap.low).toBeLessThan(-0.5);
    expect(bootstrap.high).toBeGreaterThan(-0.5);
    // A and C share lb-01 … lb-04 only, where they agree: difference 0, no discordant task, p 1.
    const ac = (await graphql(api.url, COMPARE, { v: versionId, a: KEY.a, b: KEY.c })).data.compareLeaderboardRows.data;
    expect(ac).toMatchObject({ commonTasks: 4, meanA: 0.625, meanB: 0.625, difference: 0, onlyA: 0, onlyB: 0, mcnemarP: 1 });
  });

  it('downloads the board as CSV, the rows in the same order and figures', async () => {
    const response = await fetch(`${new URL(api.url).origin}/datasets/${versionId}/leaderboard.csv`);
    expect(response.status).toBe(200);
    const rows = parse(await response.text(), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.rank, r.key, r.trials, Number(r.accuracy).toFixed(4), r.complete])).toEqual([
      ['1', KEY.a, '20', '0.8500', 'true'],
      ['2', KEY.b, '12', '0.3500', 'true'],
      ['', KEY.c, '4', '0.6250', 'false'],
    ]);
    expect(JSON.parse(rows[0]!.passAtK!)).toEqual([{ k: 1, value: expect.closeTo(0.8, 9) }, { k: 2, value: expect.closeTo(0.8, 9) }]);
    expect(JSON.parse(rows[1]!.jobIds!)).toEqual([jobs.b1, jobs.b2]);
  });

  it('pushes a recomputed board as trials finish, throttled; an infrastructure error counts only when included', async () => {
    const client: Client = createClient({ url: api.url.replace(/^http/, 'ws'), connectionParams: authParams(api.url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    const pushes: { at: number; rows: any[] }[] = [];
    let failed: unknown = null;
    const subscribed = Date.now();
    const unsubscribe = client.subscribe(
      {
        query: `subscription($v: ID!) { leaderboardUpdated(datasetVersionId: $v, splitByAgentVersion: false) { computedAt rows { key trials unfinished infrastructureErrors infrastructureErrorRate } } }`,
        variables: { v: versionId },
      },
      { next: ({ data, errors }) => (errors ? (failed = errors) : pushes.push({ at: Date.now(), rows: (data as any).leaderboardUpdated.rows })), error: (e) => (failed = e), complete: () => {} },
    );
    try {
      await waitFor(() => pushes.length >= 1 || failed !== null, { what: 'the current leaderboard', timeoutMs: 15_000 });
      expect(failed).toBeNull();
      // The current state at once, before anything changes.
      expect(pushes[0]!.at - subscribed).toBeLessThan(5_000);
      expect(pushes[0]!.rows.find((r) => r.key === KEY.cAll)).toMatchObject({ trials: 4, infrastructureErrors: 0 });

      await phase('infra', 'infra-error', async () => {
        jobs.c2 = await h.createJob({ taskIds: [await lbTaskId('lb-05')], agent: 'terminus-2', model: MODEL.c, runsPerTask: 1 });
        return [jobs.c2];
      });
      // C2's run was queued, claimed, ran and ended: the last push has it, as an infrastructure error.
      await waitFor(() => pushes.at(-1)!.rows.find((r) => r.key === KEY.cAll)?.infrastructureErrors === 1, { what: 'a push with the infrastructure error', timeoutMs: 20_000 });
      expect(failed).toBeNull();
      // C: 4 scored trials (the error is not scored), 1 infrastructure error of 5 ended counted attempts = 0.2.
      expect(pushes.at(-1)!.rows.find((r) => r.key === KEY.cAll)).toEqual({ key: KEY.cAll, trials: 4, unfinished: 0, infrastructureErrors: 1, infrastructureErrorRate: 0.2 });
      // Throttled: pushes start 2 s apart (arrival can vary by a recomputation's length, hence the slack).
      for (let i = 2; i < pushes.length; i++) expect(pushes[i]!.at - pushes[i - 1]!.at).toBeGreaterThanOrEqual(1_500);
      console.log(`leaderboardUpdated pushes: ${pushes.length}, ms after subscribing: ${pushes.map((p) => p.at - subscribed).join(', ')}`);
    } finally {
      unsubscribe();
      await client.dispose();
    }

    // Not split: C's row holds the errored run too. Included, lb-05 counts for C as a failure:
    // 5 tasks covered, accuracy (1 + 1 + 0 + 0.5 + 0) / 5 = 0.5, 5 trials.
    const included = await board({ split: false, infra: true });
    printRows('leaderboard with infrastructure errors included (not split by agent version):', included.rows);
    expect(included.rows.find((r: any) => r.key === KEY.cAll)).toMatchObject({ tasksCovered: 5, trials: 5, accuracy: close(0.5), infrastructureErrors: 1 });
    const excluded = await board({ split: false });
    expect(excluded.rows.find((r: any) => r.key === KEY.cAll)).toMatchObject({ tasksCovered: 4, trials: 4, accuracy: close(0.625) });
  }, 120_000);

  it('refuses bad input with a coded error', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await graphql(api.url, BOARD, { v: 'v1' })).data.leaderboard).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect((await graphql(api.url, HEATMAP, { v: missing })).data.datasetHeatmap).toMatchObject({ __typename: 'NotFoundError', message: `no dataset version with id ${missing}` });
    const compare = async (a: string, b: string) => (await graphql(api.url, COMPARE, { v: versionId, a, b })).data.compareLeaderboardRows;
    expect(await compare(KEY.a, KEY.a)).toMatchObject({ __typename: 'InvalidInputError', message: 'a and b are the same row; compare two different rows' });
    expect(await compare('just-a-name', KEY.a)).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(await compare(KEY.a, KEY.bAll)).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(await compare(KEY.a, 'codex|x/y|1')).toMatchObject({ __typename: 'NotFoundError', message: 'no leaderboard row with id codex|x/y|1' });
    const ws = createClient({ url: api.url.replace(/^http/, 'ws'), connectionParams: authParams(api.url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
    const error = await new Promise<any>((resolve) => {
      ws.subscribe({ query: `subscription { leaderboardUpdated(datasetVersionId: "${missing}") { taskCount } }` }, { next: ({ errors }) => resolve(errors), error: resolve, complete: () => resolve(null) });
    });
    await ws.dispose();
    expect(JSON.stringify(error)).toContain('NOT_FOUND');
  });
});

async function lbTaskId(name: string): Promise<string> {
  const row = await api.database.db.datasetTask.findFirstOrThrow({ where: { datasetVersionId: versionId, name }, select: { taskId: true } });
  return row.taskId;
}
