// The leaderboard's accounting on rows written through Prisma, where every edge case can be placed
// exactly: extra attempts, an unverified reward, an infrastructure error, a run without agent
// version, a task outside the version. The simulator end to end is leaderboard.test.ts.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEADERBOARD_COLUMNS } from '../src/leaderboard/http.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { anonymousFetch, bearer, createUserWithToken } from './support/auth.js';

let api: TestApp;
let versionId: string;
let emptyVersionId: string;
const origin = () => new URL(api.url).origin;

const BOARD = `query($v: ID!, $split: Boolean, $infra: Boolean, $agent: String) {
  leaderboard(datasetVersionId: $v, splitByAgentVersion: $split, includeInfrastructure: $infra, agent: $agent) {
    __typename
    ... on QueryLeaderboardSuccess { data { taskCount rule emptyReason datasetVersion { id version label taskCount }
      rows { key rank agent model agentVersion complete tasksCovered taskCount trials unfinished jobs { id name }
             accuracy standardError ci95Low ci95High passAt1 minAttemptsPerTask passAtK { k value } passHatK { k value }
             passed costUsd costPerTrial costPerSuccess inputTokens outputTokens cacheTokens tokensPerTrial tokensPerSuccess
             medianTrialSec infrastructureErrors infrastructureErrorRate } } }
    ... on Error { code message } } }`;

beforeAll(async () => {
  api = await startTestApp({ services: false });
  const { db } = api.database;
  const task = (name: string, i: number) =>
    db.task.create({ data: { contentHash: String(i).repeat(64), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } });
  const [t1, t2, outside] = await Promise.all([task('t1', 1), task('t2', 2), task('outside', 3)]);
  const dataset = await db.dataset.create({ data: { name: 'rows' } });
  const version = await db.datasetVersion.create({
    data: { datasetId: dataset.id, version: '1', source: 'MANUAL', taskCount: 2, tasks: { create: [{ taskId: t1.id, name: 'first' }, { taskId: t2.id, name: 'second' }] } },
  });
  versionId = version.id;
  emptyVersionId = (await db.datasetVersion.create({ data: { datasetId: dataset.id, version: '2', source: 'MANUAL', taskCount: 0 } })).id;

  const at = (s: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, s));
  const j1 = await db.job.create({ data: { name: 'j1', agent: 'terminus-2', model: 'm/a', runsPerTask: 2, createdAt: at(0) } });
  const j2 = await db.job.create({ data: { name: 'j2', agent: 'terminus-2', model: 'm/a', runsPerTask: 1, createdAt: at(1) } });
  const j3 = await db.job.create({ data: { name: 'j3', agent: 'oracle', model: '', runsPerTask: 1, createdAt: at(2) } });
  const run = (jobId: string, taskId: string, repeat: number, data: Record<string, unknown>) => ({
    jobId, taskId, repeat, inputTokens: 100, outputTokens: 10, cacheTokens: 1, startedAt: at(0), ...data,
  });
  await db.run.createMany({
    data: [
      // j1, t1: a pass (10 s) and a failure (20 s), both counted; a later extra attempt never counts.
      run(j1.id, t1.id, 1, { status: 'PASSED', reward: 1, costUsd: '0.1', agentVersion: '2.0.0', finishedAt: at(10) }),
      run(j1.id, t1.id, 2, { status: 'FAILED', reward: 0, costUsd: '0.1', agentVersion: '2.0.0', finishedAt: at(20) }),
      run(j1.id, t1.id, 2, { attempt: 2, attemptRole: 'EXTRA', status: 'PASSED', reward: 1, costUsd: '0.3', agentVersion: '2.0.0', finishedAt: at(1) }),
      // j1, t2: an infrastructure error (not scored by default) and an unverified reward (scored, 0, no pass).
      run(j1.id, t2.id, 1, { status: 'ERRORED', failureKind: 'INFRASTRUCTURE', costUsd: '0.05', agentVersion: '2.0.0', finishedAt: at(5) }),
      run(j1.id, t2.id, 2, { status: 'PASSED', reward: 1, rewardFlag: 'WRITTEN_BEFORE_VERIFIER', costUsd: '0.1', agentVersion: '2.0.0', finishedAt: at(30) }),
      // j1, outside the version: ignored.
      run(j1.id, outside.id, 1, { status: 'PASSED', reward: 1, costUsd: '9', agentVersion: '2.0.0', finishedAt: at(1) }),
      // j2, t1: a pass (40 s) without agent version; a queued repeat.
      run(j2.id, t1.id, 1, { status: 'PASSED', reward: 1, costUsd: '0.2', finishedAt: at(40) }),
      run(j2.id, t2.id, 1, { status: 'QUEUED', inputTokens: null, outputTokens: null, cacheTokens: null, startedAt: null }),
      // j3 (oracle, no model): both tasks pass.
      run(j3.id, t1.id, 1, { status: 'PASSED', reward: 1, costUsd: '0', agentVersion: '1.0.0', finishedAt: at(2) }),
      run(j3.id, t2.id, 1, { status: 'PASSED', reward: 1, costUsd: '0', agentVersion: '1.0.0', finishedAt: at(4) }),
    ],
  });
});
afterAll(() => api?.close());

const board = async (variables: Record<string, unknown>) => {
  const { data, errors } = await graphql(api.url, BOARD, { v: versionId, ...variables });
  expect(errors).toBeUndefined();
  return data.leaderboard;
};

describe('leaderboard accounting', () => {
  it('one row per agent × model over every job, counted attempts of the version’s tasks only', async () => {
    const lb = (await board({ split: false })).data;
    expect(lb).toMatchObject({ taskCount: 2, emptyReason: null, datasetVersion: { id: versionId, version: '1', label: 'rows@1', taskCount: 2 } });
    expect(lb.rule).toContain('sqrt(Σ var_t / n_t) / T');
    const [oracle, terminus] = lb.rows;
    // oracle: t1 1/1, t2 1/1 → accuracy 1, SE 0; 2 s and 4 s → median 3 s.
    expect(oracle).toMatchObject({
      key: 'oracle||', rank: 1, agent: 'oracle', model: null, agentVersion: null, complete: true, tasksCovered: 2, trials: 2, passed: 2,
      accuracy: 1, standardError: 0, ci95Low: 1, ci95High: 1, passAt1: 1, minAttemptsPerTask: 1, medianTrialSec: 3,
      costUsd: 0, costPerTrial: 0, costPerSuccess: 0, infrastructureErrors: 0, infrastructureErrorRate: 0, jobs: [{ name: 'j3' }],
    });
    // terminus-2 × m/a over j1 and j2:
    //   t1: rewards 1, 0, 1 (the extra attempt left out) → n 3, c 2, mean 2/3, var 1/3
    //   t2: the unverified pass only (the infrastructure error is not scored) → n 1, c 0, reward 0, var 0
    //   accuracy (2/3 + 0) / 2 = 1/3; SE sqrt(1/3 / 3 + 0) / 2 = 1/6; 95%: 1/3 ± 1.96/6 → [0.00667, 0.66]
    //   pass@1 = (2/3 + 0) / 2 = 1/3 (k only 1: t2 has one trial); pass^1 the same
    //   cost over counted attempts: 0.1 + 0.1 + 0.05 + 0.1 + 0.2 = 0.55 (not the extra's 0.3, not the outside 9)
    //   per trial 0.55 / 4 = 0.1375, per success 0.55 / 2 = 0.275; tokens 5 attempts × 100 in, 10 out → 550, /4 = 137.5, /2 = 275
    //   infrastructure 1 of 5 ended counted attempts = 0.2; median of 10, 20, 30, 40 s = 25 s; one trial queued.
    expect(terminus).toMatchObject({
      key: 'terminus-2|m/a|', rank: 2, agent: 'terminus-2', model: 'm/a', agentVersion: null, complete: true, tasksCovered: 2, taskCount: 2,
      trials: 4, unfinished: 1, passed: 2, minAttemptsPerTask: 1, medianTrialSec: 25, infrastructureErrors: 1, infrastructureErrorRate: 0.2,
      inputTokens: 500, outputTokens: 50, cacheTokens: 5, tokensPerTrial: 137.5, tokensPerSuccess: 275,
      jobs: [{ name: 'j1' }, { name: 'j2' }],
    });
    expect(terminus.accuracy).toBeCloseTo(1 / 3, 12);
    expect(terminus.standardError).toBeCloseTo(1 / 6, 12);
    expect(terminus.ci95Low).toBeCloseTo(1 / 3 - 1.96 / 6, 12);
    expect(terminus.ci95High).toBeCloseTo(1 / 3 + 1.96 / 6, 12);
    expect(terminus.passAt1).toBeCloseTo(1 / 3, 12);
    expect(terminus.passAtK).toEqual([{ k: 1, value: expect.closeTo(1 / 3, 12) }]);
    expect(terminus.passHatK).toEqual([{ k: 1, value: expect.closeTo(1 / 3, 12) }]);
    expect(terminus.costUsd).toBeCloseTo(0.55, 9);
    expect(terminus.costPerTrial).toBeCloseTo(0.1375, 9);
    expect(terminus.costPerSuccess).toBeCloseTo(0.275, 9);
  });

  it('split by agent version: a null version is "unknown", and a row missing a task is unranked', async () => {
    const lb = (await board({})).data;
    expect(lb.rows.map((r: any) => [r.key, r.rank, r.complete, r.tasksCovered])).toEqual([
      ['oracle||1.0.0', 1, true, 2],
      ['terminus-2|m/a|2.0.0', 2, true, 2],
      ['terminus-2|m/a|unknown', null, false, 1],
    ]);
    // 2.0.0: t1 rewards 1, 0 → mean 1/2, var 1/2; t2 0 → accuracy 1/4, SE sqrt(1/2 / 2) / 2 = 1/4, 95% [0, 0.74]
    const v2 = lb.rows[1];
    expect(v2).toMatchObject({ accuracy: 0.25, standardError: 0.25, ci95Low: 0, trials: 3, passed: 1, passAtK: [{ k: 1, value: 0.25 }] });
    expect(v2.ci95High).toBeCloseTo(0.74, 12);
    expect(lb.rows[2]).toMatchObject({ accuracy: 1, trials: 1, unfinished: 1, jobs: [{ name: 'j2' }] });
  });

  it('infrastructure errors count as failures when included', async () => {
    const terminus = (await board({ split: false, infra: true })).data.rows[1];
    // t2 now has the infrastructure error (0) and the unverified pass (0): n 2, mean 0, var 0 → accuracy (2/3 + 0) / 2 = 1/3,
    // SE still 1/6; 5 trials; pass@k for k = 1, 2: pass@2 = (1 − C(1,2)/C(3,2) + 0) / 2 = 1/2, pass^2 = (C(2,2)/C(3,2) + 0) / 2 = 1/6.
    expect(terminus).toMatchObject({ trials: 5, minAttemptsPerTask: 2, medianTrialSec: 20 });
    expect(terminus.passAtK[1]).toEqual({ k: 2, value: 0.5 });
    expect(terminus.passHatK[1].value).toBeCloseTo(1 / 6, 12);
  });

  it('filters by agent; explains an empty board; refuses bad ids', async () => {
    expect((await board({ agent: 'oracle' })).data.rows.map((r: any) => r.key)).toEqual(['oracle||1.0.0']);
    expect((await board({ agent: 'codex' })).data).toMatchObject({ rows: [], emptyReason: "no job of agent codex has run this version's tasks yet" });
    expect((await board({ v: emptyVersionId })).data).toMatchObject({ rows: [], taskCount: 0, emptyReason: 'this dataset version has no tasks' });
    expect(await board({ v: 'nope' })).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
    expect(await board({ v: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ __typename: 'NotFoundError', code: 'NOT_FOUND' });
  });

  it('a VIEWER may read it; an anonymous caller may not', async () => {
    const viewer = await createUserWithToken(api.database.db, 'VIEWER', 'rows-viewer');
    const asViewer = await graphql(api.url, BOARD, { v: versionId }, { token: viewer.token });
    expect(asViewer.data.leaderboard.__typename).toBe('QueryLeaderboardSuccess');
    const anonymous = await graphql(api.url, BOARD, { v: versionId }, { token: null });
    expect(anonymous.data?.leaderboard ?? null).toBeNull();
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const download = await anonymousFetch(`${origin()}/datasets/${versionId}/leaderboard.csv`);
    expect(download.status).toBe(401);
    const viewerDownload = await fetch(`${origin()}/datasets/${versionId}/leaderboard.json`, { headers: bearer(viewer.token) });
    expect(viewerDownload.status).toBe(200);
  });

  it('downloads as CSV and JSON with the documented columns; bad requests are 4xx', async () => {
    const csv = await fetch(`${origin()}/datasets/${versionId}/leaderboard.csv?splitByAgentVersion=false`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = parse(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...LEADERBOARD_COLUMNS]);
    expect(rows.map((r) => [r.rank, r.key, r.model, r.trials, r.accuracy])).toEqual([
      ['1', 'oracle||', '', '2', '1'],
      ['2', 'terminus-2|m/a|', 'm/a', '4', String(1 / 3)],
    ]);
    const json = (await (await fetch(`${origin()}/datasets/${versionId}/leaderboard.json?includeInfrastructure=true`)).json()) as any;
    expect(json).toMatchObject({ datasetVersionId: versionId, taskCount: 2, includesInfrastructure: true, columns: [...LEADERBOARD_COLUMNS] });
    expect(json.rows.map((r: any) => r.key)).toEqual(['oracle||1.0.0', 'terminus-2|m/a|2.0.0', 'terminus-2|m/a|unknown']);
    expect((await fetch(`${origin()}/datasets/not-a-uuid/leaderboard.csv`)).status).toBe(400);
    expect((await fetch(`${origin()}/datasets/%E0%A4%A/leaderboard.csv`)).status).toBe(400);
    expect((await fetch(`${origin()}/datasets/${versionId}/leaderboard.csv?includeInfrastructure=yes`)).status).toBe(400);
    const missing = await fetch(`${origin()}/datasets/00000000-0000-4000-8000-000000000000/leaderboard.json`);
    expect([missing.status, await missing.text()]).toEqual([404, 'no dataset version with id 00000000-0000-4000-8000-000000000000\n']);
  });
});
