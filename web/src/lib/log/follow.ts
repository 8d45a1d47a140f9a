// Follows a run's log over graphql-ws: the whole log from the start, then live, until the API
// completes the subscription because the run has ended and every line was sent.
import { stringifyDocument } from '@urql/core';
import type { Client } from 'graphql-ws';
import { graphql, type ResultOf } from '../graphql/graphql';
import { ApiError } from '../graphql/ops';

const RUN_LOG = graphql(`
  subscription RunLog($runId: ID!, $after: Float) {
    runLog(runId: $runId, after: $after) { position lines { source file text at } }
  }
`);

export type LogChunk = ResultOf<typeof RUN_LOG>['runLog'];

export interface LogFollowHandlers {
  chunk(chunk: LogChunk): void;
  /** The run has ended and its log was read to the end. */
  end(): void;
  error(error: ApiError): void;
}

interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

function codeOf(error: GraphQLErrorLike | undefined): string | undefined {
  const code = error?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

function explain(error: unknown): ApiError {
  if (Array.isArray(error) && error.length) {
    const first = error[0] as GraphQLErrorLike;
    return new ApiError(first.message, codeOf(first));
  }
  if (error instanceof Error) return new ApiError(error.message);
  if (typeof CloseEvent !== 'undefined' && error instanceof CloseEvent) {
    return new ApiError(`The live connection closed (${error.code}${error.reason ? `: ${error.reason}` : ''}).`, 'NETWORK');
  }
  return new ApiError('The log stream failed for an unknown reason.');
}

/** Starts following; returns the function that stops. */
export function followRunLog(ws: Client, runId: string, on: LogFollowHandlers): () => void {
  // Resuming without gaps or repeats: graphql-ws, when the socket drops and it reconnects, retries
  // the subscription by sending this SAME payload object again. So `variables.after` is kept at the
  // position of the last chunk received, and the retry asks for exactly what follows it: nothing
  // missed, nothing twice. A SLOW_CONSUMER error (we stopped reading for 30 s, e.g. a background
  // tab) ends the subscription; we subscribe again with the same payload and so the same `after`.
  const payload = { query: stringifyDocument(RUN_LOG), variables: { runId, after: null as number | null } };
  let stopped = false;
  let unsubscribe: () => void = () => {};

  const start = () => {
    let slow = false;
    let failed = false;
    unsubscribe = ws.subscribe<ResultOf<typeof RUN_LOG>>(payload, {
      next: (result) => {
        if (stopped) return;
        if (result.errors?.length) {
          const first = result.errors[0] as GraphQLErrorLike;
          if (codeOf(first) === 'SLOW_CONSUMER') slow = true;
          else {
            failed = true;
            on.error(new ApiError(first.message, codeOf(first)));
          }
          return;
        }
        const chunk = result.data?.runLog;
        if (!chunk) return;
        // Positions only grow; anything at or before the last one was already shown.
        if (payload.variables.after !== null && chunk.position <= payload.variables.after) return;
        payload.variables.after = chunk.position;
        on.chunk(chunk);
      },
      error: (error) => {
        if (stopped) return;
        if (Array.isArray(error) && error.some((e) => codeOf(e as GraphQLErrorLike) === 'SLOW_CONSUMER')) {
          queueMicrotask(resubscribe);
          return;
        }
        failed = true;
        on.error(explain(error));
      },
      complete: () => {
        if (stopped || failed) return;
        if (slow) queueMicrotask(resubscribe);
        else on.end();
      },
    });
  };
  const resubscribe = () => {
    if (stopped) return;
    unsubscribe();
    start();
  };

  start();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
