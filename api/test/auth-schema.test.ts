// Every root field refuses an anonymous caller unless it is on the public allow-list. The resolvers
// are called directly with an anonymous context that throws on any other use, so a field added
// without an auth rule reaches its resolver, touches the context and fails this test.
import { GraphQLObjectType, type GraphQLField, type GraphQLResolveInfo } from 'graphql';
import { describe, expect, it } from 'vitest';
import { toSchema } from '../src/schema/index.js';

const PUBLIC = ['Query.health', 'Mutation.login'];

const schema = toSchema();

function anonymousContext() {
  const known: Record<string, unknown> = { viewer: null, authProblem: null };
  return new Proxy(known, {
    get(target, key) {
      if (typeof key === 'symbol' || key in target) return target[key as string];
      throw new Error(`resolver ran for an anonymous caller and used ctx.${key}`);
    },
  });
}

function infoFor(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>, operation: 'query' | 'mutation' | 'subscription') {
  return {
    fieldName: field.name,
    fieldNodes: [],
    returnType: field.type,
    parentType: type,
    path: { prev: undefined, key: field.name, typename: type.name },
    schema,
    fragments: {},
    rootValue: {},
    operation: { kind: 'OperationDefinition', operation, selectionSet: { kind: 'SelectionSet', selections: [] } },
    variableValues: {},
  } as unknown as GraphQLResolveInfo;
}

async function callAnonymously(type: GraphQLObjectType, field: GraphQLField<unknown, unknown>, operation: 'query' | 'mutation' | 'subscription') {
  const call = operation === 'subscription' ? field.subscribe : field.resolve;
  if (!call) return { code: 'NO_RESOLVER' };
  try {
    const result = await call({}, {}, anonymousContext(), infoFor(type, field, operation));
    // A subscription's refusal may come as the first event of its iterator.
    if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function') {
      await (result as AsyncIterable<unknown>)[Symbol.asyncIterator]().next();
    }
    return { code: 'ANSWERED' };
  } catch (error) {
    return { code: (error as { code?: string }).code ?? 'THREW', message: (error as Error).message };
  }
}

const roots = [
  [schema.getQueryType()!, 'query'],
  [schema.getMutationType()!, 'mutation'],
  [schema.getSubscriptionType()!, 'subscription'],
] as const;
const fields = roots.flatMap(([type, operation]) => Object.values(type.getFields()).map((field) => ({ type, field, operation, name: `${type.name}.${field.name}` })));

describe('every GraphQL operation needs a signed-in caller', () => {
  it('covers all three root types', () => {
    expect(fields.length).toBeGreaterThan(30);
    for (const [type] of roots) expect(fields.some((f) => f.type === type)).toBe(true);
    for (const name of PUBLIC) expect(fields.map((f) => f.name)).toContain(name);
  });

  it.each(fields.filter((f) => !PUBLIC.includes(f.name)).map((f) => [f.name, f] as const))('%s refuses an anonymous caller', async (_name, f) => {
    const outcome = await callAnonymously(f.type, f.field, f.operation);
    expect(outcome).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it.each(PUBLIC)('%s is open to anonymous callers', async (name) => {
    const f = fields.find((candidate) => candidate.name === name)!;
    const outcome = await callAnonymously(f.type, f.field, f.operation);
    expect(outcome.code).not.toBe('UNAUTHENTICATED');
    expect(outcome.code).not.toBe('FORBIDDEN');
  });
});
