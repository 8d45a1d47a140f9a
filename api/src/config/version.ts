import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths.js';

/** The platform version, from the API package. */
export const platformVersion: string = (
  JSON.parse(readFileSync(path.join(repoRoot, 'api/package.json'), 'utf8')) as { version: string }
).version;
