// The Harbor job config for one Run: one job, one trial (harbor-contract.md §2). Everything is
// explicit and absolute, so `harbor run -c` is a complete, reproducible spec. Secrets never
// appear here: terminus-2 would export `agents[].env` into the task container.
import { harborJobName } from '../protocol/layout.js';
import type { RunOrder } from '../protocol/messages.js';

export interface HarborJobConfig {
  job_name: string;
  jobs_dir: string;
  n_attempts: 1;
  n_concurrent_trials: 1;
  timeout_multiplier: number;
  agent_timeout_multiplier: number | null;
  verifier_timeout_multiplier: number | null;
  agent_setup_timeout_multiplier: number | null;
  environment_build_timeout_multiplier: number | null;
  retry: { max_retries: number };
  environment: { type: string; force_build: boolean; delete: true; kwargs: Record<string, never> };
  agents: { name: string; model_name: string | null; kwargs: Record<string, unknown>; env: Record<string, never>; override_timeout_sec: null }[];
  tasks: { path: string; source: string }[];
}

export function buildHarborJobConfig(order: RunOrder, paths: { taskDir: string; jobsDir: string }, deliveryCount: number): HarborJobConfig {
  const h = order.harbor;
  return {
    job_name: harborJobName({ runId: order.runId, dispatch: order.dispatch, delivery: deliveryCount }),
    jobs_dir: paths.jobsDir,
    n_attempts: 1,
    n_concurrent_trials: 1,
    timeout_multiplier: h.timeoutMultiplier,
    agent_timeout_multiplier: h.agentTimeoutMultiplier,
    verifier_timeout_multiplier: h.verifierTimeoutMultiplier,
    agent_setup_timeout_multiplier: h.agentSetupTimeoutMultiplier,
    environment_build_timeout_multiplier: h.environmentBuildTimeoutMultiplier,
    retry: { max_retries: h.maxRetries },
    environment: { type: h.environmentType, force_build: h.forceBuild, delete: true, kwargs: {} },
    agents: [{ name: order.agent, model_name: order.model, kwargs: h.agentKwargs, env: {}, override_timeout_sec: null }],
    tasks: [{ path: paths.taskDir, source: order.source }],
  };
}
