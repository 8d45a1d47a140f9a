// What a launch would cost before it is launched, from the runs this platform has already recorded
// for the same agent and model. Each task is estimated from its own earlier runs when it has some
// (tasks differ by orders of magnitude in tokens), the rest from the mean run of all tasks; a model
// never run here has no estimate rather than a made-up one.
import type { Db } from '../db/client.js';
import { checkAgentModelRuns, resolveTasks, type LaunchInput } from '../jobs/launch.js';

export type EstimateInput = Pick<LaunchInput, 'taskIds' | 'taskFilter' | 'agent' | 'model' | 'runsPerTask'>;

export interface JobEstimate {
  agent: string;
  model: string | null;
  tasks: number;
  runs: number;
  /** Null when no earlier run of this agent and model recorded a cost. */
  costUsd: number | null;
  /** costUsd over runs: what one run of this launch is expected to cost. */
  costPerRunUsd: number | null;
  /** Earlier finished runs of this agent and model that recorded a cost. */
  costBasisRuns: number;
  /** Selected tasks estimated from their own earlier costs; the others from the mean run. */
  tasksWithOwnCost: number;
  /** Summed trial time (start to finish of each trial), null without timed earlier runs. */
  trialSeconds: number | null;
  /** Earlier finished runs of this agent and model with a start and a finish. */
  timeBasisRuns: number;
}

/** Runs that ran to an outcome. Cancelled runs are left out: they stopped part-way, so cost less. */
const FINISHED = ['PASSED', 'FAILED', 'ERRORED'];

interface History {
  taskId: string;
  costRuns: number;
  costSum: number;
  timedRuns: number;
  secondsSum: number;
}

export async function estimateJob(db: Db, input: EstimateInput): Promise<JobEstimate> {
  const { agent, model } = checkAgentModelRuns(input);
  const taskIds = await resolveTasks(db, input);
  // Per task over every task this agent and model ran: the selected tasks' own figures, and the
  // totals for the mean run, in one pass over the job's runs (Job is indexed by model).
  const rows = await db.$queryRaw<History[]>`
    SELECT r."taskId" AS "taskId",
           count(r."costUsd")::int AS "costRuns",
           coalesce(sum(r."costUsd"), 0)::float8 AS "costSum",
           count(*) FILTER (WHERE r."startedAt" IS NOT NULL AND r."finishedAt" IS NOT NULL)::int AS "timedRuns",
           coalesce(sum(extract(epoch FROM r."finishedAt" - r."startedAt")), 0)::float8 AS "secondsSum"
      FROM "Run" r
      JOIN "Job" j ON j.id = r."jobId"
     WHERE j.agent = ${agent} AND j.model = ${model ?? ''}
       AND r.status::text = ANY(${FINISHED})
     GROUP BY r."taskId"`;

  const byTask = new Map(rows.map((row) => [row.taskId, row]));
  const total = rows.reduce(
    (sum, row) => ({ costRuns: sum.costRuns + row.costRuns, costSum: sum.costSum + row.costSum, timedRuns: sum.timedRuns + row.timedRuns, secondsSum: sum.secondsSum + row.secondsSum }),
    { costRuns: 0, costSum: 0, timedRuns: 0, secondsSum: 0 },
  );
  const meanCost = total.costRuns > 0 ? total.costSum / total.costRuns : null;
  const meanSeconds = total.timedRuns > 0 ? total.secondsSum / total.timedRuns : null;

  let costUsd = 0;
  let trialSeconds = 0;
  let tasksWithOwnCost = 0;
  for (const taskId of taskIds) {
    const own = byTask.get(taskId);
    if (own && own.costRuns > 0) tasksWithOwnCost += 1;
    costUsd += input.runsPerTask * (own && own.costRuns > 0 ? own.costSum / own.costRuns : (meanCost ?? 0));
    trialSeconds += input.runsPerTask * (own && own.timedRuns > 0 ? own.secondsSum / own.timedRuns : (meanSeconds ?? 0));
  }
  const runs = taskIds.length * input.runsPerTask;
  return {
    agent,
    model,
    tasks: taskIds.length,
    runs,
    costUsd: meanCost === null ? null : costUsd,
    costPerRunUsd: meanCost === null ? null : costUsd / runs,
    costBasisRuns: total.costRuns,
    tasksWithOwnCost,
    trialSeconds: meanSeconds === null ? null : trialSeconds,
    timeBasisRuns: total.timedRuns,
  };
}
