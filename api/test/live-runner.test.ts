import { randomBytes } from 'node:crypto';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { readRunLog } from '../src/logs/service.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { jobHarness, type JobHarness } from './support/jobs.js';
import { unzip } from './support/unzip.js';
import { authParams } from './support/auth.js';

const secretsKey = randomBytes(32);
let api: TestApp;
let h: JobHarness;

beforeAll(async () => {
  api = await startTestApp({ services: true, secretsKey });
  h = await jobHarness(api);
});
afterAll(async () => {
  await h?.close();
  await api?.close();
});

it("streams a running trial's log live from the runner, scrubbed of the provider key, and completes with the run", async () => {
  const key = `sk-or-v1-${randomBytes(12).toString('hex')}`;
  const task = await h.simulatedTask('sim-logs', {
    HARBOR_SIM_SCENARIO: 'pass',
    HARBOR_SIM_LOG_LINES: '300',
    HARBOR_SIM_PHASE_MS: '1500',
    HARBOR_SIM_ECHO_SECRET: 'OPENROUTER_API_KEY',
  });
  h.startRunner('runner-logs', 1, { SECRETS_KEY: secretsKey.toString('base64') });
  const jobId = await h.createJob({ taskIds: [task], agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', providerKey: { value: key } });
  const running = await h.waitForJob(jobId, (j) => j.runsRunning === 1, 30_000);
  const runId = running.runs.edges[0].node.id;

  const client = createClient({ url: api.url.replace(/^http/, 'ws'), connectionParams: authParams(api.url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  const lines: { text: string; source: string; file: string | null }[] = [];
  let statusWhenLogEnded = '';
  await new Promise<void>((resolve, reject) => {
    client.subscribe(
      { query: 'subscription($id: ID!) { runLog(runId: $id) { position lines { text source file } } }', variables: { id: runId } },
      {
        next: ({ data, errors }) => (errors ? reject(new Error(JSON.stringify(errors))) : lines.push(...(data as any).runLog.lines)),
        error: reject,
        complete: () => {
          void graphql(api.url, '{ run(id: "' + runId + '") { status } }').then(({ data }) => {
            statusWhenLogEnded = data.run.status;
            resolve();
          });
        },
      },
    );
  });
  await client.dispose();

  expect(statusWhenLogEnded).toBe('PASSED');
  const pane = lines.filter((l) => l.file === 'agent/terminus_2.pane' && /line \d+$/.test(l.text)).map((l) => Number(/line (\d+)$/.exec(l.text)![1]));
  expect(pane).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
  const sources = new Set(lines.map((l) => l.source));
  for (const source of ['harbor', 'trial', 'agent', 'verifier']) expect(sources.has(source), source).toBe(true);
  expect(lines.some((l) => l.text.includes('[REDACTED]'))).toBe(true);

  // No published chunk of this run carries the key, in any form a reader could see.
  let everything = '';
  for await (const chunk of readRunLog({ db: api.database.db, nats: api.nats.nc, topology: api.nats.topology }, runId)) everything += JSON.stringify(chunk);
  expect(everything.length).toBeGreaterThan(1000);
  expect(everything).not.toContain(key);

  const download = await fetch(new URL(`/runs/${runId}/files.zip`, api.url));
  expect(download.status).toBe(200);
  const bytes = Buffer.from(await download.arrayBuffer());
  const files = await unzip(bytes);
  expect([...files.keys()].some((name) => name.endsWith('/result.json'))).toBe(true);
  // The simulator echoed the key into the pane, as an agent may; Harbor leaves it there (it only
  // redacts keys written in agents[].env), so the download must not.
  const paneFile = [...files].find(([name]) => name.endsWith('/agent/terminus_2.pane'))![1].toString();
  expect(paneFile).toContain('[REDACTED]');
  for (const [name, content] of files) expect(content.includes(Buffer.from(key)), name).toBe(false);
}, 60_000);

it('shows runners arrive and leave through runnersUpdated, and run changes through runUpdated', async () => {
  const client = createClient({ url: api.url.replace(/^http/, 'ws'), connectionParams: authParams(api.url), webSocketImpl: WebSocket, retryAttempts: 0, lazy: true });
  const lists: string[][] = [];
  const seen = (predicate: (ids: string[]) => boolean) =>
    new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (lists.some(predicate)) {
          clearInterval(check);
          resolve();
        }
      }, 50);
    });
  client.subscribe(
    { query: 'subscription { runnersUpdated { id state busy slots } }' },
    { next: ({ data }) => lists.push((data as any).runnersUpdated.map((r: any) => `${r.id}:${r.state}`)), error: () => {}, complete: () => {} },
  );
  const runner = h.startRunner('runner-watched', 2);
  await seen((ids) => ids.includes('runner-watched:LIVE'));

  const task = await h.simulatedTask('sim-watch', { HARBOR_SIM_SCENARIO: 'fail' });
  const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2 });
  const statuses: string[] = [];
  const bothFailed = new Promise<void>((resolve) => {
    client.subscribe(
      { query: 'subscription($id: ID!) { runUpdated(jobId: $id) { id status } }', variables: { id: jobId } },
      {
        next: ({ data }) => {
          statuses.push((data as any).runUpdated.status);
          if (statuses.filter((s) => s === 'FAILED').length === 2) resolve();
        },
        error: () => {},
        complete: () => {},
      },
    );
  });
  await bothFailed;
  expect(statuses.every((s) => ['CLAIMED', 'RUNNING', 'FAILED'].includes(s))).toBe(true);

  runner.child.kill('SIGTERM');
  await runner.exited;
  // A runner that stops cleanly removes its record.
  const arrived = lists.findIndex((ids) => ids.includes('runner-watched:LIVE'));
  await seen((ids) => lists.indexOf(ids) > arrived && !ids.some((id) => id.startsWith('runner-watched')));
  await client.dispose();
}, 60_000);
