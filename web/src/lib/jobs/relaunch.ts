// "Launch again": the New job form filled from an earlier job, so the same tasks can be run with
// another model (or more runs) and the two jobs compared. What the form cannot carry is said, not
// dropped silently: per-phase timeout multipliers set through the API, and the job's own provider key
// (stored keys are never read back).
import { graphql, type ResultOf } from '../graphql/graphql';

export const RELAUNCH_SOURCE = graphql(`
  query RelaunchSource($id: ID!) {
    job(id: $id) {
      id name agent model runsPerTask harborOptions budgetUsd hasProviderKey
      taskStats { task { id name } }
      datasetVersion { id taskCount }
    }
  }
`);

type SourceJob = NonNullable<ResultOf<typeof RELAUNCH_SOURCE>['job']>;

export interface LaunchForm {
  agent: string;
  model: string;
  runsPerTask: number;
  tasks: { id: string; name: string }[];
  environmentType: string;
  timeoutMultiplier: number | null;
  maxRetries: number | null;
  forceBuild: boolean;
  agentKwargs: string;
  budgetUsd: number | null;
  /** The dataset version to launch on again: the source ran all of its tasks on it; null: the tasks as picked. */
  datasetVersionId: string | null;
  /** What was not copied, in words; empty when everything was. */
  notCopied: string[];
}

const PHASE_MULTIPLIERS = ['agentTimeoutMultiplier', 'verifierTimeoutMultiplier', 'agentSetupTimeoutMultiplier', 'environmentBuildTimeoutMultiplier'];

export function formFromJob(job: SourceJob): LaunchForm {
  const options = (job.harborOptions && typeof job.harborOptions === 'object' ? job.harborOptions : {}) as Record<string, unknown>;
  const num = (key: string, unset: number) => (typeof options[key] === 'number' && options[key] !== unset ? (options[key] as number) : null);
  const kwargs = options.agentKwargs && typeof options.agentKwargs === 'object' && Object.keys(options.agentKwargs).length ? JSON.stringify(options.agentKwargs) : '';
  const notCopied: string[] = [];
  const phases = PHASE_MULTIPLIERS.filter((key) => typeof options[key] === 'number');
  if (phases.length) notCopied.push(`the per-phase timeout multipliers (${phases.join(', ')})`);
  if (job.hasProviderKey) notCopied.push("the job's own provider key (enter it again, or leave it empty for the server's default)");
  return {
    agent: job.agent,
    model: job.model ?? '',
    runsPerTask: job.runsPerTask,
    tasks: job.taskStats.map((s) => s.task),
    environmentType: typeof options.environmentType === 'string' && options.environmentType !== 'docker' ? options.environmentType : '',
    timeoutMultiplier: num('timeoutMultiplier', 1),
    maxRetries: num('maxRetries', 0),
    forceBuild: options.forceBuild === true,
    agentKwargs: kwargs,
    budgetUsd: job.budgetUsd,
    datasetVersionId: job.datasetVersion && job.datasetVersion.taskCount === job.taskStats.length ? job.datasetVersion.id : null,
    notCopied,
  };
}
