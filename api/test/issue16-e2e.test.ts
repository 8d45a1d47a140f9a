// Issue 16's pieces together, end to end (upload → job → a real runner driving the simulator → the
// recorded run over GraphQL): a multi-step task with its per-step rewards, a Terminal-Bench 1 task
// converted on upload and run by the oracle, Windows and GPU tasks waiting for a runner that serves
// them, a regrade of a multi-step run refused as Harbor refuses it, and a run flagged for an
// agent-written reward regraded by its separate-mode verifier.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerfileTask } from '../src/tasks/tb1/fixtures.js';
import { graphql, type TestApp } from './support/app.js';
import { type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';
import { tb2Task, under, zip, type FileTree } from './support/task-zips.js';
import { uploadZips } from './support/upload.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

/** Uploads one task folder as a zip; returns the task's id (fails with the upload's answer otherwise). */
async function upload(name: string, files: FileTree): Promise<string> {
  const { body } = await uploadZips(api.url, [{ name: `${name}.zip`, bytes: await zip(under(name, files)) }]);
  const task = body.data?.uploadTasks?.data?.files?.[0]?.tasks?.[0];
  if (!task?.task) throw new Error(`${name}: ${JSON.stringify(body)}`);
  return task.task.id;
}

const RUN = `query($id: ID!) { run(id: $id) { id status reward failureKind exceptionType exceptionMessage runnerId harborTrialDir
  stepResults { name reward exceptionType } task { name convertedFrom steps { name } } } }`;
const STEP_FILES = `query($id: ID!) { run(id: $id) { testsTotal testsNote tests { name status } agentLogs { path step } } }`;
const JOB = `query($id: ID!) { job(id: $id) { status waitingForRunner runs(first: 10) { edges { node { id status runnerId } } } } }`;
const REGRADE = `mutation($id: ID!, $which: RegradeSelection, $runIds: [ID!]) { regradeRuns(jobId: $id, which: $which, runIds: $runIds) {
  __typename ... on MutationRegradeRunsSuccess { data { status runsTotal } } ... on Error { code message } } }`;

const runOf = async (jobId: string) => {
  const job = await h.waitForJob(jobId, (j) => j.status === 'COMPLETED', 60_000);
  return (await graphql(api.url, RUN, { id: job.runs.edges[0].node.id })).data.run;
};

/** A multi-step task as authors write one: numbered steps, a step name with '_' and '.', '…' strings, comments. */
const MULTI_STEP: FileTree = {
  'task.toml': [
    'schema_version = "1.4"',
    'multi_step_reward_strategy = "mean"',
    '',
    '[metadata]',
    'author_name = "Test Author"',
    'difficulty = "medium"',
    'category = "software-engineering"',
    '',
    '[environment]',
    'docker_image = "example/notes-app:1"',
    '',
    '[[steps]]',
    'name = "01-model"  # the data model first',
    '[steps.agent]',
    'timeout_sec = 600.0',
    '',
    '[[ steps ]]',
    "name = '02_api.v2'",
    '[steps.verifier]',
    'timeout_sec = 120.0',
    '',
  ].join('\n'),
  'environment/Dockerfile': 'FROM python:3.13-slim-bookworm\nWORKDIR /app\n',
  'tests/test.sh': '#!/bin/bash\npytest /tests -rA && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
  'steps/01-model/instruction.md': '# Model\n\nWrite a `Note` dataclass in notes.py.\n',
  'steps/01-model/tests/test_model.py': 'def test_note():\n    assert True\n',
  'steps/01-model/solution/solve.sh': '#!/bin/bash\necho "class Note: pass" > notes.py\n',
  'steps/02_api.v2/instruction.md': '# API\n\nServe the notes over HTTP on port 8000.\n',
  'steps/02_api.v2/tests/test.sh': '#!/bin/bash\ncurl -sf localhost:8000/notes && echo 1 > /logs/verifier/reward.txt || echo 0 > /logs/verifier/reward.txt\n',
  'steps/02_api.v2/solution/solve.sh': '#!/bin/bash\ntouch api.py\n',
  '.harbor-sim': 'HARBOR_SIM_STEP_REWARDS=1,0.5\n',
};

describe('issue 16 end to end', () => {
  it("a multi-step task: each step's reward on the run, their mean as its reward, its steps on the task; regrade refuses it", async () => {
    const taskId = await upload('notes-app', MULTI_STEP);
    h.startRunner('runner-steps', 1);
    const jobId = await h.createJob({ taskIds: [taskId], agent: 'oracle', runsPerTask: 1 });
    const run = await runOf(jobId);
    expect(run.task).toEqual({ name: 'notes-app', convertedFrom: null, steps: [{ name: '01-model' }, { name: '02_api.v2' }] });
    expect(run.stepResults).toEqual([
      { name: '01-model', reward: 1, exceptionType: null },
      { name: '02_api.v2', reward: 0.5, exceptionType: null },
    ]);
    expect(run).toMatchObject({ status: 'FAILED', reward: 0.75, exceptionType: null });

    // Harbor files each step's agent/, verifier/ and artifacts/ under steps/<name>/: an artifacts/manifest.json per step, a list of entries.
    for (const step of ['01-model', '02_api.v2']) {
      const manifest = JSON.parse(await readFile(path.join(h.jobsDir, run.harborTrialDir, 'steps', step, 'artifacts/manifest.json'), 'utf8'));
      expect(manifest).toEqual([expect.objectContaining({ source: '/logs/artifacts', destination: 'artifacts', type: 'directory' })]);
    }
    // The run's tests are every step's, named by step, read from the steps' verifier folders; the agent's logs are the steps'.
    const files = (await graphql(api.url, STEP_FILES, { id: run.id })).data.run;
    expect(files.testsNote).toMatch(/^tests of 2 steps, named <step>\/<test>; step 01-model: read from verifier\//);
    expect(new Set(files.tests.map((t: { name: string }) => t.name.split('/')[0]))).toEqual(new Set(['01-model', '02_api.v2']));
    expect(files.testsTotal).toBe(files.tests.length);
    expect(files.agentLogs).toEqual([
      { path: 'steps/01-model/agent/oracle.txt', step: '01-model' },
      { path: 'steps/02_api.v2/agent/oracle.txt', step: '02_api.v2' },
    ]);

    // Harbor's regrade re-runs a single-step verifier only: asked by id it is refused, by `which` left out.
    const byId = (await graphql(api.url, REGRADE, { id: jobId, runIds: [run.id] })).data.regradeRuns;
    expect(byId).toMatchObject({ __typename: 'InvalidInputError', message: expect.stringContaining('a run of a multi-step task') });
    const all = (await graphql(api.url, REGRADE, { id: jobId, which: 'ALL_FINISHED' })).data.regradeRuns;
    expect(all).toMatchObject({ __typename: 'MutationRegradeRunsSuccess', data: { status: 'COMPLETED', runsTotal: 1 } });
    await h.killRunners();
  }, 90_000);

  it("a run flagged for an agent-written reward, its verifier in separate mode, is regraded: the verifier's own verdict replaces it", async () => {
    const files = tb2Task('sim-flagged');
    files['task.toml'] = String(files['task.toml']).replace('[verifier]\n', '[verifier]\nenvironment_mode = "separate"\n');
    files['.harbor-sim'] = 'HARBOR_SIM_SCENARIO=fail\nHARBOR_SIM_AGENT_WRITES_REWARD=1\n';
    const taskId = await upload('sim-flagged', files);
    h.startRunner('runner-flagged', 1);
    const jobId = await h.createJob({ taskIds: [taskId], agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 1 });
    const flagged = await runOf(jobId);
    expect(flagged).toMatchObject({ status: 'PASSED', reward: 1 });
    const FLAGS = `query($id: ID!) { run(id: $id) { status reward rewardFlag attemptRole regradeOf { id } regrades { id status reward rewardFlag } } }`;
    expect((await graphql(api.url, FLAGS, { id: flagged.id })).data.run.rewardFlag).toBe('FILES_DISAGREE');

    expect((await graphql(api.url, REGRADE, { id: jobId, runIds: [flagged.id] })).data.regradeRuns.__typename).toBe('MutationRegradeRunsSuccess');
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    const after = (await graphql(api.url, FLAGS, { id: flagged.id })).data.run;
    // The verifier alone wrote the regrade's reward: 0, unflagged; it now counts instead of the flagged verdict.
    expect(after).toMatchObject({ rewardFlag: 'FILES_DISAGREE', attemptRole: 'REPLACED', regrades: [{ status: 'FAILED', reward: 0, rewardFlag: null }] });
    await h.killRunners();
  }, 90_000);

  it('a Terminal-Bench 1 task, converted on upload, runs with the oracle and passes', async () => {
    const taskId = await upload('hello-tb1', dockerfileTask());
    // What Harbor loads from the converted package (the simulator refuses a package without them).
    const { contentHash } = await api.database.db.task.findUniqueOrThrow({ where: { id: taskId }, select: { contentHash: true } });
    const dir = path.join(api.tasksDir, contentHash, 'hello-tb1');
    for (const file of ['task.toml', 'instruction.md', 'tests/test.sh', 'solution/solve.sh', 'environment/Dockerfile']) await stat(path.join(dir, file));
    h.startRunner('runner-tb1', 1);
    const run = await runOf(await h.createJob({ taskIds: [taskId], agent: 'oracle', runsPerTask: 1 }));
    expect(run).toMatchObject({ status: 'PASSED', reward: 1, exceptionType: null, task: { name: 'hello-tb1', convertedFrom: 'TB1', steps: null } });
    await h.killRunners();
  }, 90_000);

  it('Windows and GPU tasks wait, saying why, while the only runner serves plain docker; a runner that serves them takes them', async () => {
    const windows = tb2Task('win-build');
    windows['task.toml'] = String(windows['task.toml']).replace('[environment]\n', '[environment]\nos = "windows"\n');
    delete windows['tests/test.sh'];
    delete windows['solution/solve.sh'];
    windows['tests/test.bat'] = '@echo off\r\npython -m pytest C:\\tests\\test_outputs.py\r\n';
    windows['solution/solve.bat'] = '@echo off\r\necho solved\r\n';
    const gpu = tb2Task('gpu-train');
    gpu['task.toml'] = String(gpu['task.toml']).replace('[environment]\n', '[environment]\ngpus = 1\n');
    const [winId, gpuId, plainId] = [await upload('win-build', windows), await upload('gpu-train', gpu), await upload('plain', tb2Task('plain'))];

    h.startRunner('runner-plain', 2);
    const winJob = await h.createJob({ taskIds: [winId], agent: 'oracle', runsPerTask: 1 });
    const gpuJob = await h.createJob({ taskIds: [gpuId], agent: 'oracle', runsPerTask: 1 });
    // The plain runner is pulling: a docker job of its own kind goes through meanwhile.
    await runOf(await h.createJob({ taskIds: [plainId], agent: 'oracle', runsPerTask: 1 }));
    const waiting = async (id: string) => (await graphql(api.url, JOB, { id })).data.job;
    expect(await waiting(winJob)).toMatchObject({
      status: 'QUEUED',
      waitingForRunner: 'waiting for a runner that can serve docker (Windows)',
      runs: { edges: [{ node: { status: 'QUEUED', runnerId: null } }] },
    });
    expect(await waiting(gpuJob)).toMatchObject({ status: 'QUEUED', waitingForRunner: 'waiting for a runner that can serve docker (GPU)' });

    h.startRunner('runner-windows', 1, { RUNNER_WINDOWS: '1' });
    expect(await runOf(winJob)).toMatchObject({ status: 'PASSED', runnerId: 'runner-windows' });
    expect(await waiting(gpuJob)).toMatchObject({ status: 'QUEUED', waitingForRunner: 'waiting for a runner that can serve docker (GPU)' });
    h.startRunner('runner-gpu', 1, { RUNNER_GPUS: '1' });
    expect(await runOf(gpuJob)).toMatchObject({ status: 'PASSED', runnerId: 'runner-gpu' });
    expect((await waiting(gpuJob)).waitingForRunner).toBeNull();
    await h.killRunners();
  }, 120_000);
});
