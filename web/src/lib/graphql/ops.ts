// Thin, typed calls over the urql client that turn every failure into a sentence a person can act on.
import type { Client, OperationResult } from '@urql/core';
import type { DocumentNode } from 'graphql';

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

type Doc = string | DocumentNode;

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

export async function query<T>(client: Client, doc: Doc, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await client.query(doc, variables).toPromise();
  const error = explain(result);
  if (error) throw error;
  return result.data as T;
}

export async function mutate<T>(client: Client, doc: Doc, variables: Record<string, unknown> = {}): Promise<T> {
  const result = await client.mutation(doc, variables).toPromise();
  const error = explain(result);
  if (error) throw error;
  return result.data as T;
}

/** A mutation result union: the success payload's `data`, or one of the Error types. */
export interface Outcome<T> {
  __typename: string;
  data?: T;
  message?: string;
  code?: string;
  field?: string;
}

/** The payload of a success, or an ApiError carrying the error type's message and code. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.data !== undefined) return outcome.data;
  throw new ApiError(outcome.message ?? `The API answered ${outcome.__typename}.`, outcome.code, outcome.field);
}

/** Follows a subscription; returns the function that stops it. */
export function follow<T>(
  client: Client,
  doc: Doc,
  variables: Record<string, unknown>,
  onData: (data: T) => void,
  onError?: (error: ApiError) => void,
): () => void {
  const { unsubscribe } = client.subscription(doc, variables).subscribe((result) => {
    const error = explain(result);
    if (error) onError?.(error);
    else if (result.data) onData(result.data as T);
  });
  return unsubscribe;
}

export const ERROR_FIELDS = `
  __typename
  ... on Error { code message }
  ... on InvalidInputError { field }
`;
