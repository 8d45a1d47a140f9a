// Thin, typed calls over the urql client that turn every failure into a sentence a person can act on.
import type { AnyVariables, Client, DocumentInput, OperationResult } from '@urql/core';
import { graphql } from './graphql.js';

/** A failure reported by the API (or the network), with the API's code when it gave one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code?: string,
    /** The argument or input field at fault, for InvalidInputError. */
    readonly field?: string,
  ) {
    super(message);
  }
}

function explain(result: OperationResult): ApiError | undefined {
  const error = result.error;
  if (!error) return undefined;
  if (error.networkError) {
    return new ApiError('Cannot reach the API. Check that the platform is running, then try again.', 'NETWORK');
  }
  const first = error.graphQLErrors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : undefined;
  return new ApiError(first?.message ?? error.message, code);
}

// Documents made with `graphql` (graphql.ts) carry their result and variable types; a plain string
// (a document built at run time) needs its result type spelled out.
export async function query<Data, Variables extends AnyVariables = AnyVariables>(
  client: Client,
  doc: DocumentInput<Data, Variables>,
  variables: Variables = {} as Variables,
): Promise<Data> {
  const result = await client.query(doc, variables).toPromise();
  const error = explain(result);
  if (error) throw error;
  return result.data as Data;
}

export async function mutate<Data, Variables extends AnyVariables = AnyVariables>(
  client: Client,
  doc: DocumentInput<Data, Variables>,
  variables: Variables = {} as Variables,
): Promise<Data> {
  const result = await client.mutation(doc, variables).toPromise();
  const error = explain(result);
  if (error) throw error;
  return result.data as Data;
}

/** The error types' fields, spread into every result union next to `__typename`. */
export const ErrorFields = graphql(`
  fragment ErrorFields on Error {
    code
    message
    ... on InvalidInputError { field }
  }
`);

type Failure = { __typename: string; code: string; message: string; field?: string | null };

/** The payload of a result union's success, or an ApiError carrying the error type's message and code. */
export function unwrap<Outcome extends { __typename: string }>(outcome: Outcome): Extract<Outcome, { data: unknown }>['data'] {
  if ('data' in outcome) return outcome.data as Extract<Outcome, { data: unknown }>['data'];
  const failure = outcome as unknown as Partial<Failure>;
  throw new ApiError(failure.message ?? `The API answered ${outcome.__typename}.`, failure.code, failure.field ?? undefined);
}

/** Follows a subscription; returns the function that stops it. */
export function follow<Data, Variables extends AnyVariables = AnyVariables>(
  client: Client,
  doc: DocumentInput<Data, Variables>,
  variables: Variables,
  onData: (data: Data) => void,
  onError?: (error: ApiError) => void,
): () => void {
  const { unsubscribe } = client.subscription(doc, variables).subscribe((result) => {
    const error = explain(result);
    if (error) onError?.(error);
    else if (result.data) onData(result.data);
  });
  return unsubscribe;
}
