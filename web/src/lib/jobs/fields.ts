// The job fields list views and the job page read, in one place so subscriptions and queries agree.
export const JOB_ROW = `
  id name status agent model runsPerTask createdAt startedAt finishedAt cancelRequestedAt
  runsTotal runsQueued runsClaimed runsRunning runsPassed runsFailed runsErrored runsCancelled
  costUsd inputTokens outputTokens cacheTokens
  stats { passRate scored passed }
`;

export interface JobRow {
  id: string;
  name: string;
  status: 'QUEUED' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED';
  agent: string;
  model: string | null;
  runsPerTask: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  cancelRequestedAt: string | null;
  runsTotal: number;
  runsQueued: number;
  runsClaimed: number;
  runsRunning: number;
  runsPassed: number;
  runsFailed: number;
  runsErrored: number;
  runsCancelled: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
  cacheTokens: number;
  stats: { passRate: number | null; scored: number; passed: number };
}
