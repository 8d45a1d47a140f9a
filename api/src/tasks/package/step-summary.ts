// What the task page shows of each step of a multi-step task: its instruction (an excerpt), the
// timeouts and network policy it overrides, where its tests come from and the files under
// steps/<name>/. Built once at upload and stored with the task (Task.steps).
import type { NetworkPolicy, TaskStepConfig } from './task-steps.js';

/** Enough to read what a step asks; the full text stays in the package. */
export const STEP_INSTRUCTION_EXCERPT = 2_000;

export interface TaskStepSummary {
  name: string;
  instruction: string;
  instructionTruncated: boolean;
  agentTimeoutSec: number | null;
  verifierTimeoutSec: number | null;
  agentNetwork: NetworkPolicy | null;
  verifierNetwork: NetworkPolicy | null;
  minReward: number | Record<string, number> | null;
  /** The step's own tests/, the task's shared tests/, or a separate verifier environment. */
  tests: 'step' | 'task' | 'separate';
  /** A reference solution for the oracle: the step's own or the task's. */
  solution: 'step' | 'task' | null;
  /** Paths relative to steps/<name>/, sorted. */
  files: string[];
}

export function summariseSteps(
  steps: TaskStepConfig[],
  taskSeparateVerifier: boolean,
  windows: boolean,
  files: string[],
  instructions: Map<string, string>,
): TaskStepSummary[] {
  const has = new Set(files);
  const test = windows ? 'test.bat' : 'test.sh';
  const solve = windows ? 'solve.bat' : 'solve.sh';
  return steps.map((step) => {
    const prefix = `steps/${step.name}/`;
    const text = instructions.get(step.name) ?? '';
    const separate = step.separateVerifier ?? taskSeparateVerifier;
    return {
      name: step.name,
      instruction: text.slice(0, STEP_INSTRUCTION_EXCERPT),
      instructionTruncated: text.length > STEP_INSTRUCTION_EXCERPT,
      agentTimeoutSec: step.agentTimeoutSec,
      verifierTimeoutSec: step.verifierTimeoutSec,
      agentNetwork: step.agentNetwork,
      verifierNetwork: step.verifierNetwork,
      minReward: step.minReward,
      tests: separate ? 'separate' : has.has(`${prefix}tests/${test}`) ? 'step' : 'task',
      solution: has.has(`${prefix}solution/${solve}`) ? 'step' : has.has(`solution/${solve}`) ? 'task' : null,
      files: files.filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length)),
    };
  });
}
