import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from '../../test/support/app.js';
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { InvalidInputError, NotFoundError } from '../schema/errors.js';
import { compareJobs, parseJobIds } from './compare.js';
import { pairedBootstrap } from './math.js';

let api: TestApp;
let db: Db;
const task: Record<string, string> = {};
let A: string;
let B: string;
let C: string;
let empty: string;

type Outcome = 'P' | 'F' | 'E' | 'I'; // passed, failed, agent error (scored), infrastructure error
const fields: Record<Outcome, Partial<Prisma.RunUncheckedCreateInput>> = {
  P: { status: 'PASSED', reward: 1 },
  F: { status: 'FAILED', reward: 0 },
  E: { status: 'ERRORED', failureKind: 'AGENT', exceptionType: 'ContextLengthExceededError' },
  I: { status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'ApiRateLimitError' },
};

/** One job with runs given per task name as outcomes by repeat, each run costing `cost` (infrastructure errors cost 0). */
async function seedJob(name: string, cost: number, outcomes: Record<string, Outcome[]>): Promise<string> {
  const job = await db.job.create({ data: { name, agent: 'terminus-2', model: `m/${name}`, runsPerTask: 2, status: 'COMPLETED' } });
  await db.run.createMany({
    data: Object.entries(outcomes).flatMap(([taskName, list]) =>
      list.map((o, i) => ({ jobId: job.id, taskId: task[taskName]!, repeat: i + 1, costUsd: o === 'I' ? 0 : cost, ...fields[o] })),
    ),
  });
  return job.id;
}

beforeAll(async () => {
  api = await startTestApp();
  db = api.database.db;
  // Created out of name order: the comparison must list tasks by name.
  for (const name of ['g', 'c', 'a', 'f', 'e', 'b', 'd']) {
    task[name] = (await db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name, instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;
  }
  // Baseline. a's first repeat errored on the infrastructure, was retried and passed: the retry
  // replaced it (jobs/attempts.ts), so only the retry counts.
  A = await seedJob('A', 1, { a: ['P', 'P'], b: ['P', 'F'], c: ['F', 'F'], d: ['F', 'E'], e: ['P', 'P'], f: ['I', 'I'] });
  const first = await db.run.findFirstOrThrow({ where: { jobId: A, taskId: task.a!, repeat: 1 } });
  await db.run.update({ where: { id: first.id }, data: { attempt: 2 } });
  await db.run.create({ data: { jobId: A, taskId: task.a!, repeat: 1, attempt: 1, costUsd: 1, attemptRole: 'REPLACED', ...fields.I } });

  B = await seedJob('B', 0.5, { a: ['F', 'F'], b: ['P', 'P'], c: ['P', 'P'], d: ['P', 'F'], e: ['P', 'P'], f: ['P', 'P'], g: ['P', 'F'] });
  C = await seedJob('C', 2, { a: ['P', 'P'], b: ['P', 'P'], c: ['P', 'P'], d: ['P', 'P'], e: ['P', 'P'] });
  empty = (await db.job.create({ data: { name: 'empty', agent: 'oracle', model: '', runsPerTask: 1, status: 'QUEUED' } })).id;
});
afterAll(() => api?.close());

const rounded = (x: number | null | undefined) => (x === null || x === undefined ? x : Math.round(x * 1e9) / 1e9);

describe('compareJobs on constructed jobs', () => {
  it("gives each job's pass rate with its Wilson interval and cost per pass, over counted attempts", async () => {
    const { jobs, includesInfrastructure } = await compareJobs(db, [A, B, C]);
    expect(includesInfrastructure).toBe(false);
    // A: 12 counted runs, f's two infrastructure errors left out: 5 of 10 passed (a 2, b 1, e 2); $10 over the 10 others.
    expect(jobs[0]).toMatchObject({ jobId: A, runs: 12, scored: 10, passed: 5, passRate: 0.5, costUsd: 10, costPerPass: 2, vsBaseline: null });
    // Wilson 5 of 10: centre 0.5, half-width 1.96 √(0.025 + 0.009604) / 1.38416 = 0.263407.
    expect(jobs[0]!.passRateLow).toBeCloseTo(0.236593, 5);
    expect(jobs[0]!.passRateHigh).toBeCloseTo(0.763407, 5);
    // B: 14 runs, 10 passed, 14 × $0.50.
    expect(jobs[1]).toMatchObject({ jobId: B, runs: 14, scored: 14, passed: 10, costUsd: 7, costPerPass: 0.7 });
    expect(jobs[1]!.passRate).toBeCloseTo(10 / 14, 12);
    // C: 10 of 10 at $2 each; Wilson 10 of 10 ends at 1 − 0.38416 / 1.38416.
    expect(jobs[2]).toMatchObject({ jobId: C, runs: 10, scored: 10, passed: 10, passRate: 1, passRateHigh: 1, costUsd: 20, costPerPass: 2 });
    expect(jobs[2]!.passRateLow).toBeCloseTo(0.72246, 5);
  });

  it('lists the union of tasks by name with per-job cells, null where a job did not run the task', async () => {
    const { tasks } = await compareJobs(db, [A, B, C]);
    expect(tasks.map((t) => t.taskId)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => task[n]));
    const grid = tasks.map((t) => t.results.map((r) => (r ? [r.passed, r.scored, r.passRate, rounded(r.differenceVsBaseline)] : null)));
    expect(grid).toEqual([
      [[2, 2, 1, null], [0, 2, 0, -1], [2, 2, 1, 0]], // a
      [[1, 2, 0.5, null], [2, 2, 1, 0.5], [2, 2, 1, 0.5]], // b
      [[0, 2, 0, null], [2, 2, 1, 1], [2, 2, 1, 1]], // c
      [[0, 2, 0, null], [1, 2, 0.5, 0.5], [2, 2, 1, 1]], // d (A's agent error counts as a failure)
      [[2, 2, 1, null], [2, 2, 1, 0], [2, 2, 1, 0]], // e
      [[0, 0, null, null], [2, 2, 1, null], null], // f: A ran it but scored nothing
      [null, [1, 2, 0.5, null], null], // g: only B ran it
    ]);
    expect(tasks[5]!.results[0]!.runs).toBe(2);
  });

  it('B vs A on the 5 common tasks: mean difference +0.2 with a paired bootstrap interval; McNemar b = 1, c = 2, p = 1', async () => {
    const { jobs } = await compareJobs(db, [A, B, C]);
    const diffs = [-1, 0.5, 1, 0.5, 0]; // a..e; f and g are not common
    const bootstrap = pairedBootstrap(diffs)!;
    expect(jobs[1]!.vsBaseline).toEqual({
      commonTasks: 5,
      passRateDifference: expect.closeTo(0.2, 12),
      passRateDifferenceLow: bootstrap.low,
      passRateDifferenceHigh: bootstrap.high,
      // a passes only in A; b (0.5 in A is not a pass) and c pass only in B; d is 0 vs 0.5, a pass in neither.
      onlyBaselinePasses: 1,
      onlyThisPasses: 2,
      // n = 3, min = 1: 2 · (1 + 3) / 8 = 1.
      mcnemarP: 1,
    });
    // Five values from −1 to 1: the interval lies inside that range and around the mean.
    expect(bootstrap.low).toBeGreaterThanOrEqual(-1);
    expect(bootstrap.low).toBeLessThan(0.2);
    expect(bootstrap.high).toBeGreaterThan(0.2);
    expect(bootstrap.high).toBeLessThanOrEqual(1);
  });

  it('C vs A: +0.5, every discordant task favours C (b = 0, c = 3), p = 2 / 8 = 0.25; the same numbers every time', async () => {
    const first = await compareJobs(db, [A, B, C]);
    const again = await compareJobs(db, [A, B, C]);
    const c = first.jobs[2]!.vsBaseline!;
    expect(c).toMatchObject({ commonTasks: 5, passRateDifference: 0.5, onlyBaselinePasses: 0, onlyThisPasses: 3, mcnemarP: 0.25 });
    const bootstrap = pairedBootstrap([0, 0.5, 1, 1, 0])!;
    expect([c.passRateDifferenceLow, c.passRateDifferenceHigh]).toEqual([bootstrap.low, bootstrap.high]);
    // No task got worse, so no resample can have a negative mean.
    expect(c.passRateDifferenceLow).toBeGreaterThanOrEqual(0);
    expect(again.jobs[2]!.vsBaseline).toEqual(c);
  });

  it('with infrastructure errors included, f becomes common (A 0 of 2, B 2 of 2)', async () => {
    const { jobs, tasks, includesInfrastructure } = await compareJobs(db, [A, B], { includeInfrastructure: true });
    expect(includesInfrastructure).toBe(true);
    expect(jobs[0]).toMatchObject({ scored: 12, passed: 5, passRate: 5 / 12 });
    expect(tasks[5]!.results[1]!.differenceVsBaseline).toBe(1);
    // Differences −1, 0.5, 1, 0.5, 0, 1: mean 2 / 6. b = 1, c = 3: 2 · (1 + 4) / 16 = 0.625.
    expect(jobs[1]!.vsBaseline).toMatchObject({ commonTasks: 6, onlyBaselinePasses: 1, onlyThisPasses: 3, mcnemarP: 0.625 });
    expect(jobs[1]!.vsBaseline!.passRateDifference).toBeCloseTo(1 / 3, 12);
  });

  it('the baseline is whichever job comes first: B as baseline turns the signs around', async () => {
    const { jobs, tasks } = await compareJobs(db, [B, A]);
    expect(jobs[1]!.vsBaseline).toMatchObject({ commonTasks: 5, onlyBaselinePasses: 2, onlyThisPasses: 1, mcnemarP: 1 });
    expect(jobs[1]!.vsBaseline!.passRateDifference).toBeCloseTo(-0.2, 12);
    expect(tasks[0]!.results.map((r) => r?.differenceVsBaseline)).toEqual([null, 1]);
  });

  it('a job without runs: zero counts, no common tasks, no difference and no test', async () => {
    const { jobs } = await compareJobs(db, [A, empty]);
    expect(jobs[1]).toEqual({
      jobId: empty, runs: 0, scored: 0, passed: 0, passRate: null, passRateLow: null, passRateHigh: null, costUsd: 0, costPerPass: null,
      vsBaseline: {
        commonTasks: 0, passRateDifference: null, passRateDifferenceLow: null, passRateDifferenceHigh: null,
        onlyBaselinePasses: 0, onlyThisPasses: 0, mcnemarP: null,
      },
    });
  });
});

describe('parseJobIds', () => {
  const rejects = async (ids: string[], error: typeof InvalidInputError | typeof NotFoundError, message: RegExp, field?: string) => {
    const failure = await parseJobIds(db, ids).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(error);
    expect((failure as Error).message).toMatch(message);
    if (field) expect((failure as InvalidInputError).field).toBe(field);
  };

  it('accepts 2 to 10 distinct existing ids, in the order given, lower-cased', async () => {
    expect(await parseJobIds(db, [B.toUpperCase(), A])).toEqual([B, A]);
  });

  it('refuses fewer than 2 or more than 10 ids', async () => {
    await rejects([A], InvalidInputError, /give 2 to 10 job ids to compare, got 1/, 'ids');
    await rejects([], InvalidInputError, /got 0/, 'ids');
    await rejects(Array.from({ length: 11 }, () => randomUUID()), InvalidInputError, /got 11/, 'ids');
  });

  it('refuses malformed and repeated ids, naming the position', async () => {
    await rejects([A, 'nope'], InvalidInputError, /ids\.1 must be a UUID, got "nope"/, 'ids.1');
    await rejects([A, B, A.toUpperCase()], InvalidInputError, /given twice \(ids\.0 and ids\.2\)/, 'ids.2');
  });

  it('refuses an id no job has', async () => {
    const unknown = randomUUID();
    await rejects([A, unknown], NotFoundError, new RegExp(`no job with id ${unknown}`));
  });
});

describe('the compareJobs query', () => {
  const QUERY = `query ($ids: [ID!]!, $infra: Boolean) { compareJobs(ids: $ids, includeInfrastructure: $infra) {
    __typename
    ... on Error { code message }
    ... on InvalidInputError { field }
    ... on NotFoundError { entity id }
    ... on QueryCompareJobsSuccess { data {
      includesInfrastructure
      jobs { job { id name model } passRate costPerPass vsBaseline { commonTasks passRateDifference passRateDifferenceLow passRateDifferenceHigh onlyBaselinePasses onlyThisPasses mcnemarP } }
      tasks { task { name runCount } results { passed scored passRate differenceVsBaseline } }
    } }
  } }`;

  it('answers with the jobs and tasks the client selected', async () => {
    const { data, errors } = await graphql(api.url, QUERY, { ids: [A, C] });
    expect(errors).toBeUndefined();
    const result = data.compareJobs.data;
    expect(result.includesInfrastructure).toBe(false);
    expect(result.jobs.map((j: any) => [j.job.name, j.job.model, j.passRate, j.costPerPass])).toEqual([
      ['A', 'm/A', 0.5, 2],
      ['C', 'm/C', 1, 2],
    ]);
    expect(result.jobs[0].vsBaseline).toBeNull();
    expect(result.jobs[1].vsBaseline).toMatchObject({ commonTasks: 5, passRateDifference: 0.5, onlyBaselinePasses: 0, onlyThisPasses: 3, mcnemarP: 0.25 });
    // A's a ran three times (a retry); B's runs count too.
    expect(result.tasks.map((t: any) => [t.task.name, t.task.runCount])).toEqual([['a', 7], ['b', 6], ['c', 6], ['d', 6], ['e', 6], ['f', 4]]);
    expect(result.tasks[5].results).toEqual([{ passed: 0, scored: 0, passRate: null, differenceVsBaseline: null }, null]);
  });

  it('says what is wrong with the ids, with a code', async () => {
    const one = await graphql(api.url, QUERY, { ids: [A] });
    expect(one.data.compareJobs).toEqual({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', message: 'give 2 to 10 job ids to compare, got 1', field: 'ids' });
    const twice = await graphql(api.url, QUERY, { ids: [A, A] });
    expect(twice.data.compareJobs).toMatchObject({ __typename: 'InvalidInputError', field: 'ids.1' });
    const unknown = randomUUID();
    const missing = await graphql(api.url, QUERY, { ids: [A, unknown] });
    expect(missing.data.compareJobs).toEqual({ __typename: 'NotFoundError', code: 'NOT_FOUND', message: `no job with id ${unknown}`, entity: 'job', id: unknown });
  });
});
