import { readFileSync } from 'node:fs';
import { buildSchema, Kind, parse, print, validate } from 'graphql';
import path from 'node:path';
import { expect, it } from 'vitest';
import { repoRoot } from '../config/paths.js';
import { printedSchema } from './print.js';

it('schema.graphql matches the schema built from the code (run `npm run schema:print` after a change)', () => {
  const committed = readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8');
  expect(committed).toBe(printedSchema());
});

it("every GraphQL example in docs/api.md is valid against the schema, so the API's manual cannot drift from it", () => {
  const schema = buildSchema(readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8'));
  const manual = readFileSync(path.join(repoRoot, 'docs/api.md'), 'utf8');
  const blocks = [...manual.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks.length).toBeGreaterThan(10);
  const problems: string[] = [];
  for (const block of blocks) {
    const document = parse(block);
    const fragments = document.definitions.filter((d) => d.kind === Kind.FRAGMENT_DEFINITION);
    // A block may list several anonymous operations: each is checked on its own.
    for (const operation of document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION)) {
      for (const error of validate(schema, { kind: Kind.DOCUMENT, definitions: [operation, ...fragments] })) {
        problems.push(`${error.message} in: ${print(operation).replace(/\s+/g, ' ').slice(0, 120)}`);
      }
    }
  }
  expect(problems).toEqual([]);
});
