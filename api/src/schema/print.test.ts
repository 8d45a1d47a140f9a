import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../config/paths.js';
import { printedSchema } from './print.js';

it('schema.graphql matches the schema built from the code (run `npm run schema:print` after a change)', () => {
  const committed = readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8');
  expect(committed).toBe(printedSchema());
});
