// Wording for a task's format on the task page: timeouts a step may override, network policies,
// and the badges for what a task needs of a runner.
import type { TaskFormat, TaskStep } from './fields';

export function timeout(seconds: number | null | undefined, fallback: string): string {
  if (seconds === null || seconds === undefined) return `the ${fallback}`;
  return seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

export function network(policy: TaskStep['agentNetwork']): string {
  if (!policy) return "the task's";
  if (policy.mode === 'allowlist') return policy.allowedHosts.length ? `only ${policy.allowedHosts.join(', ')}` : 'none (empty allowlist)';
  return policy.mode === 'no-network' ? 'none' : 'public internet';
}

export interface Badge {
  key: string;
  label: string;
  title: string;
}

/** What sets this task apart from a plain Linux, single-step TB2 task. */
export function formatBadges(task: TaskFormat): Badge[] {
  const badges: Badge[] = [];
  if (task.os === 'windows') badges.push({ key: 'windows', label: 'Windows', title: 'Runs in a Windows container: only runners with Windows containers take it' });
  if (task.gpus > 0) {
    const types = task.gpuTypes?.length ? ` (${task.gpuTypes.join(' or ')})` : '';
    badges.push({ key: 'gpu', label: `${task.gpus} GPU${task.gpus === 1 ? '' : 's'}${types}`, title: 'Needs GPUs: only runners that have them take it' });
  }
  if (task.steps) badges.push({ key: 'steps', label: `${task.steps.length} steps`, title: 'A multi-step task: the agent works through its steps in order' });
  if (task.convertedFrom) badges.push({ key: 'converted', label: `converted from ${task.convertedFrom}`, title: 'Uploaded in the Terminal-Bench 1 format and converted on upload' });
  return badges;
}
