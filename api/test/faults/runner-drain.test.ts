// Fault: a runner is told to go (SIGTERM once). It finishes the trial it runs, which is recorded,
// and takes no new order; another runner takes the rest.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFaults, NO_FAULTS, readLedger, settle, startFaultRig, type FaultRig } from '../support/faults.js';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig();
});
afterAll(() => rig?.close());

describe('runner drain', () => {
  it('drains on SIGTERM: the running trial finishes and is recorded, no new order is taken', async () => {
    const h = rig.harness;
    const task = await h.simulatedTask('sim-drain', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '300' });
    const draining = h.startRunner('runner-drain', 1);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    await h.waitForJob(jobId, (j) => j.runsRunning === 1, 30_000);
    draining.child.kill('SIGTERM');

    expect((await draining.exited).code).toBe(0);
    expect(draining.output()).toMatch(/SIGTERM: finishing 1 running trial/);
    const afterDrain = await h.waitForJob(jobId, (j) => j.runsPassed === 1);
    expect(afterDrain).toMatchObject({ status: 'RUNNING', runsQueued: 1, runsRunning: 0 });
    // The drained runner ran exactly one trial.
    expect((await readLedger(h.ledger)).starts.size).toBe(1);

    h.startRunner('runner-after-drain', 1);
    const settled = await settle(rig.database.db, jobId, 60_000);
    expect(await countFaults(rig.database.db, h.ledger, jobId, 2)).toEqual(NO_FAULTS);
    expect(settled).toBe(true);
    const runs = await rig.database.db.run.findMany({ where: { jobId }, select: { status: true, runnerId: true } });
    expect(runs.map((r) => `${r.runnerId} ${r.status}`).sort()).toEqual(['runner-after-drain PASSED', 'runner-drain PASSED']);
  }, 120_000);
});
