// The dispatcher's fair share between users, one dispatch round at a time, against real PostgreSQL
// and JetStream, with the runners' capacity given (fair-share.test.ts drives it with a real runner).
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { ensureStreams } from 'runner/protocol';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../src/db/client.js';
import { dispatchBatch, type DispatcherDeps } from '../src/jobs/dispatcher.js';
import { createJob } from '../src/jobs/launch.js';
import { quotaHold } from '../src/quotas/service.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestNats, ordersInRuns, type TestNats } from './support/nats.js';

let database: TestDatabase & { db: Db };
let db: Db;
let nats: TestNats;
let taskId: string;

beforeAll(async () => {
  [database, nats] = await Promise.all([createTestDatabase(), createTestNats()]);
  db = database.db;
  await ensureStreams(await jetstreamManager(nats.nc), nats.topology);
  taskId = (await db.task.create({ data: { contentHash: 'f'.repeat(64), name: 'fair', instruction: 'x', sizeBytes: 1n, fileCount: 1 } })).id;
});
afterAll(async () => {
  await nats?.cleanup();
  await database?.drop();
});
// Every case starts from an empty queue: earlier cases' runs would hold slots.
beforeEach(async () => {
  await db.run.updateMany({ where: { status: { in: ['QUEUED', 'CLAIMED', 'RUNNING'] } }, data: { status: 'CANCELLED' } });
});

let users = 0;
const user = (quota: { monthlySpendCapUsd?: number } = {}) =>
  db.user.create({ data: { name: `fair-${++users}`, role: 'MEMBER', ...quota }, select: { id: true } }).then((u) => u.id);

/** Which job each run belongs to, by the label its test gave the job. */
const labels = new Map<string, string>();

/** A job of `runs` runs for `createdById`, labelled for the assertions. Within a job, runs go out in no promised order. */
async function job(label: string, createdById: string | null, runs: number): Promise<string> {
  const { id } = await createJob({ db, secretsKey: null }, { taskIds: [taskId], agent: 'oracle', runsPerTask: runs, createdById });
  for (const r of await db.run.findMany({ where: { jobId: id }, select: { id: true } })) labels.set(r.id, label);
  return id;
}

/** One dispatch round with `capacity` runner slots; the jobs of the runs it published, sorted. */
async function round(capacity: number | null, pools = ['docker']): Promise<string[]> {
  const runners = capacity === null ? null : [{ runnerId: 'r', slots: capacity, pools: new Set(pools) }];
  const deps: DispatcherDeps = { db, js: jetstream(nats.nc), topology: nats.topology, defaultSecrets: [], capacity: async () => runners };
  const before = new Set((await db.run.findMany({ where: { dispatchedAt: { not: null } }, select: { id: true } })).map((r) => r.id));
  await dispatchBatch(deps);
  const after = await db.run.findMany({ where: { dispatchedAt: { not: null } }, select: { id: true } });
  return after.filter((r) => !before.has(r.id)).map((r) => labels.get(r.id)!).sort();
}

/** A runner finished every dispatched run of these jobs: their slots are free again. */
async function finish(label: string, costUsd: number | null = null) {
  const ids = [...labels].filter(([, l]) => l === label).map(([id]) => id);
  await db.run.updateMany({ where: { id: { in: ids }, status: 'QUEUED', dispatchedAt: { not: null } }, data: { status: 'PASSED', costUsd, finishedAt: new Date() } });
}

describe('fair-share dispatching', () => {
  it("starts a later user's small job within one slot turnover of another user's big job", async () => {
    await job('A', await user(), 50);
    expect(await round(1)).toEqual(['A']);
    await job('B', await user(), 2);
    // The one slot is taken: nothing more goes out, however much is waiting.
    expect(await round(1)).toEqual([]);
    await finish('A');
    expect(await round(1)).toEqual(['B']);
    await finish('B');
    // A tie (neither has a run in flight) goes to the user with fewer runs waiting: B's last one.
    expect(await round(1)).toEqual(['B']);
    await finish('B');
    expect(await round(1)).toEqual(['A']);
  });

  it('shares several free slots between users round-robin, counting what each already has in flight', async () => {
    await job('A', await user(), 20);
    expect(await round(3)).toEqual(['A', 'A', 'A']);
    await job('B', await user(), 10);
    await job('C', await user(), 10);
    // 5 slots, A holds 3 of them: B and C get one each.
    expect(await round(5)).toEqual(['B', 'C']);
    await finish('A');
    // 3 free: A, B and C have 0, 1 and 1 in flight: A first, then one each in turn.
    expect(await round(5)).toEqual(['A', 'B', 'C']);
  });

  it('counts runs without a creator as one user', async () => {
    await job('none-1', null, 10);
    await job('none-2', null, 10);
    await job('U', await user(), 10);
    // Two jobs without a creator share one turn: U gets one of the two slots.
    expect(await round(2)).toEqual(['U', expect.stringMatching(/^none-[12]$/)]);
  });

  it('publishes every waiting run while no runner is known', async () => {
    const a = await job('A', await user(), 30);
    const b = await job('B', await user(), 3);
    expect(await round(null)).toEqual([...Array(30).fill('A'), ...Array(3).fill('B')]);
    expect(Object.keys(await ordersInRuns(nats.nc, nats.topology, a))).toHaveLength(30);
    expect(Object.keys(await ordersInRuns(nats.nc, nats.topology, b))).toHaveLength(3);
  });

  it("holds the runs of a user whose month's spend reached their cap, and says why", async () => {
    const capped = await user({ monthlySpendCapUsd: 1 });
    await job('spent', capped, 1);
    expect(await round(1)).toEqual(['spent']);
    const held = await job('held', capped, 3);
    await finish('spent', 1.25);
    await job('other', await user(), 1);
    expect(await round(5)).toEqual(['other']);
    expect(await quotaHold(db, capped)).toMatch(/^queued runs held: the creator's spend this month \(\$1\.25\) reached their monthly cap of \$1\.00/);
    expect(await db.run.count({ where: { jobId: held, status: 'QUEUED', dispatchedAt: null } })).toBe(3);
    // Raised: they go out.
    await db.user.update({ where: { id: capped }, data: { monthlySpendCapUsd: 2 } });
    expect(await round(5)).toEqual(['held', 'held', 'held']);
  });
});

describe('pools', () => {
  it("publishes a run only under its pool and only while a runner serving that pool has a free slot", async () => {
    const windowsTask = (await db.task.create({
      data: { contentHash: 'e'.repeat(64), name: 'win', instruction: 'x', sizeBytes: 1n, fileCount: 1, metadata: { environment: { os: 'Windows' } } },
    })).id;
    const gpuTask = (await db.task.create({
      data: { contentHash: 'd'.repeat(64), name: 'gpu', instruction: 'x', sizeBytes: 1n, fileCount: 1, metadata: { environment: { gpus: 1 } } },
    })).id;
    const creator = await user();
    const launch = async (label: string, taskIds: string[], environmentType: string) => {
      const { id } = await createJob({ db, secretsKey: null }, { taskIds, agent: 'oracle', runsPerTask: 2, createdById: creator, harbor: { environmentType } as never });
      for (const r of await db.run.findMany({ where: { jobId: id }, select: { id: true } })) labels.set(r.id, label);
      return id;
    };
    const daytona = await launch('daytona', [taskId], 'daytona');
    const windows = await launch('windows', [windowsTask], 'docker');
    const gpu = await launch('modal-gpu', [gpuTask], 'modal');

    // A docker-only runner with free slots takes none of them: they wait QUEUED, not in RUNS.
    expect(await round(5, ['docker'])).toEqual([]);
    expect(await round(5, ['docker', 'daytona'])).toEqual(['daytona', 'daytona']);
    expect(await round(5, ['docker_windows', 'modal_gpu'])).toEqual(['modal-gpu', 'modal-gpu', 'windows', 'windows']);

    const subjects = async (jobId: string) => Object.keys(await ordersInRuns(nats.nc, nats.topology, jobId)).map((s) => s.split('.').slice(-4, -2).join('.'));
    expect(await subjects(daytona)).toEqual(['runs.daytona', 'runs.daytona']);
    expect(await subjects(windows)).toEqual(['runs.docker_windows', 'runs.docker_windows']);
    expect(await subjects(gpu)).toEqual(['runs.modal_gpu', 'runs.modal_gpu']);
  });
});

describe('launch on pools', () => {
  it('refuses tasks no runner could ever run in the type (a Windows task in modal), and reads a gpus that is not a number as none', async () => {
    const windowsTask = (await db.task.create({
      data: { contentHash: 'c'.repeat(64), name: 'win-2', instruction: 'x', sizeBytes: 1n, fileCount: 1, metadata: { environment: { os: 'windows', gpus: 'two' } } },
    })).id;
    await expect(createJob({ db, secretsKey: null }, { taskIds: [windowsTask], agent: 'oracle', runsPerTask: 1, harbor: { environmentType: 'modal' } as never })).rejects.toThrow(
      /these tasks cannot run in modal: win-2: Harbor runs Windows tasks only in docker \(on a Windows host\) or use-computer, not modal/,
    );
    const { id } = await createJob({ db, secretsKey: null }, { taskIds: [windowsTask], agent: 'oracle', runsPerTask: 1 });
    labels.set((await db.run.findFirstOrThrow({ where: { jobId: id } })).id, 'win-docker');
    expect(await round(2, ['docker_windows'])).toEqual(['win-docker']);
  });
});
