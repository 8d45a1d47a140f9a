// `npm start`'s embedded database under concurrent requests while a job runs. PGlite, the first
// embedded default, served every connection from one backend session: while the recorder held a
// transaction, other connections' half-sent statements were replaced under them, and reads failed
// ("bind message supplies 2 parameters, but prepared statement "" requires 3") or came back with
// another query's rows (electric-sql/pglite#1046). Every answer here must be the row asked for.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../src/platform/embedded-postgres.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { jobHarness, type JobHarness } from './support/jobs.js';

let dir: string;
let postgres: PostgresServer;
let api: TestApp;
let h: JobHarness;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'thr-embedded-pg-'));
  // A root test run's server user must reach the data directory below it.
  await chmod(dir, 0o755);
  postgres = await startPostgres({ dataDir: path.join(dir, 'postgres') });
  api = await startTestApp({ services: true, databaseUrl: postgres.url });
  h = await jobHarness(api);
});

afterAll(async () => {
  await h?.close();
  await api?.close();
  await postgres?.stop();
  await rm(dir, { recursive: true, force: true });
});

const RUN = `query($id: ID!) { run(id: $id) { id status repeat task { name } job { id runsTotal } } }`;
const JOB = `query($id: ID!) { job(id: $id) { id status runsTotal runs(first: 50) { totalCount edges { node { id job { id } } } } } }`;
const RUNS = `query($id: ID!) { job(id: $id) { runsRunning runsPassed runs(first: 100) { edges { node { id task { name } } } } } }`;

describe('the embedded PostgreSQL server under concurrent requests', () => {
  it('answers 300 concurrent run and job reads during a run, each with the row asked for and no error', async () => {
    const tasks = await Promise.all(
      ['alpha', 'beta', 'gamma'].map((name) => h.simulatedTask(name, { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '500' })),
    );
    const jobs = [await h.createJob({ taskIds: tasks, agent: 'oracle', runsPerTask: 8 }), await h.createJob({ taskIds: tasks, agent: 'oracle', runsPerTask: 2 })];
    const runs = new Map<string, { jobId: string; task: string }>();
    const jobRuns = new Map<string, string[]>();
    for (const jobId of jobs) {
      const edges = (await graphql(api.url, RUNS, { id: jobId })).data.job.runs.edges;
      jobRuns.set(jobId, edges.map((e: any) => e.node.id).sort());
      for (const e of edges) runs.set(e.node.id, { jobId, task: e.node.task.name });
    }
    expect(runs.size).toBe(30);

    // The reads go out while trials run (24 trials of 2 s on 4 slots) and the recorder writes their
    // events in transactions.
    h.startRunner('runner-a', 4);
    await h.waitForJob(jobs[0]!, (job) => job.runsRunning > 0);
    const runIds = [...runs.keys()];
    const reads = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0 ? { kind: 'job' as const, id: jobs[i % jobs.length]! } : { kind: 'run' as const, id: runIds[i % runIds.length]! },
    );
    const answers = await Promise.all(
      reads.map(async (read) => ({ read, answer: await graphql(api.url, read.kind === 'run' ? RUN : JOB, { id: read.id }) })),
    );

    const wrong = answers.filter(({ read, answer }) => {
      if (answer.errors) return true;
      if (read.kind === 'run') {
        const run = answer.data?.run;
        const expected = runs.get(read.id)!;
        return run?.id !== read.id || run.job.id !== expected.jobId || run.task.name !== expected.task;
      }
      const job = answer.data?.job;
      const expected = jobRuns.get(read.id)!;
      return (
        job?.id !== read.id ||
        job.runsTotal !== expected.length ||
        job.runs.totalCount !== expected.length ||
        JSON.stringify(job.runs.edges.map((e: any) => e.node.id).sort()) !== JSON.stringify(expected) ||
        job.runs.edges.some((e: any) => e.node.job.id !== read.id)
      );
    });
    expect(wrong.map(({ read, answer }) => ({ read, answer: JSON.stringify(answer).slice(0, 300) }))).toEqual([]);
  }, 120_000);
});
