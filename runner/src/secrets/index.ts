// What the API shares with the runner about provider keys: sealing them, and scrubbing them from text.
export { open, parseSecretsKey, seal, SecretsKeyError } from './sealed.js';
export { createScrubber, REDACTED, type Scrubber } from './scrub.js';
