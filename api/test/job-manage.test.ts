// Looking after jobs (issue 17 item 7): unique names (the migration that renamed duplicates, the
// insert rule, createJob's conflict), updateJob with its roles, the jobs list's filters, bulk
// archive / unarchive / delete with their refusals, and a running job's throughput and ETA.
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationsDir } from '../src/config/paths.js';
import { deployMigrations } from '../src/db/migrate.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { createUserWithToken } from './support/auth.js';
import { createEmptyDatabase } from './support/database.js';

let api: TestApp;
let taskId: string;
let member: { userId: string; token: string };
let other: { userId: string; token: string };
let viewer: { userId: string; token: string };

beforeAll(async () => {
  api = await startTestApp();
  const db = api.database.db;
  taskId = (await db.task.create({ data: { contentHash: randomBytes(32).toString('hex'), name: 'jm-task', instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;
  member = await createUserWithToken(db, 'MEMBER', 'jm-member');
  other = await createUserWithToken(db, 'MEMBER', 'jm-other');
  viewer = await createUserWithToken(db, 'VIEWER', 'jm-viewer');
});
afterAll(async () => {
  await api?.close();
});

const CREATE = `mutation($input: CreateJobInput!) { createJob(input: $input) { __typename
  ... on MutationCreateJobSuccess { data { id name } } ... on JobNameExistsError { code message name jobId } ... on Error { code message } } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateJobInput!) { updateJob(id: $id, input: $input) { __typename
  ... on MutationUpdateJobSuccess { data { id name notes tags } } ... on JobNameExistsError { name jobId } ... on Error { code message } } }`;
const JOBS = `query($status: [JobStatus!], $agent: String, $model: String, $datasetId: ID, $tag: String, $createdById: ID, $mine: Boolean, $archived: Boolean) {
  jobs(status: $status, agent: $agent, model: $model, datasetId: $datasetId, tag: $tag, createdById: $createdById, mine: $mine, archived: $archived, first: 500) {
    totalCount edges { node { id name } } } }`;
const ARCHIVE = `mutation($ids: [ID!]!) { archiveJobs(ids: $ids) { __typename ... on MutationArchiveJobsSuccess { data { id archivedAt } }
  ... on JobsActiveError { code message jobs { id name status } } ... on Error { code message } } }`;
const UNARCHIVE = `mutation($ids: [ID!]!) { unarchiveJobs(ids: $ids) { __typename ... on MutationUnarchiveJobsSuccess { data { id archivedAt } } ... on Error { code message } } }`;
const DELETE = `mutation($ids: [ID!]!) { deleteJobs(ids: $ids) { __typename ... on MutationDeleteJobsSuccess { data { id name runsDeleted } }
  ... on JobsActiveError { code message jobs { name } } ... on Error { code message } } }`;

async function launch(input: Record<string, unknown>, as?: { token: string }) {
  const { data, errors } = await graphql(api.url, CREATE, { input: { taskIds: [taskId], agent: 'oracle', runsPerTask: 1, ...input } }, as);
  if (errors) throw new Error(JSON.stringify(errors));
  return data.createJob;
}

/** A job row written directly, as fixtures do (the insert trigger still makes its name unique). */
async function seedJob(data: { name: string; status?: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'CANCELLED'; createdById?: string; agent?: string; model?: string; tags?: string[]; datasetVersionId?: string }) {
  const job = await api.database.db.job.create({ data: { agent: 'oracle', model: '', runsPerTask: 1, status: 'COMPLETED', ...data } });
  await api.database.db.run.create({ data: { jobId: job.id, taskId, repeat: 1, status: job.status === 'COMPLETED' ? 'PASSED' : 'QUEUED' } });
  return job;
}

const names = (data: any) => data.jobs.edges.map((e: any) => e.node.name).sort();

describe('unique job names', () => {
  it('the migration renames existing duplicates " (2)", " (3)" … regardless of case, oldest first, around names already taken', async () => {
    const database = await createEmptyDatabase();
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'thr-jm-migrations-'));
    try {
      // Every migration before this one, then duplicates as an older version allowed them.
      const all = (await readdir(migrationsDir)).filter((n) => /^\d{14}_/.test(n)).sort();
      const mine = all.find((n) => n.endsWith('_job_names_notes_archive'))!;
      await cp(path.join(migrationsDir, 'migration_lock.toml'), path.join(scratch, 'migration_lock.toml'));
      for (const name of all.filter((n) => n < mine)) await cp(path.join(migrationsDir, name), path.join(scratch, name), { recursive: true });
      await deployMigrations(database.url, scratch);
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const insert = (name: string, minute: number) =>
          client.query(`INSERT INTO "Job" (id, name, agent, model, "runsPerTask", "createdAt") VALUES (gen_random_uuid(), $1, 'oracle', '', 1, $2)`, [
            name,
            new Date(Date.UTC(2026, 0, 1, 0, minute)),
          ]);
        await insert('Sonnet run', 1);
        await insert('sonnet RUN', 2);
        await insert('Sonnet run (2)', 3); // taken already: the second duplicate skips to (3)
        await insert('Sonnet run', 4);
        await insert('solo', 5);
        await deployMigrations(database.url, migrationsDir);
        const { rows } = await client.query<{ name: string }>(`SELECT name FROM "Job" ORDER BY "createdAt"`);
        expect(rows.map((r) => r.name)).toEqual(['Sonnet run', 'sonnet RUN (3)', 'Sonnet run (2)', 'Sonnet run (4)', 'solo']);
        // From now on the index holds the rule, and an insert of a taken name gets the next free one.
        await insert('SOLO', 6);
        const { rows: after } = await client.query<{ name: string }>(`SELECT name FROM "Job" WHERE "createdAt" = $1`, [new Date(Date.UTC(2026, 0, 1, 0, 6))]);
        expect(after[0]!.name).toBe('SOLO (2)');
        await expect(client.query(`UPDATE "Job" SET name = 'SONNET RUN' WHERE name = 'solo'`)).rejects.toThrow(/Job_lower_name_key/);
      } finally {
        await client.end();
      }
    } finally {
      await database.drop();
      await rm(scratch, { recursive: true, force: true });
    }
  }, 60_000);

  it('createJob without a name generates a unique one; an explicit name that exists (any case) is a JOB_NAME_EXISTS conflict', async () => {
    const first = await launch({ model: null });
    const second = await launch({});
    expect(first.data.name).toBe('oracle');
    expect(second.data.name).toBe('oracle (2)');

    const named = await launch({ name: 'Baseline  ' });
    expect(named.data.name).toBe('Baseline');
    const again = await launch({ name: 'baseline' });
    expect(again).toEqual({
      __typename: 'JobNameExistsError',
      code: 'JOB_NAME_EXISTS',
      name: 'baseline',
      jobId: named.data.id,
      message: 'a job named "baseline" already exists (names are unique regardless of case): choose another name',
    });
    // Nothing was launched for the refused one.
    expect(await api.database.db.job.count({ where: { name: { equals: 'baseline', mode: 'insensitive' } } })).toBe(1);
    // Launches of one name at the same time: exactly one wins.
    const racing = await Promise.all([1, 2, 3].map(() => launch({ name: 'racer' })));
    expect(racing.map((r) => r.__typename).sort()).toEqual(['JobNameExistsError', 'JobNameExistsError', 'MutationCreateJobSuccess']);
  });
});

describe('updateJob', () => {
  it('renames, sets notes and tags for the owner or an ADMIN; refuses a taken name, bad input, other members and viewers', async () => {
    const mine = (await launch({ name: 'member job' }, member)).data.id;
    await launch({ name: 'Taken name' });

    const renamed = await graphql(api.url, UPDATE, { id: mine, input: { name: 'Member job, renamed', notes: 'tried a lower temperature', tags: ['Ablation', 'tb2', 'ablation', ' '] } }, member);
    expect(renamed.data.updateJob).toEqual({
      __typename: 'MutationUpdateJobSuccess',
      data: { id: mine, name: 'Member job, renamed', notes: 'tried a lower temperature', tags: ['ablation', 'tb2'] },
    });
    // A change of case of its own name is no conflict.
    const recased = await graphql(api.url, UPDATE, { id: mine, input: { name: 'member job, RENAMED' } }, member);
    expect(recased.data.updateJob.data).toMatchObject({ name: 'member job, RENAMED', notes: 'tried a lower temperature', tags: ['ablation', 'tb2'] });

    const taken = await graphql(api.url, UPDATE, { id: mine, input: { name: 'TAKEN NAME' } }, member);
    expect(taken.data.updateJob).toMatchObject({ __typename: 'JobNameExistsError', name: 'TAKEN NAME' });

    const tooLong = await graphql(api.url, UPDATE, { id: mine, input: { notes: 'x'.repeat(10_001) } }, member);
    expect(tooLong.data.updateJob).toMatchObject({ code: 'INVALID_INPUT', message: 'notes must be at most 10,000 characters, got 10001' });
    const manyTags = await graphql(api.url, UPDATE, { id: mine, input: { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) } }, member);
    expect(manyTags.data.updateJob).toMatchObject({ code: 'INVALID_INPUT', message: 'a job has at most 20 tags, got 21' });
    const empty = await graphql(api.url, UPDATE, { id: mine, input: { name: '  ' } }, member);
    expect(empty.data.updateJob).toMatchObject({ code: 'INVALID_INPUT', message: 'name must not be empty' });

    const stranger = await graphql(api.url, UPDATE, { id: mine, input: { name: 'hijacked' } }, other);
    expect(stranger.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const reader = await graphql(api.url, UPDATE, { id: mine, input: { notes: 'hi' } }, viewer);
    expect(reader.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const missing = await graphql(api.url, UPDATE, { id: '00000000-0000-4000-8000-000000000000', input: { notes: 'hi' } }, member);
    expect(missing.data.updateJob).toMatchObject({ code: 'NOT_FOUND' });

    // An ADMIN may; notes cleared with null, tags with [].
    const cleared = await graphql(api.url, UPDATE, { id: mine, input: { notes: null, tags: [] } });
    expect(cleared.data.updateJob.data).toMatchObject({ notes: null, tags: [] });

    const audit = await api.database.db.auditEvent.findMany({ where: { action: 'JOB_UPDATED', targetId: mine }, orderBy: { at: 'asc' } });
    expect(audit.map((a) => [a.actorName, a.detail])).toEqual([
      ['jm-member', { changed: ['name', 'notes', 'tags'], previousName: 'member job', name: 'Member job, renamed' }],
      ['jm-member', { changed: ['name'], previousName: 'Member job, renamed', name: 'member job, RENAMED' }],
      [expect.any(String), { changed: ['notes', 'tags'] }],
    ]);
  });
});

describe('the jobs list', () => {
  it('filters by agent, model, dataset, tag, status, creator and archived', async () => {
    const db = api.database.db;
    const dataset = await db.dataset.create({ data: { name: `jm-ds-${randomBytes(3).toString('hex')}` } });
    const [v1, v2] = await Promise.all(
      ['1', '2'].map((version) => db.datasetVersion.create({ data: { datasetId: dataset.id, version, source: 'MANUAL', taskCount: 1 } })),
    );
    await seedJob({ name: 'f-claude', agent: 'claude-code', model: 'anthropic/claude-sonnet-4', tags: ['tb2'], datasetVersionId: v1!.id, createdById: member.userId });
    await seedJob({ name: 'f-codex', agent: 'codex', model: 'openai/gpt-5', tags: ['tb2', 'baseline'], datasetVersionId: v2!.id });
    await seedJob({ name: 'f-running', agent: 'codex', model: 'openai/gpt-5', status: 'RUNNING', createdById: member.userId });
    const archived = await seedJob({ name: 'f-archived', agent: 'codex', model: 'openai/gpt-5', tags: ['tb2'] });
    await db.job.update({ where: { id: archived.id }, data: { archivedAt: new Date() } });

    const list = async (vars: Record<string, unknown>, as?: { token: string }) => {
      const { data, errors } = await graphql(api.url, JOBS, vars, as);
      if (errors) throw new Error(JSON.stringify(errors));
      return names(data).filter((n: string) => n.startsWith('f-'));
    };
    expect(await list({ agent: 'codex' })).toEqual(['f-codex', 'f-running']);
    expect(await list({ model: 'anthropic/claude-sonnet-4' })).toEqual(['f-claude']);
    expect(await list({ datasetId: dataset.id })).toEqual(['f-claude', 'f-codex']);
    expect(await list({ tag: 'TB2' })).toEqual(['f-claude', 'f-codex']);
    expect(await list({ status: ['RUNNING'] })).toEqual(['f-running']);
    expect(await list({ createdById: member.userId })).toEqual(['f-claude', 'f-running']);
    expect(await list({ mine: true }, member)).toEqual(['f-claude', 'f-running']);
    expect(await list({ archived: true })).toEqual(['f-archived']);
    expect(await list({ archived: null, tag: 'tb2' })).toEqual(['f-archived', 'f-claude', 'f-codex']);
    const { data } = await graphql(api.url, JOBS, { tag: 'tb2', agent: 'codex' });
    expect(data.jobs.totalCount).toBe(1);
  });
});

describe('bulk archive, unarchive and delete', () => {
  it('refuses running jobs by name and other people’s jobs, changing nothing; then archives, unarchives and deletes', async () => {
    const db = api.database.db;
    const a = await seedJob({ name: 'b-done-a', createdById: member.userId });
    const b = await seedJob({ name: 'b-done-b', status: 'CANCELLED', createdById: member.userId });
    const running = await seedJob({ name: 'b-running', status: 'RUNNING', createdById: member.userId });
    const theirs = await seedJob({ name: 'b-theirs', createdById: other.userId });

    const refused = await graphql(api.url, ARCHIVE, { ids: [a.id, running.id] }, member);
    expect(refused.data.archiveJobs).toEqual({
      __typename: 'JobsActiveError',
      code: 'JOBS_ACTIVE',
      message: 'this job has not stopped: "b-running"; cancel them and wait until they have stopped (nothing was changed)',
      jobs: [{ id: running.id, name: 'b-running', status: 'RUNNING' }],
    });
    const forbidden = await graphql(api.url, ARCHIVE, { ids: [a.id, theirs.id] }, member);
    expect(forbidden.errors?.[0]).toMatchObject({
      message: 'only its creator or an ADMIN may archive jobs: "b-theirs" (nothing was changed)',
      extensions: { code: 'FORBIDDEN' },
    });
    const reader = await graphql(api.url, ARCHIVE, { ids: [a.id] }, viewer);
    expect(reader.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await db.job.count({ where: { archivedAt: { not: null }, id: { in: [a.id, b.id, theirs.id] } } })).toBe(0);

    const done = await graphql(api.url, ARCHIVE, { ids: [a.id, b.id] }, member);
    expect(done.data.archiveJobs.data.map((j: any) => [j.id, typeof j.archivedAt])).toEqual([[a.id, 'string'], [b.id, 'string']]);
    // An ADMIN may archive anyone's.
    expect((await graphql(api.url, ARCHIVE, { ids: [theirs.id] })).data.archiveJobs.__typename).toBe('MutationArchiveJobsSuccess');
    const back = await graphql(api.url, UNARCHIVE, { ids: [b.id] }, member);
    expect(back.data.unarchiveJobs.data).toEqual([{ id: b.id, archivedAt: null }]);

    const deleteRefused = await graphql(api.url, DELETE, { ids: [a.id, running.id] }, member);
    expect(deleteRefused.data.deleteJobs).toMatchObject({ code: 'JOBS_ACTIVE', jobs: [{ name: 'b-running' }] });
    expect(await db.job.count({ where: { id: a.id } })).toBe(1);
    const deleteForbidden = await graphql(api.url, DELETE, { ids: [theirs.id] }, member);
    expect(deleteForbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const deleted = await graphql(api.url, DELETE, { ids: [a.id, b.id] }, member);
    expect(deleted.data.deleteJobs.data).toEqual([
      { id: a.id, name: 'b-done-a', runsDeleted: 1 },
      { id: b.id, name: 'b-done-b', runsDeleted: 1 },
    ]);
    expect(await db.job.count({ where: { id: { in: [a.id, b.id] } } })).toBe(0);

    const audit = await db.auditEvent.findMany({ where: { targetId: { in: [a.id, b.id, theirs.id] } }, orderBy: { at: 'asc' }, select: { action: true, targetId: true } });
    expect(audit.map((e) => `${e.action} ${e.targetId === a.id ? 'a' : e.targetId === b.id ? 'b' : 'theirs'}`)).toEqual([
      'JOB_ARCHIVED a', 'JOB_ARCHIVED b', 'JOB_ARCHIVED theirs', 'JOB_UNARCHIVED b', 'JOB_DELETED a', 'JOB_DELETED b',
    ]);
  });
});

describe('progress of a running job', () => {
  const PROGRESS = `query($id: ID!) { job(id: $id) { status progress { throughputPerMinute windowMinutes finishedInWindow slotsInUse remainingRuns etaSeconds etaBasis } } }`;

  it('throughput over the last five minutes, slots in use, and the ETA at that pace', async () => {
    const db = api.database.db;
    const now = Date.now();
    const job = await db.job.create({
      data: { name: 'p-running', agent: 'terminus-2', model: 'p/model', runsPerTask: 20, status: 'RUNNING', startedAt: new Date(now - 30 * 60_000) },
    });
    const minutesAgo = (m: number) => new Date(now - m * 60_000);
    const runs = [
      // Ten finished within the last five minutes (2 a minute), two long before: not in the pace.
      ...Array.from({ length: 10 }, (_, i) => ({ status: 'PASSED' as const, startedAt: minutesAgo(10), finishedAt: minutesAgo(0.2 + i * 0.4) })),
      { status: 'FAILED' as const, startedAt: minutesAgo(25), finishedAt: minutesAgo(20) },
      { status: 'ERRORED' as const, startedAt: minutesAgo(25), finishedAt: minutesAgo(12) },
      // Three slots held, five more waiting.
      { status: 'RUNNING' as const, startedAt: minutesAgo(1) },
      { status: 'RUNNING' as const, startedAt: minutesAgo(1) },
      { status: 'CLAIMED' as const },
      ...Array.from({ length: 5 }, () => ({ status: 'QUEUED' as const })),
    ];
    await db.run.createMany({ data: runs.map((r, i) => ({ jobId: job.id, taskId, repeat: i + 1, ...r })) });

    const { data } = await graphql(api.url, PROGRESS, { id: job.id });
    expect(data.job.progress).toEqual({
      throughputPerMinute: 2,
      windowMinutes: 5,
      finishedInWindow: 10,
      slotsInUse: 3,
      remainingRuns: 8,
      etaSeconds: 240, // 8 runs ÷ 2 a minute
      etaBasis: 'THROUGHPUT',
    });
  });

  it('before anything finished, the ETA comes from the mean trial of this agent and model in earlier jobs; a stopped job has none', async () => {
    const db = api.database.db;
    const now = Date.now();
    // An earlier job of the same agent and model: trials of 60 and 120 seconds (mean 90).
    const earlier = await db.job.create({ data: { name: 'p-earlier', agent: 'terminus-2', model: 'p/other', runsPerTask: 2, status: 'COMPLETED' } });
    await db.run.createMany({
      data: [60, 120].map((s, i) => ({ jobId: earlier.id, taskId, repeat: i + 1, status: 'PASSED' as const, startedAt: new Date(now - 3_600_000), finishedAt: new Date(now - 3_600_000 + s * 1000) })),
    });
    const fresh = await db.job.create({ data: { name: 'p-fresh', agent: 'terminus-2', model: 'p/other', runsPerTask: 5, status: 'RUNNING', startedAt: new Date(now - 20_000) } });
    await db.run.createMany({
      data: [
        { status: 'RUNNING' as const, startedAt: new Date(now - 10_000) },
        { status: 'RUNNING' as const, startedAt: new Date(now - 10_000) },
        { status: 'QUEUED' as const },
        { status: 'QUEUED' as const },
        { status: 'QUEUED' as const },
      ].map((r, i) => ({ jobId: fresh.id, taskId, repeat: i + 1, ...r })),
    });
    const { data } = await graphql(api.url, PROGRESS, { id: fresh.id });
    // Five runs over two slots: three waves of 90 s.
    expect(data.job.progress).toEqual({
      throughputPerMinute: 0,
      windowMinutes: 1,
      finishedInWindow: 0,
      slotsInUse: 2,
      remainingRuns: 5,
      etaSeconds: 270,
      etaBasis: 'ESTIMATE',
    });
    const stopped = await graphql(api.url, PROGRESS, { id: earlier.id });
    expect(stopped.data.job).toEqual({ status: 'COMPLETED', progress: null });
  });
});
