// Fair share end to end: a real runner process with one slot, the Harbor simulator, the API's own
// dispatcher reading the runner's heartbeat. User A's big job comes first, user B's 2-run job
// after; B's first run must be the next one a runner claims once A's running run is done.
import { describe, expect, it } from 'vitest';
import { createJob } from '../src/jobs/launch.js';
import { trackRunnerCapacity } from '../src/runners/capacity.js';
import { startTestApp, type TestApp } from './support/app.js';
import { jobHarness, type JobHarness } from './support/jobs.js';
import { waitFor } from 'runner/test-support';

describe('fair share with a real runner', () => {
  it.each([1, 2])("with %i slot(s), user B's first run is claimed within one slot turnover of user A's big job", async (slots) => {
    // A platform of its own per case: a killed runner's heartbeat outlives it, and the next case
    // would wait for it to expire before the capacity adds up.
    const api = await startTestApp({ services: true });
    const h = await jobHarness(api);
    try {
      await fairShareCase(api, h, slots);
    } finally {
      await h.close();
      await api.close();
    }
  }, 180_000);
});

async function fairShareCase(api: TestApp, h: JobHarness, slots: number): Promise<void> {
  const db = api.database.db;
  const task = await h.simulatedTask(`sim-fair-${slots}`, { HARBOR_SIM_SCENARIO: 'pass' });
  const [a, b] = await Promise.all(
    ['a', 'b'].map((who) => db.user.create({ data: { name: `fair-${who}-${slots}`, role: 'MEMBER' }, select: { id: true } })),
  );
  h.startRunner(`runner-fair-${slots}`, slots);
  // Capacity is known once the runner's heartbeat is there; before that everything would be published at once.
  const runners = await trackRunnerCapacity(api.nats.nc, api.nats.topology);
  await waitFor(() => runners.capacity()?.reduce((sum, r) => sum + r.slots, 0) === slots, { what: 'the runner heartbeat', timeoutMs: 60_000 });
  runners.stop();

  const bigRuns = 8;
  const big = await createJob({ db, secretsKey: null }, { taskIds: [task], agent: 'oracle', runsPerTask: bigRuns, createdById: a!.id });
  await waitFor(async () => (await db.run.count({ where: { jobId: big.id, claimedAt: { not: null } } })) >= slots, {
    what: "A's first runs to be claimed",
    timeoutMs: 60_000,
  });
  const small = await createJob({ db, secretsKey: null }, { taskIds: [task], agent: 'oracle', runsPerTask: 2, createdById: b!.id });

  for (const id of [big.id, small.id]) await h.waitForJob(id, (j) => j.status === 'COMPLETED', 120_000);
  const claims = await db.run.findMany({
    where: { jobId: { in: [big.id, small.id] } },
    orderBy: [{ claimedAt: 'asc' }],
    select: { jobId: true, claimedAt: true },
  });
  const order = claims.map((c) => (c.jobId === big.id ? 'A' : 'B'));
  // A holds every slot when B arrives; the next claim after one of them frees is B's.
  expect(order.indexOf('B')).toBe(slots);
  expect(order.filter((o) => o === 'B')).toHaveLength(2);
}
