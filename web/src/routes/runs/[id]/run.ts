// The Run fields the run page shows, for the query and the runUpdated subscription alike.
import { graphql, type ResultOf } from '$lib/graphql/graphql';

export const RunFields = graphql(`
  fragment RunView on Run {
    id status repeat attempt attemptRole runnerId deliveryCount retryOfId
    reward rewards exceptionType exceptionMessage failureKind
    inputTokens outputTokens cacheTokens costUsd
    environmentSetupMs agentSetupMs agentExecutionMs verifierMs
    createdAt claimedAt startedAt finishedAt logUrl filesUrl
    agentVersion verifierEnvironmentMode exceptionTraceback exceptionOccurredAt
    modelUsage { model inputTokens cacheTokens outputTokens costUsd }
    agentMetadata { values omittedKeys apiRequestTimes { count medianMs p95Ms maxMs } }
    stepResults { name reward rewards exceptionType exceptionMessage agentExecutionMs verifierMs inputTokens outputTokens costUsd }
    task { id name }
    job { id name agent model }
    rewardFlag rewardFlagDetail
    regradeOf { id status reward }
    regrades { id status reward }
    regradeTask { id name }
  }
`);

export type RunView = ResultOf<typeof RunFields>;

export const RUN = graphql(`query Run($id: ID!) { run(id: $id) { ...RunView } }`, [RunFields]);

export const RUN_UPDATED = graphql(`subscription RunUpdated($jobId: ID!) { runUpdated(jobId: $jobId) { ...RunView } }`, [RunFields]);

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
