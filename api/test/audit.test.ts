// The audit trail and quota fields through the GraphQL schema, executed in-process with a signed-in
// viewer in the context (the HTTP edge fills Context.viewer from sessions and tokens; here the test
// does): what each mutation records, who may read the trail, and QUOTA_EXCEEDED as a result member.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { graphql as execute, type GraphQLSchema } from 'graphql';
import { ensureStreams } from 'runner/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role, Viewer } from '../src/auth/viewer.js';
import type { Db } from '../src/db/client.js';
import type { Context } from '../src/schema/context.js';
import { toSchema } from '../src/schema/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestNats, type TestNats } from './support/nats.js';

let database: TestDatabase & { db: Db };
let db: Db;
let nats: TestNats;
let jobsDir: string;
let schema: GraphQLSchema;
let taskId: string;

beforeAll(async () => {
  [database, nats, jobsDir] = await Promise.all([createTestDatabase(), createTestNats(), mkdtemp(path.join(os.tmpdir(), 'thr-audit-'))]);
  db = database.db;
  await ensureStreams(await jetstreamManager(nats.nc), nats.topology);
  schema = toSchema();
  taskId = (await db.task.create({ data: { contentHash: 'c'.repeat(64), name: 'audited', instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;
});
afterAll(async () => {
  await nats?.cleanup();
  await database?.drop();
  if (jobsDir) await rm(jobsDir, { recursive: true, force: true });
});

async function signedIn(role: Role, name: string, quota: { maxActiveRuns?: number } = {}): Promise<Viewer> {
  const user = await db.user.create({ data: { name, role, ...quota }, select: { id: true } });
  return { userId: user.id, name, role, via: 'token', credentialId: '00000000-0000-4000-8000-000000000000' };
}

/** Runs one operation as `viewer` (null: anonymous) from `ip`; the fields a resolver of these mutations reads. */
async function gql(viewer: Viewer | null, source: string, variableValues: Record<string, unknown> = {}, ip = '192.0.2.10') {
  const contextValue: Partial<Context> = {
    db,
    nats: nats.nc,
    topology: nats.topology,
    secretsKey: null,
    jobsDir,
    kickDispatcher: () => {},
    viewer,
    clientIp: ip,
  };
  const result = await execute({ schema, source, variableValues, contextValue });
  return { data: result.data as any, errors: result.errors?.map((e) => ({ message: e.message, code: (e.originalError as { code?: string })?.code })) };
}

const CREATE = `mutation($t: ID!, $runs: Int!) { createJob(input: { agent: "oracle", taskIds: [$t], runsPerTask: $runs }) {
  __typename ... on MutationCreateJobSuccess { data { id } } ... on Error { code message } } }`;
const AUDIT = `query($filter: AuditFilter, $first: Int, $after: String) { auditLog(filter: $filter, first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor } edges { node { action actorId actorName targetType targetId ip detail } } } }`;

describe('the audit trail', () => {
  it('records who did what from where for each mutation, and nothing for a refused one', async () => {
    const member = await signedIn('MEMBER', 'mia', { maxActiveRuns: 3 });
    const admin = await signedIn('ADMIN', 'ada');
    const created = await gql(member, CREATE, { t: taskId, runs: 2 });
    const jobId = created.data.createJob.data.id;
    const refused = await gql(member, CREATE, { t: taskId, runs: 2 });
    expect(refused.data.createJob).toEqual({
      __typename: 'QuotaExceededError',
      code: 'QUOTA_EXCEEDED',
      message: expect.stringMatching(/^would have 4 active runs, limit 3 /),
    });
    await gql(member, `mutation($id: ID!) { setJobBudget(id: $id, budgetUsd: 5) { __typename } }`, { id: jobId });
    await gql(member, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: jobId });
    await gql(admin, `mutation($id: ID!) { retryRuns(jobId: $id, which: CANCELLED) { __typename } }`, { id: jobId }, '198.51.100.4');

    const { data, errors } = await gql(admin, AUDIT, { filter: { targetId: jobId } });
    expect(errors).toBeUndefined();
    expect(data.auditLog.edges.map((e: any) => e.node)).toEqual([
      { action: 'RUNS_RETRIED', actorId: admin.userId, actorName: 'ada', targetType: 'job', targetId: jobId, ip: '198.51.100.4', detail: { which: 'CANCELLED', runs: 2 } },
      { action: 'JOB_CANCELLED', actorId: member.userId, actorName: 'mia', targetType: 'job', targetId: jobId, ip: '192.0.2.10', detail: { complete: true } },
      { action: 'BUDGET_SET', actorId: member.userId, actorName: 'mia', targetType: 'job', targetId: jobId, ip: '192.0.2.10', detail: { budgetUsd: 5 } },
      { action: 'JOB_CREATED', actorId: member.userId, actorName: 'mia', targetType: 'job', targetId: jobId, ip: '192.0.2.10', detail: { runs: 2, agent: 'oracle', model: null } },
    ]);
    expect(await db.job.findUniqueOrThrow({ where: { id: jobId }, select: { createdById: true } })).toEqual({ createdById: member.userId });
  });

  it('pages newest first and filters by actor, action and time', async () => {
    const admin = await signedIn('ADMIN', 'pager');
    const since = new Date();
    for (let i = 0; i < 3; i++) {
      const set = await gql(admin, `mutation($u: ID!, $n: Int) { setUserQuota(input: { userId: $u, maxActiveRuns: $n }) { __typename } }`, { u: admin.userId, n: 10 + i });
      expect(set.data.setUserQuota.__typename).toBe('MutationSetUserQuotaSuccess');
    }
    const page = async (after?: string) =>
      (await gql(admin, AUDIT, { filter: { actorId: admin.userId, action: 'QUOTA_SET', since: since.toISOString() }, first: 2, after })).data.auditLog;
    const first = await page();
    expect(first.totalCount).toBe(3);
    expect(first.edges.map((e: any) => e.node.detail.after.maxActiveRuns)).toEqual([12, 11]);
    const second = await page(first.pageInfo.endCursor);
    expect(second.edges.map((e: any) => e.node.detail.after.maxActiveRuns)).toEqual([10]);
    expect(second.pageInfo.hasNextPage).toBe(false);
    const before = await gql(admin, AUDIT, { filter: { actorId: admin.userId, until: since.toISOString() } });
    expect(before.data.auditLog.totalCount).toBe(0);
    const bad = await gql(admin, AUDIT, { filter: { action: 'drop table' } });
    expect(bad.errors).toEqual([{ message: expect.stringContaining('filter.action must be an action name'), code: 'INVALID_INPUT' }]);
  });

  it('is for ADMINs only', async () => {
    const viewer = await signedIn('VIEWER', 'vic');
    const member = await signedIn('MEMBER', 'max');
    expect((await gql(null, AUDIT)).errors).toEqual([{ message: expect.any(String), code: 'UNAUTHENTICATED' }]);
    expect((await gql(viewer, AUDIT)).errors).toEqual([{ message: 'VIEWER may not read the audit log; needs ADMIN', code: 'FORBIDDEN' }]);
    expect((await gql(member, AUDIT)).errors).toEqual([{ message: 'MEMBER may not read the audit log; needs ADMIN', code: 'FORBIDDEN' }]);
  });
});

describe('quota fields', () => {
  it('setUserQuota is for ADMINs; myUsage answers the caller their own figures', async () => {
    const member = await signedIn('MEMBER', 'quota-member');
    const admin = await signedIn('ADMIN', 'quota-admin');
    const SET = `mutation($u: ID!) { setUserQuota(input: { userId: $u, maxActiveRuns: 7, monthlySpendCapUsd: 12.5 }) {
      __typename ... on MutationSetUserQuotaSuccess { data { maxActiveRuns monthlySpendCapUsd } } ... on Error { code } } }`;
    expect((await gql(member, SET, { u: member.userId })).errors).toEqual([{ message: "MEMBER may not set a user's quota; needs ADMIN", code: 'FORBIDDEN' }]);
    expect((await gql(admin, SET, { u: member.userId })).data.setUserQuota).toEqual({
      __typename: 'MutationSetUserQuotaSuccess',
      data: { maxActiveRuns: 7, monthlySpendCapUsd: 12.5 },
    });
    await gql(member, CREATE, { t: taskId, runs: 3 });
    const USAGE = `{ myUsage { activeRuns monthSpendUsd maxActiveRuns monthlySpendCapUsd } }`;
    expect((await gql(member, USAGE)).data.myUsage).toEqual({ activeRuns: 3, monthSpendUsd: 0, maxActiveRuns: 7, monthlySpendCapUsd: 12.5 });
    expect((await gql(null, USAGE)).errors).toEqual([{ message: expect.any(String), code: 'UNAUTHENTICATED' }]);
  });
});
