// What the leaderboard and heatmap pages read from the API (issue 17's contract), as typed documents.
import { graphql, type ResultOf } from '../graphql/graphql';
import { ErrorFields } from '../graphql/ops';

/** The dataset and its versions, for the title and the version picker (`?version=`, default the latest). */
export const DATASET = graphql(`
  query LeaderboardDataset($id: ID!) {
    dataset(id: $id) {
      id name
      versions { id version label taskCount createdAt }
      latestVersion { id }
    }
  }
`);

export const LeaderboardRowFields = graphql(`
  fragment LeaderboardRowFields on LeaderboardRow {
    key rank agent model agentVersion complete tasksCovered taskCount trials unfinished
    jobs { id name }
    accuracy standardError ci95Low ci95High
    passAt1 minAttemptsPerTask passAtK { k value } passHatK { k value }
    costUsd costPerTrial costPerSuccess tokensPerTrial tokensPerSuccess
    medianTrialSec infrastructureErrors infrastructureErrorRate
  }
`);

export const LeaderboardFields = graphql(
  `
  fragment LeaderboardFields on Leaderboard {
    taskCount rule emptyReason computedAt includesInfrastructure splitByAgentVersion
    datasetVersion { id label }
    rows { ...LeaderboardRowFields }
  }
`,
  [LeaderboardRowFields],
);

export const LEADERBOARD = graphql(
  `
  query Leaderboard($versionId: ID!, $agent: String, $model: String, $infra: Boolean, $split: Boolean) {
    leaderboard(datasetVersionId: $versionId, agent: $agent, model: $model, includeInfrastructure: $infra, splitByAgentVersion: $split) {
      __typename ...ErrorFields
      ... on QueryLeaderboardSuccess { data { ...LeaderboardFields } }
    }
  }
`,
  [ErrorFields, LeaderboardFields],
);

export const LEADERBOARD_LIVE = graphql(
  `
  subscription LeaderboardLive($versionId: ID!, $agent: String, $model: String, $infra: Boolean, $split: Boolean) {
    leaderboardUpdated(datasetVersionId: $versionId, agent: $agent, model: $model, includeInfrastructure: $infra, splitByAgentVersion: $split) {
      ...LeaderboardFields
    }
  }
`,
  [LeaderboardFields],
);

export const COMPARE_ROWS = graphql(
  `
  query CompareLeaderboardRows($versionId: ID!, $a: String!, $b: String!, $infra: Boolean) {
    compareLeaderboardRows(datasetVersionId: $versionId, a: $a, b: $b, includeInfrastructure: $infra) {
      __typename ...ErrorFields
      ... on QueryCompareLeaderboardRowsSuccess { data {
        commonTasks meanA meanB difference differenceLow differenceHigh mcnemarP
        onlyA onlyB onlyATasks { name task { id } } onlyBTasks { name task { id } }
      } }
    }
  }
`,
  [ErrorFields],
);

export const HEATMAP = graphql(
  `
  query DatasetHeatmap($versionId: ID!, $agent: String, $model: String, $infra: Boolean) {
    datasetHeatmap(datasetVersionId: $versionId, agent: $agent, model: $model, includeInfrastructure: $infra) {
      __typename ...ErrorFields
      ... on QueryDatasetHeatmapSuccess { data {
        columns { key agent model agentVersion }
        tasks { task { id } name meanPassRate disagreement flags cells { key n passed passRate meanReward flaky } }
      } }
    }
  }
`,
  [ErrorFields],
);

export type Dataset = NonNullable<ResultOf<typeof DATASET>['dataset']>;
export type Leaderboard = ResultOf<typeof LeaderboardFields>;
export type LeaderboardRow = ResultOf<typeof LeaderboardRowFields>;
export type RowComparison = Extract<ResultOf<typeof COMPARE_ROWS>['compareLeaderboardRows'], { data: unknown }>['data'];
export type Heatmap = Extract<ResultOf<typeof HEATMAP>['datasetHeatmap'], { data: unknown }>['data'];
export type HeatmapTask = Heatmap['tasks'][number];
export type HeatmapColumn = Heatmap['columns'][number];
