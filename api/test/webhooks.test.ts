// Webhooks end to end (issue 18 item 5): a real HTTP receiver on a free port, jobs run by real
// runner processes on the Harbor simulator, the delivery worker as the API runs it. Backoff is
// driven by a short base delay in the test settings, never by sleeps.
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from 'runner/test-support';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { urlProblem } from '../src/notifications/urls.js';
import { DEFAULT_WEBHOOK_SETTINGS, startWebhookWorker, type WebhookSettings } from '../src/notifications/worker.js';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { createUserWithToken } from './support/auth.js';
import { jobHarness, type JobHarness } from './support/jobs.js';

const settings: Partial<WebhookSettings> = {
  baseDelayMs: 150,
  maxAttempts: 4,
  pollMs: 50,
  timeoutMs: 2_000,
  watchIntervalMs: 200,
  stuckAfterMs: 500,
};

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

const secretsKey = randomBytes(32);
let api: TestApp;
let h: JobHarness;
/** Owns the webhooks of the delivery tests: a MEMBER with no jobs, so no job's event reaches them. */
let quiet: { userId: string };
let receiver: Server;
let base: string;
const received: Received[] = [];
/** Answers by path; default 200. */
const answers = new Map<string, (count: number) => number>();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      const count = received.filter((r) => r.path === path).length;
      res.writeHead(answers.get(path)?.(count) ?? 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  api = await startTestApp({ services: true, secretsKey, webhooks: settings });
  h = await jobHarness(api);
  quiet = await createUserWithToken(api.database.db, 'MEMBER', 'wh-quiet');
});
afterAll(async () => {
  await h?.close();
  await api?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});
afterEach(() => h.killRunners());

const CREATE = `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) {
  __typename ... on MutationCreateWebhookSuccess { secret webhook { id url events format secretHint job { id } owner { name } } }
  ... on InvalidInputError { field message } ... on Error { code message } } }`;
const TEST = `mutation($id: ID!) { testWebhook(id: $id) { __typename ... on MutationTestWebhookSuccess { data { id event status } } ... on Error { code message } } }`;
const DELIVERIES = `query($id: ID!) { webhookDeliveries(webhookId: $id, first: 50) { __typename
  ... on QueryWebhookDeliveriesSuccess { data { totalCount edges { node { id event status attempts lastStatusCode lastError payload
    log { attempt at statusCode error durationMs } } } } } ... on Error { code message } } }`;

async function createWebhook(input: Record<string, unknown>, as?: { token: string }) {
  const { data, errors } = await graphql(api.url, CREATE, { input }, as);
  if (errors) throw new Error(JSON.stringify(errors));
  return data.createWebhook;
}

async function made(input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
  const created = await createWebhook(input);
  if (created.__typename !== 'MutationCreateWebhookSuccess') throw new Error(JSON.stringify(created));
  return { id: created.webhook.id, secret: created.secret };
}

async function deliveries(webhookId: string): Promise<any[]> {
  const { data } = await graphql(api.url, DELIVERIES, { id: webhookId });
  return data.webhookDeliveries.data.edges.map((e: any) => e.node);
}

const at = (path: string) => received.filter((r) => r.path === path);
const waitReceived = (path: string, count: number, timeoutMs = 30_000) =>
  waitFor(() => at(path).length >= count && at(path), { timeoutMs, what: `${count} request(s) at ${path}`, intervalMs: 25 });

/** The receiver's side, written out here rather than borrowed from the code under test. */
function validSignature(secret: string, r: Received): boolean {
  const ts = String(r.headers['x-thr-timestamp']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`;
  return r.headers['x-thr-signature'] === expected && Math.abs(Date.now() / 1000 - Number(ts)) < 300;
}

describe('webhooks', () => {
  it('JOB_STUCK, once per stuck spell, when queued runs have had no runner able to take them for the configured time', async () => {
    const task = await h.simulatedTask('wh-stuck', { HARBOR_SIM_SCENARIO: 'pass' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    await made({ url: `${base}/stuck`, events: ['JOB_STUCK'], jobId });
    const [stuck] = await waitReceived('/stuck', 1);
    expect(JSON.parse(stuck!.body)).toMatchObject({ event: 'JOB_STUCK', message: expect.stringContaining('waiting for a runner'), job: { id: jobId, runs: { queued: 1 } } });
    // The same stuck spell is told once, however many watch ticks see it.
    const worker = startWebhookWorker(
      { db: api.database.db, nats: api.nats.nc, topology: api.nats.topology, secretsKey, publicUrl: 'http://thr.test', settings: { ...DEFAULT_WEBHOOK_SETTINGS, ...settings, stuckAfterMs: 0 }, log: () => {} },
      { loop: false },
    );
    await worker.watch();
    await worker.watch();
    await worker.stop();
    expect(await api.database.db.webhookDelivery.count({ where: { event: 'JOB_STUCK', webhook: { jobId } } })).toBe(1);
    await graphql(api.url, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: jobId });
  });

  it('a job run by a real runner delivers JOB_FINISHED once, signed, with the job summary', async () => {
    const task = await h.simulatedTask('wh-finish', { HARBOR_SIM_SCENARIO: 'pass' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 2, name: 'webhook job' });
    const hook = await made({ url: `${base}/finished`, events: ['JOB_FINISHED', 'JOB_CANCELLED'], jobId });
    expect(hook.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    // Stored sealed: the secret appears nowhere in the row.
    const row = await api.database.db.webhook.findUniqueOrThrow({ where: { id: hook.id } });
    expect(JSON.stringify(row)).not.toContain(hook.secret.slice(6));
    h.startRunner('wh-runner', 2);
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    const [request] = await waitReceived('/finished', 1);
    expect(validSignature(hook.secret, request!)).toBe(true);
    expect(validSignature('whsec_other', request!)).toBe(false);
    expect(request!.headers['x-thr-event']).toBe('JOB_FINISHED');
    expect(request!.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request!.body);
    expect(body).toMatchObject({
      id: request!.headers['x-thr-delivery'],
      event: 'JOB_FINISHED',
      job: {
        id: jobId,
        name: 'webhook job',
        agent: 'oracle',
        status: 'COMPLETED',
        stopReason: null,
        runs: { total: 2, passed: 2, failed: 0, errored: 0, cancelled: 0, attempts: 2 },
        passRate: 1,
        url: `http://thr.test/jobs/${jobId}`,
      },
    });
    expect(typeof body.job.costUsd).toBe('number');
    expect(Date.parse(body.time)).toBeGreaterThan(Date.now() - 60_000);
    const [delivery] = await waitFor(async () => {
      const list = await deliveries(hook.id);
      return list[0]?.status === 'DELIVERED' && list;
    }, { what: 'the delivery to be marked DELIVERED' });
    expect(delivery).toMatchObject({ event: 'JOB_FINISHED', attempts: 1, lastStatusCode: 200, lastError: null });
    expect(delivery.log).toEqual([expect.objectContaining({ attempt: 1, statusCode: 200, error: null })]);
    // Once: nothing more arrives for this job after a few more polls.
    await waitFor(async () => (await api.database.db.webhookDelivery.count({ where: { status: 'PENDING' } })) === 0, { what: 'no pending deliveries' });
    expect(at('/finished')).toHaveLength(1);
  });

  it('a job retried after it finished is told again when it finishes again', async () => {
    const task = await h.simulatedTask('wh-again', { HARBOR_SIM_SCENARIO: 'fail' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    await made({ url: `${base}/again`, events: ['JOB_FINISHED'], jobId });
    h.startRunner('wh-again-runner', 1);
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    await waitReceived('/again', 1);
    const retry = await graphql(api.url, `mutation($id: ID!) { retryRuns(jobId: $id, which: FAILED) { __typename } }`, { id: jobId });
    expect(retry.data.retryRuns.__typename).toBe('MutationRetryRunsSuccess');
    const [first, second] = await waitReceived('/again', 2);
    await h.waitForJob(jobId, (j) => j.status === 'COMPLETED');
    expect(second!.headers['x-thr-delivery']).not.toBe(first!.headers['x-thr-delivery']);
    // Counted as the job page counts: one attempt per repeat, the retry an extra attempt.
    expect(JSON.parse(first!.body).job).toMatchObject({ status: 'COMPLETED', runs: { total: 1, failed: 1, attempts: 1 }, passRate: 0 });
    expect(JSON.parse(second!.body).job).toMatchObject({ status: 'COMPLETED', runs: { total: 1, failed: 1, attempts: 2 }, passRate: 0 });
  });

  it("a budget stop sends BUDGET_REACHED, then JOB_FINISHED when the job settles; a person's cancel sends JOB_CANCELLED", async () => {
    const task = await h.simulatedTask('wh-budget', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_COST_USD: '0.01' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 8, budgetUsd: 0.015 });
    await made({ url: `${base}/budget`, events: ['BUDGET_REACHED', 'JOB_FINISHED', 'JOB_CANCELLED'], jobId });
    h.startRunner('wh-budget-runner', 1);
    await h.waitForJob(jobId, (j) => j.status === 'CANCELLED');
    const requests = await waitReceived('/budget', 2);
    const byEvent = Object.fromEntries(requests.map((r) => [r.headers['x-thr-event'], r]));
    expect(Object.keys(byEvent).sort()).toEqual(['BUDGET_REACHED', 'JOB_FINISHED']);
    expect(JSON.parse(byEvent.BUDGET_REACHED!.body)).toMatchObject({ message: expect.stringMatching(/reached the budget of \$0\.015/), job: { stopReason: 'BUDGET_REACHED' } });
    expect(JSON.parse(byEvent.JOB_FINISHED!.body).job).toMatchObject({ status: 'CANCELLED', stopReason: 'BUDGET_REACHED' });

    await h.killRunners();
    const other = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 3 });
    await made({ url: `${base}/cancelled`, events: ['JOB_FINISHED', 'JOB_CANCELLED'], jobId: other });
    const cancel = await graphql(api.url, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: other });
    expect(cancel.data.cancelJob.__typename).toBe('MutationCancelJobSuccess');
    const [cancelled] = await waitReceived('/cancelled', 1);
    expect(cancelled!.headers['x-thr-event']).toBe('JOB_CANCELLED');
    expect(JSON.parse(cancelled!.body).job).toMatchObject({ id: other, status: 'CANCELLED', runs: { total: 3, cancelled: 3 } });
  });

  it('retries failures with exponential backoff until a 2xx, gives up after maxAttempts, and takes a 4xx as final', async () => {
    answers.set('/flaky', (n) => (n <= 2 ? 503 : 200));
    answers.set('/down', () => 500);
    answers.set('/gone', () => 410);
    const flaky = await made({ url: `${base}/flaky`, events: ['JOB_FINISHED'], userId: quiet.userId });
    const down = await made({ url: `${base}/down`, events: ['JOB_FINISHED'], userId: quiet.userId });
    const gone = await made({ url: `${base}/gone`, events: ['JOB_FINISHED'], userId: quiet.userId });
    for (const hook of [flaky, down, gone]) expect((await graphql(api.url, TEST, { id: hook.id })).data.testWebhook.__typename).toBe('MutationTestWebhookSuccess');

    const settled = (id: string) =>
      waitFor(async () => {
        const [d] = await deliveries(id);
        return d && d.status !== 'PENDING' && d;
      }, { what: `webhook ${id}'s delivery to settle`, timeoutMs: 30_000 });
    const f = await settled(flaky.id);
    expect(f).toMatchObject({ event: 'PING', status: 'DELIVERED', attempts: 3, lastStatusCode: 200 });
    expect(f.log.map((a: any) => [a.attempt, a.statusCode, a.error])).toEqual([[1, 503, 'HTTP 503'], [2, 503, 'HTTP 503'], [3, 200, null]]);
    // Waits of base · 2^(n-1) ± 10 %: ≥ 135 ms, then ≥ 270 ms.
    const times = at('/flaky').map((r) => r.at);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(135);
    expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(270);
    // Every attempt carries the same delivery id, so receivers can drop repeats.
    expect(new Set(at('/flaky').map((r) => r.headers['x-thr-delivery'])).size).toBe(1);

    const d = await settled(down.id);
    expect(d).toMatchObject({ status: 'FAILED', attempts: 4, lastStatusCode: 500 });
    expect(at('/down')).toHaveLength(4);
    const g = await settled(gone.id);
    expect(g).toMatchObject({ status: 'FAILED', attempts: 1, lastStatusCode: 410, lastError: 'HTTP 410' });

    // redeliver: a new delivery with the same event data.
    answers.set('/gone', () => 204);
    const again = await graphql(api.url, `mutation($id: ID!) { redeliver(deliveryId: $id) { __typename ... on MutationRedeliverSuccess { data { id status } } } }`, { id: g.id });
    expect(again.data.redeliver.data.status).toBe('PENDING');
    await waitFor(async () => (await deliveries(gone.id))[0]?.status === 'DELIVERED', { what: 'the redelivery' });
    const [first, second] = at('/gone');
    expect(JSON.parse(second!.body)).toMatchObject({ ...JSON.parse(first!.body), id: again.data.redeliver.data.id });
  });

  it('a restarted worker resumes pending deliveries, including one whose worker died mid-attempt', async () => {
    const hook = await made({ url: `${base}/resume`, events: ['JOB_FINISHED'], userId: quiet.userId });
    await api.stopServices();
    try {
      const queued = (await graphql(api.url, TEST, { id: hook.id })).data.testWebhook.data;
      // A delivery claimed by a worker that died: its lease has lapsed, one attempt counted.
      const died = await api.database.db.webhookDelivery.create({
        data: { webhookId: hook.id, event: 'PING', dedupeKey: 'died', payload: { event: 'PING', time: new Date().toISOString(), message: null, job: null, runner: null }, attempts: 1, leaseUntil: new Date(Date.now() - 1_000) },
      });
      await new Promise((resolve) => setTimeout(resolve, 300)); // several polls of a worker, were one running
      expect(at('/resume')).toHaveLength(0);
      expect(queued.status).toBe('PENDING');
      await api.startServices();
      const requests = await waitReceived('/resume', 2);
      expect(new Set(requests.map((r) => r.headers['x-thr-delivery']))).toEqual(new Set([queued.id, died.id]));
      const after = await waitFor(async () => {
        const row = await api.database.db.webhookDelivery.findUniqueOrThrow({ where: { id: died.id } });
        return row.status !== 'PENDING' && row;
      }, { what: 'the resumed delivery to be recorded' });
      expect(after).toMatchObject({ status: 'DELIVERED', attempts: 2 });
    } finally {
      await api.startServices();
    }
  });

  it('two workers on one database never send one delivery twice', async () => {
    answers.set('/race', () => 200);
    const hook = await made({ url: `${base}/race`, events: ['JOB_FINISHED'], userId: quiet.userId });
    await api.stopServices();
    const workers: ReturnType<typeof startWebhookWorker>[] = [];
    try {
      const count = 60;
      await api.database.db.webhookDelivery.createMany({
        data: Array.from({ length: count }, (_, i) => ({
          webhookId: hook.id,
          event: 'PING' as const,
          dedupeKey: `race-${i}`,
          payload: { event: 'PING', time: new Date().toISOString(), message: `race ${i}`, job: null, runner: null },
        })),
      });
      for (let i = 0; i < 2; i++) {
        workers.push(
          startWebhookWorker({
            db: api.database.db,
            nats: api.nats.nc,
            topology: api.nats.topology,
            secretsKey,
            publicUrl: 'http://thr.test',
            settings: { ...DEFAULT_WEBHOOK_SETTINGS, ...settings, pollMs: 5, watchIntervalMs: 60_000 },
            log: () => {},
          }),
        );
      }
      await waitFor(async () => (await api.database.db.webhookDelivery.count({ where: { webhookId: hook.id, status: 'DELIVERED' } })) === count, {
        what: 'every race delivery to be sent',
        timeoutMs: 30_000,
      });
      const ids = at('/race').map((r) => r.headers['x-thr-delivery']);
      expect(ids).toHaveLength(count);
      expect(new Set(ids).size).toBe(count);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
      await api.startServices();
    }
  });

  it('SLACK format posts a Slack-compatible { text, blocks }, signed the same way', async () => {
    const task = await h.simulatedTask('wh-slack', { HARBOR_SIM_SCENARIO: 'pass' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1, name: 'slack <job> & co' });
    const hook = await made({ url: `${base}/slack`, events: ['JOB_FINISHED'], format: 'SLACK', jobId });
    await graphql(api.url, TEST, { id: hook.id });
    const [request] = await waitReceived('/slack', 1);
    expect(validSignature(hook.secret, request!)).toBe(true);
    const body = JSON.parse(request!.body);
    expect(Object.keys(body).sort()).toEqual(['blocks', 'text']);
    expect(body.text).toBe(`:wave: Job <http://thr.test/jobs/${jobId}|slack &lt;job&gt; &amp; co> ping`);
    expect(body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: body.text } });
    expect(body.blocks.at(-1)).toMatchObject({ type: 'context', elements: [{ type: 'mrkdwn', text: expect.stringContaining('oracle') }] });
    for (const block of body.blocks) expect(['section', 'context']).toContain(block.type);
    await graphql(api.url, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: jobId });
  });

  it('refuses bad URLs and events with a clear error', async () => {
    const cases: [string, string][] = [
      ['ftp://example.com/hook', 'url must use http or https, not ftp'],
      ['not a url', 'url must be an absolute http:// or https:// URL'],
      ['https://user:pw@example.com/hook', 'url must not carry a user name or password (put a token in the path or use the signature)'],
    ];
    for (const [url, message] of cases) {
      expect(await createWebhook({ url, events: ['JOB_FINISHED'] })).toEqual({ __typename: 'InvalidInputError', code: 'INVALID_INPUT', field: 'input.url', message });
    }
    expect(await createWebhook({ url: `${base}/x`, events: [] })).toMatchObject({ __typename: 'InvalidInputError', field: 'input.events' });
    expect(await createWebhook({ url: `${base}/x`, events: ['PING'] })).toMatchObject({
      __typename: 'InvalidInputError',
      message: expect.stringContaining('cannot include PING'),
    });
    // With WEBHOOK_ALLOW_PRIVATE=false, loopback, private and link-local addresses are refused, named.
    expect(await urlProblem('http://127.0.0.1:9/x', false)).toBe('resolves to 127.0.0.1, a private or internal address; this server refuses those (WEBHOOK_ALLOW_PRIVATE=false)');
    expect(await urlProblem('http://10.2.3.4/x', false)).toMatch(/10\.2\.3\.4, a private/);
    expect(await urlProblem('http://169.254.169.254/latest/meta-data', false)).toMatch(/169\.254\.169\.254, a private/);
    expect(await urlProblem('http://[::1]/x', false)).toMatch(/::1, a private/);
    expect(await urlProblem('http://[::ffff:192.168.1.1]/x', false)).toMatch(/a private/);
    expect(await urlProblem('http://localhost/x', false)).toMatch(/a private/);
    expect(await urlProblem('http://8.8.8.8/x', false)).toBeNull();
    expect(await urlProblem('http://127.0.0.1:9/x', true)).toBeNull();
  });

  it('roles: VIEWERs make none, MEMBERs manage only their own and their jobs, ADMINs anyone; changes are audited', async () => {
    const viewer = await createUserWithToken(api.database.db, 'VIEWER', 'wh-viewer');
    const alice = await createUserWithToken(api.database.db, 'MEMBER', 'wh-alice');
    const bob = await createUserWithToken(api.database.db, 'MEMBER', 'wh-bob');
    const hookInput = { url: `${base}/roles`, events: ['JOB_FINISHED'] };
    const refused = await graphql(api.url, CREATE, { input: hookInput }, { token: viewer.token });
    expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: 'VIEWER may not run mutation createWebhook; needs ADMIN or MEMBER' });

    const mine = await createWebhook(hookInput, { token: alice.token });
    expect(mine.webhook.owner.name).toBe('wh-alice');
    const id = mine.webhook.id;
    const LIST = `{ webhooks { totalCount edges { node { id owner { name } } } } }`;
    expect((await graphql(api.url, LIST, {}, { token: alice.token })).data.webhooks.totalCount).toBe(1);
    expect((await graphql(api.url, LIST, {}, { token: bob.token })).data.webhooks.totalCount).toBe(0);

    const UPDATE = `mutation($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { __typename ... on MutationUpdateWebhookSuccess { data { enabled events } } } }`;
    const byBob = await graphql(api.url, UPDATE, { id, input: { enabled: false } }, { token: bob.token });
    expect(byBob.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const bobReads = await graphql(api.url, DELIVERIES, { id }, { token: bob.token });
    expect(bobReads.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const byAdmin = await graphql(api.url, UPDATE, { id, input: { enabled: false, events: ['JOB_FINISHED', 'RUNNER_LOST'] } });
    expect(byAdmin.data.updateWebhook.data).toEqual({ enabled: false, events: ['JOB_FINISHED', 'RUNNER_LOST'] });

    // A job's webhook needs the right to act on the job: the ADMIN's job is not Bob's.
    const task = await h.simulatedTask('wh-roles', { HARBOR_SIM_SCENARIO: 'pass' });
    const adminJob = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    const onJob = await graphql(api.url, CREATE, { input: { ...hookInput, jobId: adminJob } }, { token: bob.token });
    expect(onJob.errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' }, message: 'only its creator or an ADMIN may add a webhook to this job' });
    await graphql(api.url, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: adminJob });

    const DELETE = `mutation($id: ID!) { deleteWebhook(id: $id) { __typename ... on MutationDeleteWebhookSuccess { data } } }`;
    expect((await graphql(api.url, DELETE, { id }, { token: bob.token })).errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    expect((await graphql(api.url, DELETE, { id }, { token: alice.token })).data.deleteWebhook.data).toBe(id);

    const trail = await api.database.db.auditEvent.findMany({ where: { targetType: 'webhook', targetId: id }, orderBy: { at: 'asc' } });
    expect(trail.map((e) => [e.action, e.actorName])).toEqual([
      ['WEBHOOK_CREATED', 'wh-alice'],
      ['WEBHOOK_UPDATED', 'test-admin'],
      ['WEBHOOK_DELETED', 'wh-alice'],
    ]);
    // The URL's path (often a token, as Slack's) stays out of the trail.
    expect(JSON.stringify(trail[0]!.detail)).not.toContain('/roles');
  });

  it('RUNNER_LOST when a runner holding a run of the job goes silent (SIGKILL)', async () => {
    const task = await h.simulatedTask('wh-lost', { HARBOR_SIM_SCENARIO: 'hang' });
    const jobId = await h.createJob({ taskIds: [task], agent: 'oracle', runsPerTask: 1 });
    await made({ url: `${base}/lost`, events: ['RUNNER_LOST'], jobId });
    h.startRunner('wh-doomed', 1);
    const running = await h.waitForJob(jobId, (j) => j.runsRunning === 1);
    const runId = running.runs.edges[0].node.id;
    await h.killRunners();
    // Silent for LOST_AFTER_MS (30 s), then told once, with the runs it held.
    const [lost] = await waitReceived('/lost', 1, 90_000);
    expect(lost!.headers['x-thr-event']).toBe('RUNNER_LOST');
    expect(JSON.parse(lost!.body)).toMatchObject({
      event: 'RUNNER_LOST',
      job: null,
      runner: { id: 'wh-doomed', runIds: [runId], lastHeartbeatAt: expect.any(String) },
      message: expect.stringContaining('runner wh-doomed stopped sending heartbeats'),
    });
    await graphql(api.url, `mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: jobId });
    expect(at('/lost')).toHaveLength(1);
  }, 120_000);
});
