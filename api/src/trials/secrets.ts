// The provider keys a run's Harbor process was given, as a scrubber for what the API serves from its
// trial directory. The runner scrubs the live log, but Harbor only redacts keys written literally in
// agents[].env (harbor-contract.md §2), and the platform hands keys over through the environment
// instead: whatever an agent printed (an installed agent's log, the pane, trial.log) stays in the files.
import { createScrubber, open, type Replacement, type Scrubber } from 'runner/secrets';

export interface TrialSecretsDeps {
  /** Opens a job's sealed key; null when SECRETS_KEY is not configured (then no job has one). */
  secretsKey: Buffer | null;
  /** The server's default provider keys (DEFAULT_<VAR>), in clear. */
  defaultProviderKeys: readonly string[];
  /** Host paths and their placeholders (hostPathPlaceholders): Harbor's config.json names TASKS_DIR and JOBS_DIR. */
  hostPaths?: readonly Replacement[];
}

/** What to select of a run, beside what the caller reads anyway, to build its scrubber: no second query. */
export const RUN_SECRET_SELECT = { job: { select: { providerSecret: { select: { envVar: true, ciphertext: true } } } } } as const;

export interface RunSecret {
  job: { providerSecret: { envVar: string; ciphertext: string } | null };
}

export type TrialScrubbers = (run: RunSecret) => Scrubber;

/**
 * A run's scrubber: its job's own key and the server's default keys (a run gets one or the other;
 * scrubbing both costs nothing and cannot miss). A key that will not open is left out: the runner
 * could not have opened it either, so Harbor never had it.
 */
export function trialScrubbers(deps: TrialSecretsDeps): TrialScrubbers {
  return (run) => {
    const sealed = run.job.providerSecret;
    const own: string[] = [];
    if (sealed && deps.secretsKey) {
      try {
        own.push(open(deps.secretsKey, sealed.ciphertext, sealed.envVar));
      } catch {
        // Not the key the runners share: see above.
      }
    }
    return createScrubber([...own, ...deps.defaultProviderKeys], deps.hostPaths);
  };
}
