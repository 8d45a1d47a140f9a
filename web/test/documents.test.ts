// Every GraphQL document the web app sends, checked against schema.graphql. The type check catches a
// field the app reads but did not select; this catches a document the API would refuse (an unknown
// field selected but never read, a wrong argument, a fragment on the wrong type) before a person does.
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import {
  buildSchema,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  parse,
  typeFromAST,
  validate,
  type DefinitionNode,
  type FragmentDefinitionNode,
  type GraphQLInputType,
  type GraphQLNamedType,
} from 'graphql';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import { defaultEdgeConfig } from '../../api/src/edge/config.js';
import { queryCost } from '../../api/src/edge/query-limits.js';
import { expect, test } from 'vitest';
import { repoRoot } from './support/platform.js';

const webSrc = path.join(repoRoot, 'web/src');

/** The text of every `graphql(`…`)` call under web/src, with where it is. */
async function documents(): Promise<{ file: string; text: string }[]> {
  const found: { file: string; text: string }[] = [];
  for (const entry of await readdir(webSrc, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !/\.(ts|svelte)$/.test(entry.name) || entry.name.endsWith('.d.ts')) continue;
    const file = path.join(entry.parentPath, entry.name);
    const source = readFileSync(file, 'utf8');
    for (const match of source.matchAll(/\bgraphql\(\s*`([^`]*)`/g)) {
      // An interpolation would make the document a runtime string the types cannot follow.
      expect(match[1], `${path.relative(repoRoot, file)}: a graphql() document must not interpolate`).not.toContain('${');
      found.push({ file: path.relative(repoRoot, file), text: match[1]! });
    }
  }
  return found;
}

test('every graphql() document of the web app is valid against schema.graphql and within the query limits', async () => {
  const schema = buildSchema(readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8'));
  const docs = await documents();
  expect(docs.length).toBeGreaterThan(30);

  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: { file: string; definition: DefinitionNode }[] = [];
  for (const { file, text } of docs) {
    for (const definition of parse(text, { noLocation: true }).definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) {
        expect(fragments.has(definition.name.value), `fragment ${definition.name.value} is defined twice`).toBe(false);
        fragments.set(definition.name.value, definition);
      }
      // Fragments are checked with the operations that spread them (alone, each would be "unused").
      else operations.push({ file, definition });
    }
  }

  const problems: string[] = [];
  for (const { file, definition } of operations) {
    // The fragments this operation spreads, and the ones those spread, as gql.tada composes them.
    const needed = new Map<string, FragmentDefinitionNode>();
    const visit = (node: unknown): void => {
      if (!node || typeof node !== 'object') return;
      if ((node as { kind?: string }).kind === Kind.FRAGMENT_SPREAD) {
        const name = (node as { name: { value: string } }).name.value;
        const fragment = fragments.get(name);
        if (fragment && !needed.has(name)) {
          needed.set(name, fragment);
          visit(fragment);
        }
        return;
      }
      for (const value of Object.values(node)) visit(value);
    };
    visit(definition);
    const document = { kind: Kind.DOCUMENT, definitions: [definition, ...needed.values()] } as const;
    for (const error of validate(schema, document)) {
      problems.push(`${file}: ${error.message}`);
    }
    // Within the API's default query limits (api/src/edge), with page sizes not given in the
    // document taken at the default page: a page the limits would refuse is found here, not by a person.
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const variables = Object.fromEntries(
      (definition.variableDefinitions ?? [])
        .filter((v) => v.type.kind === Kind.NON_NULL_TYPE)
        .map((v) => [v.variable.name.value, sample(typeFromAST(schema, v.type as never) as GraphQLInputType)]),
    );
    const cost = queryCost(schema, document, limits.query, variables, definition.name?.value);
    if (cost === undefined || cost > limits.query.maxCost) problems.push(`${file}: ${definition.name?.value} costs ${cost}, over QUERY_MAX_COST ${limits.query.maxCost}`);
    for (const error of validate(schema, document, depthAndAliases)) problems.push(`${file}: ${error.message}`);
  }
  expect(problems).toEqual([]);
});

const limits = defaultEdgeConfig();
const depthAndAliases = [
  maxDepthRule({ n: limits.query.maxDepth }),
  maxAliasesRule({ n: limits.query.maxAliases }),
  maxDirectivesRule({ n: limits.query.maxDirectives }),
];

/** A value of an input type, for the cost of an operation whose variables a page fills in. */
function sample(type: GraphQLInputType): unknown {
  const named = getNullableType(type);
  if (isListType(named)) return [sample(named.ofType)];
  if (isEnumType(named)) return named.getValues()[0]!.value;
  if (isInputObjectType(named)) {
    return Object.fromEntries(Object.values(named.getFields()).filter((f) => isNonNullType(f.type)).map((f) => [f.name, sample(f.type)]));
  }
  const scalars: Record<string, unknown> = { Int: 1, Float: 1, Boolean: true, ID: '00000000-0000-4000-8000-000000000000', DateTime: '2026-01-01T00:00:00Z', JSON: {} };
  return scalars[(named as GraphQLNamedType).name] ?? 'x';
}
