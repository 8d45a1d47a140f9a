// Launches a job through the GraphQL API, follows it live over graphql-ws (`jobUpdated`), and prints
// the per-task summary when it ends. See docs/api.md; run from the repository root:
//
//   npx tsx examples/follow-job.ts --api http://127.0.0.1:4000 --task <task id> [--task <id> …]
//                                  [--agent oracle] [--model <model>] [--runs 3] [--budget 0.50]
//                                  [--token <API token>]   (or THR_TOKEN; first start writes .data/admin.token)
//
// It exits 0 when the job completed, 1 when it was cancelled or stopped, 2 on a usage or API error.
import { parseArgs } from 'node:util';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const USAGE =
  'usage: THR_TOKEN=<API token> npx tsx examples/follow-job.ts --api http://127.0.0.1:4000 --task <id> [--agent oracle] [--model m] [--runs 3] [--budget usd] [--token <API token>]';

const { values } = parseArgs({
  options: {
    api: { type: 'string', default: 'http://127.0.0.1:4000' },
    task: { type: 'string', multiple: true },
    agent: { type: 'string', default: 'oracle' },
    model: { type: 'string' },
    runs: { type: 'string', default: '3' },
    budget: { type: 'string' },
    token: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help || !values.task?.length) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}

// Every operation needs an API token (docs/api.md "Authentication"); --token wins over THR_TOKEN.
const token = values.token ?? process.env.THR_TOKEN;
if (!token) {
  console.error('an API token is needed: pass --token <token> or set THR_TOKEN (first start writes one to .data/admin.token)');
  console.error(USAGE);
  process.exit(2);
}

const origin = values.api.replace(/\/+$/, '').replace(/\/graphql$/, '');
const httpUrl = `${origin}/graphql`;
const wsUrl = httpUrl.replace(/^http/, 'ws');

/** One query or mutation over HTTP; GraphQL errors (coded, top-level) become exceptions. */
async function request<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  // The CSRF header is only required for non-JSON requests; sending it always keeps copies of this
  // helper working when they switch to GET or multipart.
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-graphql-yoga-csrf': '1', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
  return body.data!;
}

const CREATE_JOB = /* GraphQL */ `
  mutation Launch($input: CreateJobInput!) {
    createJob(input: $input) {
      __typename
      ... on MutationCreateJobSuccess { data { id name runsTotal } }
      ... on Error { code message }
    }
  }`;

const JOB_UPDATED = /* GraphQL */ `
  subscription Follow($id: ID!) {
    jobUpdated(id: $id) {
      status runsTotal runsQueued runsClaimed runsRunning runsPassed runsFailed runsErrored runsCancelled
      costUsd budgetUsd stopMessage
    }
  }`;

const SUMMARY = /* GraphQL */ `
  query Summary($id: ID!) {
    job(id: $id) {
      stats { runs passed scored passRate passRateLow passRateHigh costUsd passAtK { k value } }
      taskStats {
        task { name }
        runs passed failed errored cancelled scored passRate passRateLow passRateHigh meanReward costUsd
      }
      exportUrls { runsCsv tasksCsv }
    }
  }`;

interface JobState {
  status: string;
  runsTotal: number;
  runsQueued: number;
  runsClaimed: number;
  runsRunning: number;
  runsPassed: number;
  runsFailed: number;
  runsErrored: number;
  runsCancelled: number;
  costUsd: number;
  budgetUsd: number | null;
  stopMessage: string | null;
}

const FINAL = new Set(['COMPLETED', 'CANCELLED']);

async function main(): Promise<number> {
  const input: Record<string, unknown> = { taskIds: values.task, agent: values.agent, runsPerTask: Number(values.runs) };
  if (values.model) input.model = values.model;
  if (values.budget) input.budgetUsd = Number(values.budget);
  const { createJob } = await request<{ createJob: any }>(CREATE_JOB, { input });
  if (createJob.__typename !== 'MutationCreateJobSuccess') {
    console.error(`createJob refused (${createJob.code}): ${createJob.message}`);
    return 2;
  }
  const job = createJob.data as { id: string; name: string; runsTotal: number };
  console.log(`job ${job.id} "${job.name}": ${job.runsTotal} runs`);

  // The subscription sends the job as it is now, then again after every change; it ends when we stop it.
  // WebSockets carry the token in the connection_init payload.
  const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 5, lazy: true });
  let last: JobState | null = null;
  try {
    for await (const result of client.iterate<{ jobUpdated: JobState | null }>({ query: JOB_UPDATED, variables: { id: job.id } })) {
      if (result.errors?.length) throw new Error(result.errors.map((e) => e.message).join('; '));
      const state = result.data?.jobUpdated;
      if (!state) throw new Error(`job ${job.id} disappeared`);
      const line = progress(state);
      if (line !== (last && progress(last))) console.log(line);
      last = state;
      if (FINAL.has(state.status)) break;
    }
  } finally {
    await client.dispose();
  }

  const { job: summary } = await request<{ job: any }>(SUMMARY, { id: job.id });
  console.log('');
  printTable(
    ['task', 'runs', 'passed', 'failed', 'errored', 'cancelled', 'pass rate (95% CI)', 'mean reward', 'cost $'],
    summary.taskStats.map((t: any) => [
      t.task.name,
      t.runs,
      t.passed,
      t.failed,
      t.errored,
      t.cancelled,
      rate(t.passRate, t.passRateLow, t.passRateHigh),
      t.meanReward === null ? '—' : t.meanReward.toFixed(2),
      t.costUsd.toFixed(4),
    ]),
  );
  const s = summary.stats;
  console.log('');
  console.log(`job: ${s.passed}/${s.scored} scored runs passed, ${rate(s.passRate, s.passRateLow, s.passRateHigh)}, cost $${s.costUsd.toFixed(4)}`);
  if (s.passAtK.length) console.log(`pass@k: ${s.passAtK.map((p: any) => `pass@${p.k} ${(p.value * 100).toFixed(1)}%`).join(', ')}`);
  if (last?.stopMessage) console.log(last.stopMessage);
  console.log(`runs: ${origin}${summary.exportUrls.runsCsv}   per task: ${origin}${summary.exportUrls.tasksCsv}`);
  return last?.status === 'COMPLETED' ? 0 : 1;
}

function progress(j: JobState): string {
  const budget = j.budgetUsd === null ? '' : ` of $${j.budgetUsd.toFixed(2)}`;
  return (
    `${j.status.padEnd(10)} queued ${j.runsQueued}  running ${j.runsClaimed + j.runsRunning}  passed ${j.runsPassed}  ` +
    `failed ${j.runsFailed}  errored ${j.runsErrored}  cancelled ${j.runsCancelled}  cost $${j.costUsd.toFixed(4)}${budget}`
  );
}

function rate(value: number | null, low: number | null, high: number | null): string {
  if (value === null) return '—';
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return `${pct(value)} (${pct(low ?? 0)}–${pct(high ?? 1)})`;
}

function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const format = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(format(r));
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`follow-job: ${error.message}`);
    process.exit(2);
  },
);
