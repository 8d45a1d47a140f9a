// The Run fields the run page shows, for the query and the runUpdated subscription alike.
export const RUN_FIELDS = `
  id status repeat attempt runnerId deliveryCount retryOfId
  reward rewards exceptionType exceptionMessage failureKind
  inputTokens outputTokens cacheTokens costUsd
  environmentSetupMs agentSetupMs agentExecutionMs verifierMs
  createdAt claimedAt startedAt finishedAt logUrl filesUrl
  task { id name }
  job { id name agent model }
`;

export interface RunView {
  id: string;
  status: string;
  repeat: number;
  attempt: number;
  runnerId: string | null;
  deliveryCount: number;
  retryOfId: string | null;
  reward: number | null;
  rewards: unknown;
  exceptionType: string | null;
  exceptionMessage: string | null;
  failureKind: 'AGENT' | 'INFRASTRUCTURE' | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheTokens: number | null;
  costUsd: number | null;
  environmentSetupMs: number | null;
  agentSetupMs: number | null;
  agentExecutionMs: number | null;
  verifierMs: number | null;
  createdAt: string;
  claimedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  logUrl: string;
  filesUrl: string | null;
  task: { id: string; name: string };
  job: { id: string; name: string; agent: string; model: string | null };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
