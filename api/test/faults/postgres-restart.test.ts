// Fault: the PostgreSQL server restarts while trials run. The recorder and the dispatcher fail while
// it is down, and the API process lives through it: once the server is back (same port, same data),
// every outcome is recorded once, none is lost, nothing stays running, and no trial is run twice.
import { waitFor } from 'runner/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFaults, NO_FAULTS, settle, startFaultRig, startRunningJob, trialsEnded, type FaultRig } from '../support/faults.js';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig({ ownPostgres: true });
});
afterAll(() => rig?.close());

describe('PostgreSQL restart mid-job', () => {
  it('records every run once when PostgreSQL restarts while trials run, and the API process never exits', async () => {
    const h = rig.harness;
    const api = rig.api.current();
    // Trials of about 1.2 s, three waves on four slots.
    const jobId = await startRunningJob(rig, { name: 'pg-restart', runs: 10, runnerSettings: { RUNNER_ACK_WAIT_MS: '10000' } });

    // Down until the API has failed on it where it matters: the recorder applying an event that
    // arrived meanwhile (a trial ends during the outage) and the dispatcher's outbox poll.
    const endedBefore = await trialsEnded(h.ledger);
    const seenBefore = api.output().length;
    await rig.ownPostgres!.stop();
    const since = () => api.output().slice(seenBefore);
    await waitFor(async () => (await trialsEnded(h.ledger)) > endedBefore, { timeoutMs: 30_000, what: 'a trial to end while PostgreSQL is down' });
    await waitFor(() => /recorder \(.+\): .+; resuming in 1 s/.test(since()) && /dispatcher: .+; retrying/.test(since()), {
      timeoutMs: 60_000,
      what: 'the recorder and the dispatcher to fail on the database',
    });
    await rig.ownPostgres!.start();

    const settled = await settle(rig.database.db, jobId, 120_000);
    const counts = await countFaults(rig.database.db, h.ledger, jobId, 10);
    expect(counts).toEqual(NO_FAULTS);
    expect(settled).toBe(true);
    const job = await rig.database.db.job.findUniqueOrThrow({ where: { id: jobId } });
    expect(job).toMatchObject({ status: 'COMPLETED', runsPassed: 10 });
    // The same process throughout: it waited the outage out rather than dying or being restarted.
    expect(rig.api.current()).toBe(api);
    expect(api.child.exitCode).toBeNull();
    expect(api.child.signalCode).toBeNull();
    expect(since()).not.toMatch(/\[api\] unhandled/);
  }, 240_000);
});
