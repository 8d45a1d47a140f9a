// Regrade and reward integrity end to end (issue 16 items 11-12): runner processes driving the
// Harbor simulator, through GraphQL and the exports.
import { chmod, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphql, type TestApp } from './support/app.js';
import { SIMULATOR, type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';
import { tb2Task, under, zip } from './support/task-zips.js';
import { uploadZips } from './support/upload.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

/**
 * Uploads a version of a task whose verifier runs in separate mode (Harbor regrades only those), its
 * simulated tests behaving as `sim` says; a second upload of one name is a newer version of it.
 */
async function uploadVersion(name: string, sim: Record<string, string>, separate = true): Promise<string> {
  const files = tb2Task(name);
  if (separate) files['task.toml'] = String(files['task.toml']).replace('[verifier]\n', '[verifier]\nenvironment_mode = "separate"\n');
  files['.harbor-sim'] = Object.entries(sim).map(([k, v]) => `${k}=${v}\n`).join('');
  const { body } = await uploadZips(api.url, [{ name: `${name}.zip`, bytes: await zip(under(name, files)) }]);
  const task = body.data.uploadTasks.data.files[0].tasks[0];
  if (!task.task) throw new Error(JSON.stringify(task));
  return task.task.id;
}

const REGRADE = `mutation($id: ID!, $which: RegradeSelection, $runIds: [ID!], $taskIds: [ID!]) {
  regradeRuns(jobId: $id, which: $which, runIds: $runIds, taskIds: $taskIds) {
    __typename ... on MutationRegradeRunsSuccess { data { status } } ... on Error { code message } } }`;

const FIGURES = `query($id: ID!) { job(id: $id) { status runsTotal runsPassed runsFailed runsErrored attemptsTotal replacedAttempts extraAttempts
  costUsd stats { passRate passed unverified scored bestOf extraAttempts passAtK { k value } } } }`;

const RUNS = `query($id: ID!) { job(id: $id) { runs(first: 100) { edges { node {
  id status reward attempt repeat attemptRole harborTrialDir exceptionType exceptionMessage failureKind costUsd inputTokens agentExecutionMs
  rewardFlag rewardFlagDetail regradeOf { id status } regrades { id status } regradeTask { id } } } } } }`;

const runsOf = async (jobId: string) => (await graphql(api.url, RUNS, { id: jobId })).data.job.runs.edges.map((e: any) => e.node);
const exported = async (jobId: string, query = '') =>
  (await (await fetch(new URL(`/jobs/${jobId}/runs.json${query}`, new URL(api.url).origin))).json()) as Record<string, unknown>[];

describe('regradeRuns', () => {
  it('re-runs only the verifier with the fixed task: FAILED → PASSED, and the statistics count one sample per attempt', async () => {
    const broken = await uploadVersion('sim-regrade', { HARBOR_SIM_SCENARIO: 'fail' });
    h.startRunner('runner-regrade', 2);
    const jobId = await h.createJob({ taskIds: [broken], agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 2 });
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    const before = (await graphql(api.url, FIGURES, { id: jobId })).data.job;
    expect(before, JSON.stringify(before)).toMatchObject({ runsTotal: 2, runsFailed: 2, runsPassed: 0, attemptsTotal: 2, stats: { passRate: 0, passed: 0, scored: 2 } });
    const originals = await runsOf(jobId);

    // The task's tests were wrong: a fixed version is uploaded under the same name, and the failures regraded with it.
    const fixed = await uploadVersion('sim-regrade', { HARBOR_SIM_SCENARIO: 'pass' });
    expect(fixed).not.toBe(broken);
    const { data } = await graphql(api.url, REGRADE, { id: jobId, which: 'FAILED' });
    expect(data.regradeRuns, JSON.stringify(data)).toMatchObject({ __typename: 'MutationRegradeRunsSuccess', data: { status: 'RUNNING' } });
    // A second request while they run adds nothing: each run has its regrade under way.
    expect((await graphql(api.url, REGRADE, { id: jobId, runIds: [originals[0].id] })).data.regradeRuns).toMatchObject({
      __typename: 'InvalidInputError',
      message: expect.stringContaining('not regradable'),
    });
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');

    const runs = await runsOf(jobId);
    const regrades = runs.filter((r: any) => r.regradeOf);
    expect(regrades).toHaveLength(2);
    for (const regrade of regrades) {
      const original = runs.find((r: any) => r.id === regrade.regradeOf.id);
      // Beside each other, both ways: the original verdict and the new one.
      expect(original).toMatchObject({ status: 'FAILED', attemptRole: 'REPLACED', regrades: [{ id: regrade.id, status: 'PASSED' }] });
      expect(regrade).toMatchObject({
        status: 'PASSED',
        reward: 1,
        attempt: 2,
        repeat: original.repeat,
        attemptRole: 'COUNTED',
        regradeOf: { id: original.id, status: 'FAILED' },
        regradeTask: { id: fixed },
        // Only the verifier ran: no agent phase, and no model spend of its own.
        agentExecutionMs: null,
        costUsd: null,
        inputTokens: null,
        rewardFlag: null,
      });
      expect(regrade.harborTrialDir).not.toBe(original.harborTrialDir);
      // Harbor's regrade trial holds the source's recorded agent output.
      await stat(path.join(h.jobsDir, regrade.harborTrialDir, 'agent/trajectory.json'));
    }

    // One sample per attempt, with the new verdict: counters, pass rate, pass@k; the job's spend unchanged.
    const after = (await graphql(api.url, FIGURES, { id: jobId })).data.job;
    expect(after, JSON.stringify(after)).toMatchObject({
      status: 'COMPLETED',
      runsTotal: 2,
      runsPassed: 2,
      runsFailed: 0,
      attemptsTotal: 4,
      replacedAttempts: 2,
      extraAttempts: 0,
      costUsd: before.costUsd,
      stats: { passRate: 1, passed: 2, scored: 2, bestOf: 1, extraAttempts: 0, passAtK: [{ k: 1, value: 1 }, { k: 2, value: 1 }] },
    });
    // The export counts the same: the two regrades, each naming its source.
    const rows = await exported(jobId);
    expect(rows.map((r) => [r.status, r.attemptRole, r.regradeTaskId])).toEqual([
      ['PASSED', 'COUNTED', fixed],
      ['PASSED', 'COUNTED', fixed],
    ]);
    expect(new Set(rows.map((r) => r.regradeOfId))).toEqual(new Set(originals.map((r: any) => r.id)));
    // Nothing FAILED is left to regrade.
    expect((await graphql(api.url, REGRADE, { id: jobId, which: 'FAILED' })).data.regradeRuns.data.status).toBe('COMPLETED');
  }, 120_000);

  it('on a Harbor without regrade, or a task Harbor cannot regrade, the regrade errors and the original keeps counting', async () => {
    await h.killRunners();
    const shared = await uploadVersion('sim-shared', { HARBOR_SIM_SCENARIO: 'fail' }, false);
    const separate = await uploadVersion('sim-old-harbor', { HARBOR_SIM_SCENARIO: 'fail' });
    // Harbor 0.22.0 has no regrade: a wrapper plays it (tests point HARBOR_BIN at one).
    const old = path.join(h.jobsDir, 'harbor-0.22');
    await writeFile(old, `#!/bin/sh\nHARBOR_SIM_NO_REGRADE=1 exec ${SIMULATOR} "$@"\n`);
    await chmod(old, 0o755);
    h.startRunner('runner-old', 2, { HARBOR_BIN: old });
    const jobId = await h.createJob({ taskIds: [shared, separate], agent: 'oracle', runsPerTask: 1 });
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    expect((await graphql(api.url, REGRADE, { id: jobId, which: 'ALL_FINISHED' })).data.regradeRuns.__typename).toBe('MutationRegradeRunsSuccess');
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    const regrades = (await runsOf(jobId)).filter((r: any) => r.regradeOf);
    expect(regrades.map((r: any) => [r.status, r.failureKind, r.exceptionType, r.attemptRole])).toEqual([
      ['ERRORED', 'INFRASTRUCTURE', 'RegradeNotPossible', 'EXTRA'],
      ['ERRORED', 'INFRASTRUCTURE', 'RegradeNotPossible', 'EXTRA'],
    ]);
    expect(regrades[0].exceptionMessage).toBe(
      'Harbor 0.22.0 cannot regrade: it has no `harbor job regrade` command (regrade needs a later Harbor release); the source run was not touched',
    );
    expect((await graphql(api.url, FIGURES, { id: jobId })).data.job).toMatchObject({ runsTotal: 2, runsFailed: 2, extraAttempts: 2, stats: { scored: 2 } });

    // A Harbor that has it refuses a task whose verifier shares the agent's environment, and says why.
    await h.killRunners();
    h.startRunner('runner-new', 2);
    const sharedRun = (await runsOf(jobId)).find((r: any) => !r.regradeOf && r.harborTrialDir.includes('/sim-shared__'));
    expect((await graphql(api.url, REGRADE, { id: jobId, runIds: [sharedRun.id] })).data.regradeRuns.__typename).toBe('MutationRegradeRunsSuccess');
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    const refused = (await runsOf(jobId)).find((r: any) => r.regradeOf?.id === sharedRun.id && r.attempt === 3);
    expect(refused).toMatchObject({ status: 'ERRORED', exceptionType: 'HarborFailed', attemptRole: 'EXTRA' });
    expect(refused.exceptionMessage).toContain('resolves to a shared-mode verifier');
  }, 120_000);
});

describe('reward integrity', () => {
  it('flags a run whose agent wrote verifier/reward.json: shown with the detail, unverified in the statistics, exported', async () => {
    await h.killRunners();
    h.startRunner('runner-cheat', 1);
    const cheat = await h.simulatedTask('sim-cheat', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_AGENT_WRITES_REWARD: '1' });
    const honest = await h.simulatedTask('sim-honest', { HARBOR_SIM_SCENARIO: 'pass' });
    const jobId = await h.createJob({ taskIds: [cheat, honest], agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 1 });
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');

    const runs = await runsOf(jobId);
    const flagged = runs.find((r: any) => r.harborTrialDir.includes('/sim-cheat__'));
    // Harbor scored it with the agent's reward.json (1.0); the verifier's reward.txt said 0.
    expect(flagged).toMatchObject({
      status: 'PASSED',
      reward: 1,
      rewardFlag: 'FILES_DISAGREE',
      rewardFlagDetail: 'verifier/reward.json says 1 but verifier/reward.txt says 0; Harbor scored the run with reward.json',
    });
    expect(runs.find((r: any) => r.harborTrialDir.includes('/sim-honest__'))).toMatchObject({ status: 'PASSED', rewardFlag: null });

    const figures = (await graphql(api.url, FIGURES, { id: jobId })).data.job;
    expect(figures.stats).toMatchObject({ scored: 2, passed: 1, unverified: 1, passRate: 0.5 });
    const rows = await exported(jobId);
    expect(rows.map((r) => r.rewardFlag).sort()).toEqual(['FILES_DISAGREE', null]);
  }, 60_000);
});
