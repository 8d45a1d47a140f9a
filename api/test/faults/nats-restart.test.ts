// Fault: the NATS server restarts while trials run. Runners, the dispatcher and the recorder
// reconnect; every run is recorded once, none is lost or run twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFaults, NO_FAULTS, readLedger, settle, startFaultRig, type FaultRig } from '../support/faults.js';
import { waitFor } from 'runner/test-support';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig();
});
afterAll(() => rig?.close());

const endsIn = async (file: string) => [...(await readLedger(file)).ends.values()].reduce((n, e) => n + e, 0);

describe('NATS restart mid-job', () => {
  it('records every run once when nats-server restarts while trials run', async () => {
    const h = rig.harness;
    // Four phases of 300 ms: trials of about 1.2 s, two waves on four slots.
    const task = await h.simulatedTask('nats-restart', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '300' });
    // A short ack wait, so an order whose runner lost track of it comes back within the bound.
    const settings = { RUNNER_ACK_WAIT_MS: '10000' };
    const runners = [h.startRunner('restart-a', 2, settings), h.startRunner('restart-b', 2, settings)];
    await Promise.all(runners.map((r) => r.waitFor(/ready/)));
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 8 });
    await waitFor(async () => (await rig.database.db.run.count({ where: { jobId, status: 'RUNNING' } })) >= 2, {
      timeoutMs: 60_000,
      what: 'two trials running',
    });

    // Down while at least one trial ends, so its outcome meets no server; then up on the same port and store.
    const endedBefore = await endsIn(h.ledger);
    await rig.ownNats.stop('SIGTERM');
    await waitFor(async () => (await endsIn(h.ledger)) > endedBefore, { timeoutMs: 30_000, what: 'a trial to end while NATS is down' });
    await rig.ownNats.start();

    const settled = await settle(rig.database.db, jobId, 90_000);
    const counts = await countFaults(rig.database.db, h.ledger, jobId, 8);
    expect(counts).toEqual(NO_FAULTS);
    expect(settled).toBe(true);
    const job = await rig.database.db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ status: 'COMPLETED', runsPassed: 8 });
  }, 180_000);
});
