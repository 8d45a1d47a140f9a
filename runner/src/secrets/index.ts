// What the API shares with the runner about provider keys: sealing them, the variables they may be
// given to Harbor in, and scrubbing them from text.
export { open, parseSecretsKey, seal, SecretsKeyError } from './sealed.js';
export { createScrubber, REDACTED, type Replacement, type Scrubber } from './scrub.js';
export { hostPathPlaceholders } from './host-paths.js';
export { PROVIDER_ENV_VARS, PROVIDER_KEY_VARS, providerEnvVarProblem, RUNNER_PASSED_THROUGH_ENV } from './env-vars.js';
