// Limits on what one GraphQL operation may ask for, checked before anything runs: depth, aliases,
// directives and tokens by graphql-armor (validation and parse rules), and cost by
// graphql-query-complexity with an estimator that multiplies by `first`/`last` — armor's own cost
// rule does not read arguments, and a 250-byte query nesting `runs(first: 30)` four levels deep asks
// for 30⁴ objects. These are envelop plugins, so they apply to HTTP and to the WebSocket alike (app.ts
// runs WebSocket operations through yoga.getEnveloped).
import type { Plugin } from 'graphql-yoga';
import { EnvelopArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { QueryLimits } from './config.js';

export const QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX';

/**
 * One unit per field; a field with `first`/`last` arguments (a page) multiplies the cost of what it
 * selects by the count asked, or by the default page size when neither is given.
 */
export function pageEstimator(defaultPage: number): ComplexityEstimator {
  return ({ field, args, childComplexity }) => {
    if (!field.args.some((a) => a.name === 'first' || a.name === 'last')) return 1 + childComplexity;
    const asked = Number(args.first ?? args.last ?? defaultPage);
    return 1 + Math.max(1, Number.isFinite(asked) ? asked : defaultPage) * childComplexity;
  };
}

/** The cost of an operation; undefined when the document or its variables are invalid (execution reports that). */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: QueryLimits,
  variables?: Record<string, unknown> | null,
  operationName?: string | null,
): number | undefined {
  try {
    return getComplexity({
      schema,
      query: document,
      variables: variables ?? {},
      operationName: operationName ?? undefined,
      estimators: [pageEstimator(limits.defaultPage)],
    });
  } catch {
    return undefined;
  }
}

function tooComplex(cost: number, limits: QueryLimits): GraphQLError {
  return new GraphQLError(
    `The operation is too costly: it could read about ${cost} fields (each page multiplies what it selects by first/last), and the limit is ${limits.maxCost}. Ask for smaller pages or fewer nested lists.`,
    { extensions: { code: QUERY_TOO_COMPLEX, http: { status: 400 } } },
  );
}

function costLimit(limits: QueryLimits): Plugin {
  // Execute and subscribe share the check: a subscription's selection is paid on every event.
  const check = ({ args, setResultAndStopExecution }: {
    args: { schema: GraphQLSchema; document: DocumentNode; variableValues?: Record<string, unknown> | null; operationName?: string | null };
    setResultAndStopExecution: (result: { errors: GraphQLError[] }) => void;
  }) => {
    const cost = queryCost(args.schema, args.document, limits, args.variableValues, args.operationName);
    if (cost !== undefined && cost > limits.maxCost) setResultAndStopExecution({ errors: [tooComplex(cost, limits)] });
  };
  return { onExecute: check as never, onSubscribe: check as never };
}

export function queryLimitPlugins(limits: QueryLimits): Plugin[] {
  const armor = new EnvelopArmor({
    maxDepth: { n: limits.maxDepth },
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { n: limits.maxTokens },
    // Cost is ours (above); field suggestions help people writing queries and reveal nothing the
    // introspectable schema does not.
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
  // Envelop plugins with no context needs: yoga takes them as they are.
  return [...(armor.protect().plugins as Plugin[]), costLimit(limits)];
}
