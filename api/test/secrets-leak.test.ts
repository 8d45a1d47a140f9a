// Keys never leave the runner in clear, and orders that would reach the host never run (issue 15
// items 7 and 8), with real runners, NATS and PostgreSQL and the Harbor simulator printing the key
// the ways a provider's auth error does (HARBOR_SIM_LEAK_SECRET).
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/transport-node';
import { encode, ensureStreams, orderMsgId, PROTOCOL_VERSION, type RunOrder } from 'runner/protocol';
import { seal } from 'runner/secrets';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { jobHarness, readLedger, type JobHarness } from './support/jobs.js';
import { waitFor } from 'runner/test-support';

const secretsKey = randomBytes(32);
const defaultKey = `sk-or-v1-default-${randomBytes(12).toString('hex')}`;
const ownKey = `sk-or-v1-own-${randomBytes(12).toString('hex')}`;
let api: TestApp;
let h: JobHarness;
let runner: ReturnType<JobHarness['startRunner']>;
/** Every message published under this test's prefix and every heartbeat put, as text. */
const seen: { subject: string; text: string }[] = [];
const subs: Subscription[] = [];

beforeAll(async () => {
  // Services start later: the first test publishes an order itself before the dispatcher could.
  api = await startTestApp({ services: false, secretsKey, defaultProviderKeys: [{ envVar: 'OPENROUTER_API_KEY', value: defaultKey }] });
  h = await jobHarness(api);
  for (const subject of [`${api.nats.prefix}.>`, `$KV.${api.nats.topology.runnersBucket}.>`]) {
    subs.push(api.nats.nc.subscribe(subject, { callback: (_err, msg) => void seen.push({ subject: msg.subject, text: msg.string() }) }));
  }
  await ensureStreams(await jetstreamManager(api.nats.nc), api.nats.topology);
  runner = h.startRunner('runner-secrets', 2, { SECRETS_KEY: secretsKey.toString('base64') });
});
afterAll(async () => {
  for (const sub of subs) sub.unsubscribe();
  if (process.env.DEBUG_RUNNER) console.log(runner?.output());
  await h?.close();
  await api?.close();
});

const RUNS = `query($id: ID!) { job(id: $id) { runs(first: 10) { edges { node { id status exceptionType exceptionMessage exceptionTraceback logUrl harborTrialDir } } } } }`;
const runsOf = async (jobId: string) => (await graphql(api.url, RUNS, { id: jobId })).data.job.runs.edges.map((e: any) => e.node);

it('a runner refuses hand-made orders whose secret would replace PATH, PYTHONPATH, LD_PRELOAD or DOCKER_HOST: the runs error, Harbor never starts', async () => {
  const task = await h.simulatedTask('sim-path', { HARBOR_SIM_SCENARIO: 'pass' });
  const hostile = ['PATH', 'PYTHONPATH', 'LD_PRELOAD', 'DOCKER_HOST'];
  const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: hostile.length });
  const runs = await api.database.db.run.findMany({ where: { jobId }, include: { task: true }, orderBy: { repeat: 'asc' } });
  const js = jetstream(api.nats.nc);
  for (const [i, run] of runs.entries()) {
    const envVar = hostile[i]!;
    const folder = `${api.tasksDir}/${run.task.contentHash}/${run.task.name}`;
    const value = { PATH: `${folder}/tests/bin:/usr/bin:/bin`, PYTHONPATH: `${folder}/tests`, LD_PRELOAD: `${folder}/tests/evil.so`, DOCKER_HOST: 'tcp://evil.example:2375' }[envVar]!;
    // What an attacker on NATS would publish: the task's own folder where the runner looks for code.
    const order: RunOrder = {
      v: PROTOCOL_VERSION,
      runId: run.id,
      jobId,
      taskId: run.taskId,
      taskName: run.task.name,
      taskDir: `${run.task.contentHash}/${run.task.name}`,
      repeat: run.repeat,
      attempt: 1,
      dispatch: 1,
      agent: 'oracle',
      model: null,
      harbor: { environmentType: 'docker', timeoutMultiplier: 1, agentTimeoutMultiplier: null, verifierTimeoutMultiplier: null, agentSetupTimeoutMultiplier: null, environmentBuildTimeoutMultiplier: null, maxRetries: 0, agentKwargs: {}, forceBuild: false },
      secrets: [{ envVar, ciphertext: seal(secretsKey, value, envVar) }],
      redact: [],
      maxDurationSec: null,
      source: 'thr',
    };
    // The dispatcher's own publish of this run, once services start, is then a duplicate JetStream drops.
    await js.publish(api.nats.topology.runOrder(jobId, run.id, 'docker'), encode(order), { msgID: orderMsgId(run.id, 1) });
  }
  await api.startServices();

  const recorded = await waitFor(async () => {
    const all = await runsOf(jobId);
    return all.every((r: any) => r.status === 'ERRORED') && all;
  }, { what: 'the refused runs to be recorded', timeoutMs: 30_000 });
  const messages = new Map(runs.map((run, i) => [run.id, hostile[i]!]));
  for (const run of recorded) {
    expect(run.exceptionType).toBe('OrderRefused');
    expect(run.exceptionMessage).toMatch(new RegExp(`^run order refused, Harbor was not started: its secret "${messages.get(run.id)}" cannot hold a provider key`));
  }
  const started = (await readLedger(h.ledger)).filter((e) => messages.has(e.runId));
  expect(started).toEqual([]);
}, 60_000);

it('a key Harbor prints is absent from GraphQL, logs, exports, every NATS message and heartbeat, and the files on disk', async () => {
  const leak = { HARBOR_SIM_ECHO_SECRET: 'OPENROUTER_API_KEY', HARBOR_SIM_LEAK_SECRET: '1' };
  // Harbor's exception_message (result.json) with the job's own key; the tail of Harbor's stderr with the server's.
  const ownTask = await h.simulatedTask('sim-leak-own', { HARBOR_SIM_SCENARIO: 'rate-limit', ...leak });
  const defaultTask = await h.simulatedTask('sim-leak-default', { HARBOR_SIM_SCENARIO: 'preflight-crash', ...leak });
  const model = 'openrouter/anthropic/claude-sonnet-4';
  const ownJob = await h.createJob({ taskIds: [ownTask], agent: 'terminus-2', model, providerKey: { value: ownKey } });
  const defaultJob = await h.createJob({ taskIds: [defaultTask], agent: 'terminus-2', model });
  for (const id of [ownJob, defaultJob]) await h.waitForJob(id, (j) => j.status === 'COMPLETED', 60_000);

  const keys = [ownKey, defaultKey];
  const clean = (what: string, text: string) => {
    for (const key of keys) expect(text.includes(key), `${what} holds a key`).toBe(false);
  };
  const [own] = await runsOf(ownJob);
  const [byDefault] = await runsOf(defaultJob);
  // The simulator did print the keys there: each message says where it was.
  expect(own.exceptionMessage).toMatch(/Incorrect API key provided: \[REDACTED\]/);
  // Harbor's traceback ends with the same message: scrubbed on the runner before it was sent.
  expect(own.exceptionTraceback).toMatch(/ApiRateLimitError: .*Incorrect API key provided: \[REDACTED\]\)$/);
  expect(byDefault.exceptionType).toBe('HarborFailed');
  expect(byDefault.exceptionMessage).toMatch(/Incorrect API key provided: \[REDACTED\]/);

  const graph = JSON.stringify([own, byDefault, (await graphql(api.url, '{ runners { id lastError degradedReason } }')).data]);
  clean('GraphQL', graph);
  const runners = (await graphql(api.url, '{ runners { id lastError } }')).data.runners;
  expect(runners.find((r: any) => r.id === 'runner-secrets').lastError).toMatch(/\[REDACTED\]/);

  for (const run of [own, byDefault]) {
    const log = await (await fetch(new URL(run.logUrl, api.url))).text();
    expect(log).toMatch(/\[REDACTED\]/);
    clean(`the log of ${run.id}`, log);
    // Harbor says where it writes ("Creating job … in <JOBS_DIR>/…"): the log shows the placeholder.
    expect(log).toContain('$JOBS_DIR/run-');
    expect(log).not.toContain(api.jobsDir);
  }
  for (const jobId of [ownJob, defaultJob]) {
    for (const file of ['runs.csv', 'runs.json', 'tasks.csv']) {
      const response = await fetch(new URL(`/jobs/${jobId}/${file}`, api.url));
      expect(response.status).toBe(200);
      clean(`export ${file}`, await response.text());
    }
  }

  // Every event, log chunk and heartbeat that went over NATS.
  await waitFor(() => seen.some((m) => m.subject.startsWith('$KV.')), { what: 'a heartbeat' });
  expect(seen.some((m) => m.subject.includes('.events.'))).toBe(true);
  expect(seen.some((m) => m.subject.includes('.logs.') && m.text.includes('[REDACTED]'))).toBe(true);
  for (const m of seen) clean(`NATS ${m.subject}`, m.text);

  // Shared storage: nothing left in clear, though the agent wrote the key into its files.
  const files = await allFiles(api.jobsDir);
  const install = files.filter((f) => f.endsWith(path.join('agent', 'install.log')));
  expect(install).toHaveLength(2);
  expect(await readFile(install[0]!, 'utf8')).toBe('install: using key [REDACTED]\n');
  for (const file of files) clean(file, await readFile(file, 'latin1'));

  // Harbor's config.json names TASKS_DIR and JOBS_DIR; the served copy does not.
  const onDisk = await readFile(path.join(api.jobsDir, own.harborTrialDir, 'config.json'), 'utf8');
  expect(onDisk).toContain(api.tasksDir);
  const served = await (await fetch(new URL(`/runs/${own.id}/files/config.json`, api.url))).text();
  expect(served).toContain('$TASKS_DIR/');
  expect(served).not.toContain(api.tasksDir);
  expect(served).not.toContain(api.jobsDir);
}, 120_000);

async function allFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out;
}
