// Which environment types the live runners can serve now, and why the others cannot be (issue 16
// item 7): what the New job page offers, and what a job whose runs no runner takes is waiting for.
import { describePool, ENVIRONMENT_TYPES, servesPool, type EnvironmentType } from 'runner/protocol';
import type { Db } from '../db/client.js';
import { waitingPools } from '../jobs/dispatcher.js';
import { runnerCapabilities, runnerPools, type RunnerState } from './service.js';

export interface EnvironmentAvailability {
  environmentType: EnvironmentType;
  /** Some live runner serves it. */
  available: boolean;
  /** The live runners serving it. */
  runnerIds: string[];
  /** Why not, runner by runner ("runner-a: Docker is not reachable"); empty when available. */
  reasons: string[];
}

/** Runners that take orders now, or will again soon: live or degraded (a re-probe brings them back). */
const taking = (runners: RunnerState[]) => runners.filter((r) => r.state === 'LIVE' || r.state === 'DEGRADED');

export function environmentAvailability(runners: RunnerState[]): EnvironmentAvailability[] {
  const up = taking(runners);
  return ENVIRONMENT_TYPES.map((environmentType) => {
    const serving = up.filter((r) => runnerCapabilities(r).environmentTypes.includes(environmentType));
    const reasons =
      serving.length > 0
        ? []
        : up.length === 0
          ? ['no runner is live']
          : up.map((r) => `${r.runnerId}: ${runnerCapabilities(r).unavailable.find((u) => u.environmentType === environmentType)?.reason ?? `does not serve ${environmentType}`}`);
    return { environmentType, available: serving.length > 0, runnerIds: serving.map((r) => r.runnerId), reasons };
  });
}

/**
 * What a job's waiting runs wait for when no live runner serves their pool, e.g. "waiting for a
 * runner that can serve modal (GPU)"; null when every pool with waiting runs has a runner.
 */
export async function waitingForRunner(db: Db, jobId: string, runners: RunnerState[]): Promise<string | null> {
  const up = taking(runners);
  const pools = await db.$transaction((tx) => waitingPools(tx, jobId));
  const unserved = pools.map((p) => p.pool).filter((pool) => !up.some((r) => servesPool(runnerCapabilities(r), pool)));
  if (unserved.length === 0) return null;
  return `waiting for a runner that can serve ${unserved.map(describePool).join(', ')}`;
}

export { runnerPools };
