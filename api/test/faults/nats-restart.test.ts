// Fault: the NATS server restarts while trials run. Runners, the dispatcher and the recorder
// reconnect; every run is recorded once, none is lost or run twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from 'runner/test-support';
import { countFaults, NO_FAULTS, settle, startFaultRig, startRunningJob, trialsEnded, type FaultRig } from '../support/faults.js';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig();
});
afterAll(() => rig?.close());

describe('NATS restart mid-job', () => {
  it('records every run once when nats-server restarts while trials run', async () => {
    const h = rig.harness;
    // Trials of about 1.2 s, two waves on four slots; a short ack wait, so an order whose runner
    // lost track of it comes back within the bound.
    const jobId = await startRunningJob(rig, { name: 'nats-restart', runs: 8, runnerSettings: { RUNNER_ACK_WAIT_MS: '10000' } });

    // Down while at least one trial ends, so its outcome meets no server; then up on the same port and store.
    const endedBefore = await trialsEnded(h.ledger);
    await rig.ownNats.stop('SIGTERM');
    await waitFor(async () => (await trialsEnded(h.ledger)) > endedBefore, { timeoutMs: 30_000, what: 'a trial to end while NATS is down' });
    await rig.ownNats.start();

    const settled = await settle(rig.database.db, jobId, 90_000);
    const counts = await countFaults(rig.database.db, h.ledger, jobId, 8);
    expect(counts).toEqual(NO_FAULTS);
    expect(settled).toBe(true);
    const job = await rig.database.db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ status: 'COMPLETED', runsPassed: 8 });
  }, 180_000);
});
