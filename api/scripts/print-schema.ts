// Writes schema.graphql at the repository root from the Pothos schema (a test fails when it is stale).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../src/config/paths.js';
import { printedSchema } from '../src/schema/print.js';

const file = path.join(repoRoot, 'schema.graphql');
writeFileSync(file, printedSchema());
console.log(`wrote ${path.relative(process.cwd(), file)}`);
