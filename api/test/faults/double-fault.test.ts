// Fault (issue 14 item 3): an order is redelivered while its first copy is still finishing, then the
// runner holding the second copy is killed. On main before the fix the first copy's ack removed the
// order and its outcome was dropped as stale, so the run stayed RUNNING on a dead runner (later: was
// requeued and its trial run to the end a second time). Now the first copy's outcome is the run's
// result, the run is final, and no trial runs to the end twice.
//
// The redelivery is made deterministic with SIGSTOP instead of a NATS restart: runner A, stopped
// past its ack wait, stops extending the order, and JetStream hands it to runner B; A is resumed
// once B has started the trial again, and B is killed.
import { waitFor } from 'runner/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countFaults, NO_FAULTS, readLedger, settle, startFaultRig, type FaultRig } from '../support/faults.js';
import { readLedger as ledgerLines } from '../support/jobs.js';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig();
});
afterAll(() => rig?.close());

const ACK_WAIT_MS = 3_000;

describe('NATS redelivery while the first copy finishes, then SIGKILL of the second copy’s runner', () => {
  it('records the first copy’s outcome once; the run ends, no trial runs to the end twice', async () => {
    const h = rig.harness;
    const db = rig.database.db;
    // Four phases of 2.5 s: A's trial is still running when its order comes back after the ack wait.
    const task = await h.simulatedTask('double-fault', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '2500' });
    const settings = { RUNNER_ACK_WAIT_MS: String(ACK_WAIT_MS) };
    // A has one slot (it cannot take its own order back); B has two (one for the other run, one for the redelivery).
    const a = h.startRunner('double-a', 1, settings);
    await a.waitFor(/ready/);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
    const target = await waitFor(() => db.run.findFirst({ where: { jobId, runnerId: 'double-a', status: 'RUNNING' } }), {
      timeoutMs: 60_000,
      what: 'runner A to run a trial',
    });
    const b = h.startRunner('double-b', 2, settings);
    await b.waitFor(/ready/);
    await waitFor(async () => (await readLedger(h.ledger)).starts.get(target.id) === 1, { what: 'A’s trial to start' });

    a.child.kill('SIGSTOP');
    try {
      // Past the ack wait JetStream redelivers the order; B claims it and starts the same trial again.
      await waitFor(async () => (await readLedger(h.ledger)).starts.get(target.id) === 2, {
        timeoutMs: 10 * ACK_WAIT_MS,
        what: 'runner B to start the redelivered trial',
      });
    } finally {
      a.child.kill('SIGCONT');
    }
    b.child.kill('SIGKILL');
    await b.exited;

    // Not left RUNNING on the dead runner: final within a generous bound, every count exact.
    const settled = await settle(db, jobId, 120_000);
    expect(await countFaults(db, h.ledger, jobId, 2)).toEqual(NO_FAULTS);
    expect(settled).toBe(true);
    expect(await db.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ status: 'COMPLETED', runsPassed: 2 });

    // The target's trial ran to the end once, in A's first delivery, and that outcome is the run's.
    const lines = (await ledgerLines(h.ledger)).filter((l) => l.runId === target.id);
    expect(lines.filter((l) => l.how === 'finished').map((l) => l.jobName)).toEqual([`run-${target.id}-p1-d1`]);
    expect(await db.run.findUniqueOrThrow({ where: { id: target.id } })).toMatchObject({
      status: 'PASSED',
      runnerId: 'double-a',
      dispatch: 1,
      deliveryCount: 1,
    });
    // B's copy was cut short with B, not run to the end elsewhere.
    expect(lines.filter((l) => l.kind === 'start').map((l) => l.jobName)).toEqual([`run-${target.id}-p1-d1`, `run-${target.id}-p1-d2`]);
  }, 240_000);
});
