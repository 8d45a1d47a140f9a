// What a delivery says. The outbox stores the event's data (`EventData`, format-neutral, taken in
// the transaction of the change); each attempt renders the body from it for the webhook's format:
// our JSON, or a Slack-compatible `{ text, blocks }` that Slack's incoming webhooks (and Mattermost,
// Discord's /slack endpoint) accept as is.
import type { Db } from '../db/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { attemptCounters } from '../jobs/attempts.js';
import type { WebhookEvent, WebhookFormat } from '../generated/prisma/enums.js';

type Tx = Prisma.TransactionClient;

export interface JobSummary {
  id: string;
  name: string;
  agent: string;
  model: string;
  status: string;
  stopReason: string | null;
  /** As people read them (jobs/attempts.ts): one attempt per repeat; `attempts` counts every attempt, retries included. */
  runs: { total: number; queued: number; running: number; passed: number; failed: number; errored: number; cancelled: number; attempts: number };
  /** passed / (passed + failed + errored); null until a run has an outcome. */
  passRate: number | null;
  costUsd: number;
  budgetUsd: number | null;
}

export interface RunnerSummary {
  id: string;
  lastHeartbeatAt: string;
  /** Runs it held when it went silent. */
  runIds: string[];
}

export interface EventData {
  event: WebhookEvent;
  time: string;
  /** One line for people, e.g. the budget stop message or why a job is stuck. */
  message: string | null;
  job: JobSummary | null;
  runner: RunnerSummary | null;
}

/** The job's summary as it stands in `tx` (inside the transaction of the change that fired the event). */
export async function jobSummary(tx: Tx, jobId: string): Promise<(JobSummary & { ownerId: string | null }) | null> {
  const job = await tx.job.findUnique({
    where: { id: jobId },
    select: {
      id: true, name: true, agent: true, model: true, status: true, stopReason: true, createdById: true, costUsd: true, budgetUsd: true,
    },
  });
  if (!job) return null;
  // The same statement the job page's counters come from, read in this transaction.
  const c = (await attemptCounters(tx as unknown as Db, [jobId])).get(jobId)!;
  const judged = c.runsPassed + c.runsFailed + c.runsErrored;
  return {
    ownerId: job.createdById,
    id: job.id,
    name: job.name,
    agent: job.agent,
    model: job.model,
    status: job.status,
    stopReason: job.stopReason,
    runs: {
      total: c.runsTotal,
      queued: c.runsQueued,
      running: c.runsClaimed + c.runsRunning,
      passed: c.runsPassed,
      failed: c.runsFailed,
      errored: c.runsErrored,
      cancelled: c.runsCancelled,
      attempts: c.attemptsTotal,
    },
    passRate: judged === 0 ? null : Math.round((c.runsPassed / judged) * 10_000) / 10_000,
    costUsd: Number(job.costUsd),
    budgetUsd: job.budgetUsd === null ? null : Number(job.budgetUsd),
  };
}

/** The JSON body: the event data with the delivery's id and the job's link. */
export function jsonBody(deliveryId: string, data: EventData, publicUrl: string): Record<string, unknown> {
  return {
    id: deliveryId,
    event: data.event,
    time: data.time,
    message: data.message,
    job: data.job ? { ...data.job, url: jobUrl(publicUrl, data.job.id) } : null,
    runner: data.runner,
  };
}

const HEADLINE: Record<WebhookEvent, string> = {
  JOB_FINISHED: 'finished',
  BUDGET_REACHED: 'reached its budget',
  JOB_STUCK: 'is stuck',
  JOB_CANCELLED: 'was cancelled',
  RUNNER_LOST: 'runner lost',
  PING: 'ping',
};

const EMOJI: Record<WebhookEvent, string> = {
  JOB_FINISHED: ':white_check_mark:',
  BUDGET_REACHED: ':money_with_wings:',
  JOB_STUCK: ':hourglass:',
  JOB_CANCELLED: ':no_entry_sign:',
  RUNNER_LOST: ':rotating_light:',
  PING: ':wave:',
};

/** Slack's mrkdwn needs &, < and > escaped in text we do not control (job names). */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack-compatible body: `text` for notifications and clients without blocks, `blocks` for the message. */
export function slackBody(data: EventData, publicUrl: string): { text: string; blocks: unknown[] } {
  const job = data.job;
  let text: string;
  const lines: string[] = [];
  if (job) {
    const url = jobUrl(publicUrl, job.id);
    text = `${EMOJI[data.event]} Job <${url}|${esc(job.name)}> ${HEADLINE[data.event]}`;
    const rate = job.passRate === null ? '' : ` (${(job.passRate * 100).toFixed(1)}%)`;
    lines.push(`*${job.runs.passed}* passed, *${job.runs.failed}* failed, *${job.runs.errored}* errored, *${job.runs.cancelled}* cancelled of ${job.runs.total}${rate}`);
    lines.push(`Cost $${job.costUsd.toFixed(4)}${job.budgetUsd === null ? '' : ` of a $${job.budgetUsd.toFixed(2)} budget`}`);
  } else if (data.runner) {
    text = `${EMOJI[data.event]} Runner *${esc(data.runner.id)}* lost (last heartbeat ${data.runner.lastHeartbeatAt})`;
    lines.push(`It held ${data.runner.runIds.length} run(s); they are requeued once their orders come back.`);
  } else {
    text = `${EMOJI[data.event]} Terminal-Bench Harbor Runner: ${HEADLINE[data.event]}`;
  }
  if (data.message) lines.push(esc(data.message));
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text } }];
  if (lines.length > 0) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } });
  const context = job ? `${esc(job.agent)} · ${esc(job.model)} · ${data.event} · ${data.time}` : `${data.event} · ${data.time}`;
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context }] });
  return { text, blocks };
}

export function renderBody(format: WebhookFormat, deliveryId: string, data: EventData, publicUrl: string): string {
  return JSON.stringify(format === 'SLACK' ? slackBody(data, publicUrl) : jsonBody(deliveryId, data, publicUrl));
}

export function jobUrl(publicUrl: string, jobId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/jobs/${jobId}`;
}
