// Every outcome the Harbor simulator can play, end to end: a task uploaded with its scenario in
// `.harbor-sim`, a job launched through GraphQL, a real runner process running the simulator, and
// the run recorded with its status, failure kind, exception type and message. Also the runner's
// own branches: Harbor failing without a result, an unreadable result.json, a user cancel whose
// cleanup outlasts the cancel grace (SIGKILL), the wall-clock guard (stopped, and killed), and
// Docker's pre-flight failing (the run is handed back, the runner degrades).
import { waitFor } from 'runner/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { graphql, type TestApp } from './support/app.js';
import { readLedger, type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

/** The runner's grace after SIGTERM and its wall-clock slack, short so the kill branches run in seconds. */
const RUNNER = { RUNNER_CANCEL_GRACE_MS: '1500', RUNNER_WALL_CLOCK_SLACK_MS: '1500' };
/** A cleanup far longer than the grace: the runner has to SIGKILL. */
const SLOW_CLEANUP = { HARBOR_SIM_CANCEL_DELAY_MS: '60000' };

interface Row {
  scenario: string;
  sim: Record<string, string>;
  /** How the test ends the run, if Harbor does not end it by itself. */
  end?: 'cancel';
  status: string;
  failureKind: string | null;
  exceptionType: string | null;
  message: RegExp | null;
}

/** One job, every run's outcome decided by its task. */
const ONE_JOB: Row[] = [
  { scenario: 'pass', sim: {}, status: 'PASSED', failureKind: null, exceptionType: null, message: null },
  { scenario: 'fail', sim: {}, status: 'FAILED', failureKind: null, exceptionType: null, message: null },
  { scenario: 'agent-timeout', sim: {}, status: 'FAILED', failureKind: 'AGENT', exceptionType: 'AgentTimeoutError', message: /^Agent execution timed out after 0\.1 seconds$/ },
  { scenario: 'rate-limit', sim: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'ApiRateLimitError', message: /Rate limit exceeded by the model provider \(HTTP 429\)/ },
  { scenario: 'reward-missing', sim: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'RewardFileNotFoundError', message: /^No reward file found at .*verifier\/reward\.txt/ },
  { scenario: 'infra-error', sim: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'RuntimeError', message: /^Docker compose command failed for environment / },
  { scenario: 'env-timeout', sim: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'EnvironmentStartTimeoutError', message: /^Environment start timed out after 0\.1 seconds$/ },
  { scenario: 'preflight-crash', sim: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'HarborFailed', message: /^Harbor exited with status 1 without a trial result:[\s\S]*ValueError: Environment variable 'SIM_MISSING_VARIABLE'/ },
  { scenario: 'crash', sim: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'HarborFailed', message: /^Harbor exited with status 137 without a trial result/ },
  { scenario: 'result-malformed', sim: { HARBOR_SIM_RESULT: 'malformed' }, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'ResultUnreadable', message: /^Harbor's trial result\.json cannot be read: trial result\.json: / },
  { scenario: 'result-truncated', sim: { HARBOR_SIM_RESULT: 'truncated' }, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'ResultUnreadable', message: /^Harbor's trial result\.json cannot be read: trial result\.json is not valid JSON/ },
  { scenario: 'hang, cancelled', sim: {}, end: 'cancel', status: 'CANCELLED', failureKind: null, exceptionType: 'CancelledError', message: /^(cancelled by a user)?$/ },
  { scenario: 'hang, cancelled, SIGKILL after the grace', sim: SLOW_CLEANUP, end: 'cancel', status: 'CANCELLED', failureKind: null, exceptionType: 'CancelledError', message: /^cancelled by a user$/ },
];

/** A job whose timeouts are scaled down so far that the runner's wall-clock guard is ~1.8 s. */
const WALL_CLOCK: Row[] = [
  { scenario: 'hang, wall-clock guard', sim: {}, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'WallClockExceeded', message: /^the trial ran past the runner's wall-clock guard \(2 s\) and was stopped$/ },
  { scenario: 'hang, wall-clock guard, SIGKILL after the grace', sim: SLOW_CLEANUP, status: 'ERRORED', failureKind: 'INFRASTRUCTURE', exceptionType: 'WallClockExceeded', message: /^the trial ran past the runner's wall-clock guard \(2 s\) and was killed$/ },
];

const RUNS = `query($id: ID!) { job(id: $id) { status runs(first: 100) { edges { node { id status reward failureKind exceptionType exceptionMessage task { name } } } } } }`;
const RUNNERS = `{ runners { id state degradedReason } }`;
const CANCEL_RUN = `mutation($id: ID!) { cancelRun(id: $id) { __typename ... on Error { message } } }`;

const scenarioOf = (row: Row) => row.sim.HARBOR_SIM_SCENARIO ?? (row.scenario.startsWith('hang') ? 'hang' : row.scenario.startsWith('result-') ? 'pass' : row.scenario);
const taskName = (row: Row) => `sim-${row.scenario.replace(/[^a-z]+/g, '-').replace(/-$/, '')}`;

async function uploadAll(rows: Row[]): Promise<string[]> {
  const ids: string[] = [];
  for (const row of rows) ids.push(await h.simulatedTask(taskName(row), { HARBOR_SIM_SCENARIO: scenarioOf(row), ...row.sim }));
  return ids;
}

async function runsOf(jobId: string): Promise<Map<string, any>> {
  const job = (await graphql(api.url, RUNS, { id: jobId })).data.job;
  return new Map(job.runs.edges.map((e: any) => [e.node.task.name, e.node]));
}

/** Cancels each run once its trial has started (the simulator's ledger says so). */
async function cancelWhenStarted(jobId: string, rows: Row[]): Promise<void> {
  for (const row of rows.filter((r) => r.end === 'cancel')) {
    const run = await waitFor(async () => {
      const r = (await runsOf(jobId)).get(taskName(row));
      const started = (await readLedger(h.ledger)).some((e) => e.kind === 'start' && e.runId === r?.id);
      return started && r;
    }, { what: `${row.scenario}: the trial to start`, timeoutMs: 30_000, intervalMs: 100 });
    const cancelled = await graphql(api.url, CANCEL_RUN, { id: run.id });
    expect(cancelled.data.cancelRun.__typename, row.scenario).toBe('MutationCancelRunSuccess');
  }
}

function check(rows: Row[], runs: Map<string, any>, table: string[][]): void {
  for (const row of rows) {
    const run = runs.get(taskName(row));
    table.push([row.scenario, run.status, run.failureKind ?? '—', run.exceptionType ?? '—', (run.exceptionMessage ?? '—').split('\n')[0].slice(0, 110)]);
    expect.soft({ status: run.status, failureKind: run.failureKind, exceptionType: run.exceptionType }, row.scenario).toEqual({
      status: row.status,
      failureKind: row.failureKind,
      exceptionType: row.exceptionType,
    });
    if (row.message) expect.soft(run.exceptionMessage, row.scenario).toMatch(row.message);
    else if (row.exceptionType === null) expect.soft(run.exceptionMessage, row.scenario).toBeNull();
  }
}

function printTable(table: string[][]): void {
  const head = ['scenario', 'status', 'failure kind', 'exception type', 'message (first line)'];
  const lines = [head, ...table].map((cells) => `| ${cells.join(' | ')} |`);
  lines.splice(1, 0, `|${head.map(() => '---').join('|')}|`);
  console.log(`End-to-end outcomes (upload → launch → runner → recorded run):\n${lines.join('\n')}`);
}

describe('every simulated outcome, end to end through a runner', () => {
  const table: string[][] = [];
  afterAll(() => printTable(table));

  it('records each scenario of one job, and the runner-side stops, with status, failure kind, exception and message', async () => {
    const [oneJob, wallClock] = [await uploadAll(ONE_JOB), await uploadAll(WALL_CLOCK)];
    const runner = h.startRunner('runner-outcomes', ONE_JOB.length + WALL_CLOCK.length, RUNNER);
    await runner.waitFor(/ready/);

    const jobId = await h.createJob({ taskIds: oneJob, agent: 'oracle', runsPerTask: 1 });
    const guarded = await h.createJob({ taskIds: wallClock, agent: 'oracle', runsPerTask: 1, harbor: { timeoutMultiplier: 0.0001 } });
    await cancelWhenStarted(jobId, ONE_JOB);
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 90_000);
    await h.waitForJob(guarded, (j) => j.status === 'COMPLETED', 90_000);
    check(ONE_JOB, await runsOf(jobId), table);
    check(WALL_CLOCK, await runsOf(guarded), table);

    // What the simulator's ledger says of how each Harbor process ended: a SIGKILL leaves no end.
    const ledger = await readLedger(h.ledger);
    const runs = new Map([...(await runsOf(jobId)), ...(await runsOf(guarded))]);
    const ended = (scenario: string) => {
      const runId = runs.get(taskName([...ONE_JOB, ...WALL_CLOCK].find((r) => r.scenario === scenario)!))!.id;
      return ledger.filter((e) => e.runId === runId).map((e) => (e.kind === 'end' ? e.how : e.kind));
    };
    expect(ended('hang, cancelled')).toEqual(['start', 'cancelled']);
    expect(ended('hang, cancelled, SIGKILL after the grace')).toEqual(['start']);
    expect(ended('hang, wall-clock guard')).toEqual(['start', 'cancelled']);
    expect(ended('hang, wall-clock guard, SIGKILL after the grace')).toEqual(['start']);
    await h.killRunners();
  }, 180_000);

  it("docker-down: Harbor's Docker pre-flight fails, the run is handed back and the runner degrades", async () => {
    await h.killRunners(); // only this test's runner may take the run
    const task = await h.simulatedTask('sim-docker-down', { HARBOR_SIM_SCENARIO: 'docker-down' });
    const runner = h.startRunner('runner-docker-down', 1, RUNNER);
    await runner.waitFor(/ready/);
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    const degraded = await waitFor(async () => {
      const r = (await graphql(api.url, RUNNERS)).data.runners.find((x: any) => x.id === 'runner-docker-down');
      return r?.state === 'DEGRADED' && r;
    }, { what: 'the runner to degrade', timeoutMs: 120_000, intervalMs: 200 });
    expect(degraded.degradedReason).toMatch(/Docker is not reachable for Harbor: Docker daemon is not running/);
    const run = (await runsOf(jobId)).get('sim-docker-down');
    table.push(['docker-down', run.status, run.failureKind ?? '—', run.exceptionType ?? '—', `runner DEGRADED: ${degraded.degradedReason.slice(0, 80)}`]);
    // Not the run's fault: it waits for a healthy runner instead of being recorded as failed.
    expect(run).toMatchObject({ status: 'QUEUED', failureKind: null, exceptionType: null });
    await h.killRunners();
  }, 180_000);
});
