// Fault (issue 14 item 3): an order is redelivered while its first copy is still finishing, then the
// runner holding the second copy is killed. On main before the fix the first copy's ack removed the
// order and its outcome was dropped as stale, so the run stayed RUNNING on a dead runner (later: was
// requeued and its trial run to the end a second time). Now the first copy's outcome is the run's
// result, the run is final, and no trial runs to the end twice.
//
// The redelivery is made deterministic with SIGSTOP instead of a NATS restart: runner A, stopped
// past its ack wait, stops extending the order, and JetStream hands it to runner B; A is resumed
// once B has started the trial again; then B is killed (the double fault) or left alone (the first
// copy's outcome must stop it).
import { access } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from 'runner/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { countFaults, NO_FAULTS, readLedger, settle, startFaultRig, type FaultRig } from '../support/faults.js';
import { readLedger as ledgerLines } from '../support/jobs.js';

let rig: FaultRig;

beforeAll(async () => {
  rig = await startFaultRig();
});
afterAll(() => rig?.close());
// Each test chooses its runners A and B.
afterEach(() => rig.harness.killRunners());

const ACK_WAIT_MS = 3_000;

/** Whether a runner keeps an outcome of the run in JOBS_DIR (runner/src/outcomes.ts). */
const kept = (runId: string) => access(path.join(rig.harness.jobsDir, '.runner', 'outcomes', `${runId}.json`)).then(
  () => true,
  () => false,
);

/** Runner A runs a trial; stopped past its ack wait, its order goes to runner B, which starts the trial again; then A resumes. */
async function redeliverWhileFinishing(name: string) {
  const h = rig.harness;
  const db = rig.database.db;
  // Four phases of 2.5 s: A's trial is still running when its order comes back after the ack wait.
  const task = await h.simulatedTask(name, { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '2500' });
  const settings = { RUNNER_ACK_WAIT_MS: String(ACK_WAIT_MS) };
  // A has one slot (it cannot take its own order back); B has two (one for the other run, one for the redelivery).
  const a = h.startRunner(`${name}-a`, 1, settings);
  await a.waitFor(/ready/);
  const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
  const target = await waitFor(() => db.run.findFirst({ where: { jobId, runnerId: `${name}-a`, status: 'RUNNING' } }), {
    timeoutMs: 60_000,
    what: 'runner A to run a trial',
  });
  const b = h.startRunner(`${name}-b`, 2, settings);
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
  return { a, b, jobId, runId: target.id };
}

/** Settles the job of two runs with no fault; the run's trial ran to the end once, in A's delivery, whose outcome is the run's. */
async function expectFirstCopyKept(name: string, jobId: string, runId: string) {
  const db = rig.database.db;
  const settled = await settle(db, jobId, 120_000);
  expect(await countFaults(db, rig.harness.ledger, jobId, 2)).toEqual(NO_FAULTS);
  expect(settled).toBe(true);
  expect(await db.job.findUniqueOrThrow({ where: { id: jobId } })).toMatchObject({ status: 'COMPLETED', runsPassed: 2 });
  const lines = (await ledgerLines(rig.harness.ledger)).filter((l) => l.runId === runId);
  expect(lines.filter((l) => l.how === 'finished').map((l) => l.jobName)).toEqual([`run-${runId}-p1-d1`]);
  expect(lines.filter((l) => l.kind === 'start').map((l) => l.jobName)).toEqual([`run-${runId}-p1-d1`, `run-${runId}-p1-d2`]);
  expect(await db.run.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({ status: 'PASSED', runnerId: `${name}-a`, dispatch: 1, deliveryCount: 1 });
  return lines;
}

describe('an order redelivered while its first copy is still finishing', () => {
  it('then SIGKILL of the second copy’s runner: the run ends, the first copy’s outcome is recorded once, no trial runs to the end twice', async () => {
    const { b, jobId, runId } = await redeliverWhileFinishing('double-fault');
    b.child.kill('SIGKILL');
    await b.exited;
    // Not left RUNNING on the dead runner: final within a generous bound, every count exact.
    await expectFirstCopyKept('double-fault', jobId, runId);
  }, 240_000);

  it('with both runners alive: the second copy is stopped once the first finishes, not run to the end (no second model spend)', async () => {
    const { b, jobId, runId } = await redeliverWhileFinishing('redelivered');
    const lines = await expectFirstCopyKept('redelivered', jobId, runId);
    // B was told to stop: its Harbor cancelled the trial.
    expect(lines.filter((l) => l.kind === 'end').map((l) => `${l.jobName} ${l.how}`)).toEqual([
      `run-${runId}-p1-d1 finished`,
      `run-${runId}-p1-d2 cancelled`,
    ]);
    expect(b.child.exitCode).toBeNull();
    // Neither copy left its outcome behind in JOBS_DIR for a later delivery to find.
    await waitFor(async () => !(await kept(runId)), { what: `no kept outcome of run ${runId}` });
  }, 240_000);
});
