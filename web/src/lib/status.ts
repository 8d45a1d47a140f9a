// Run and job states: one colour and one shape each, so the state reads without colour too.
export type RunStatus = 'QUEUED' | 'CLAIMED' | 'RUNNING' | 'PASSED' | 'FAILED' | 'ERRORED' | 'CANCELLED';
export type JobStatus = 'QUEUED' | 'RUNNING' | 'CANCELLING' | 'COMPLETED' | 'CANCELLED';

export const RUN_STATUSES: RunStatus[] = ['QUEUED', 'CLAIMED', 'RUNNING', 'PASSED', 'FAILED', 'ERRORED', 'CANCELLED'];

export const RUN_CUE: Record<RunStatus, { symbol: string; label: string; css: string }> = {
  QUEUED: { symbol: '○', label: 'queued', css: 'queued' },
  CLAIMED: { symbol: '◔', label: 'starting', css: 'claimed' },
  RUNNING: { symbol: '◐', label: 'running', css: 'running' },
  PASSED: { symbol: '✓', label: 'passed', css: 'passed' },
  FAILED: { symbol: '✗', label: 'failed', css: 'failed' },
  ERRORED: { symbol: '!', label: 'errored', css: 'errored' },
  CANCELLED: { symbol: '⊘', label: 'cancelled', css: 'cancelled' },
};

export const JOB_CUE: Record<JobStatus, { symbol: string; label: string; css: string }> = {
  QUEUED: { symbol: '○', label: 'queued', css: 'queued' },
  RUNNING: { symbol: '◐', label: 'running', css: 'running' },
  CANCELLING: { symbol: '◌', label: 'cancelling', css: 'cancelled' },
  COMPLETED: { symbol: '●', label: 'completed', css: 'passed' },
  CANCELLED: { symbol: '⊘', label: 'cancelled', css: 'cancelled' },
};

export function isFinished(status: RunStatus): boolean {
  return status === 'PASSED' || status === 'FAILED' || status === 'ERRORED' || status === 'CANCELLED';
}
