// GraphQL shapes of a task's format: the steps of a multi-step task and their network policy, the
// runtime it needs (OS, GPUs; read from task.toml as parsed, the same place runner routing reads
// them) and, for a converted Terminal-Bench 1 task, the conversion notes.
import type { NetworkPolicy, TaskStepSummary } from './package/index.js';
import { builder } from '../schema/builder.js';

const NetworkPolicyRef = builder.objectRef<NetworkPolicy>('NetworkPolicy').implement({
  description: "A phase's network access (Harbor's network_mode / allowed_hosts).",
  fields: (t) => ({
    mode: t.exposeString('mode', { description: 'public, no-network or allowlist.' }),
    allowedHosts: t.exposeStringList('allowedHosts', { description: 'Reachable hosts under allowlist.' }),
  }),
});

export const TaskStepRef = builder.objectRef<TaskStepSummary>('TaskStep').implement({
  description: 'One step of a multi-step task, in order: the agent gets its instruction, then its verifier runs.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'Also its folder: steps/<name>/.' }),
    instruction: t.exposeString('instruction', { description: 'steps/<name>/instruction.md, Markdown source (an excerpt when long).' }),
    instructionTruncated: t.exposeBoolean('instructionTruncated'),
    agentTimeoutSec: t.exposeFloat('agentTimeoutSec', { nullable: true, description: "Null: the task's [agent] timeout." }),
    verifierTimeoutSec: t.exposeFloat('verifierTimeoutSec', {
      nullable: true,
      description: "Null: Harbor's default for a step's verifier (600 s; a step's [steps.verifier] does not inherit the task's timeout).",
    }),
    agentNetwork: t.expose('agentNetwork', { type: NetworkPolicyRef, nullable: true, description: "Null: the task's policy." }),
    verifierNetwork: t.expose('verifierNetwork', { type: NetworkPolicyRef, nullable: true, description: "Null: the task's policy." }),
    minReward: t.field({
      type: 'JSON',
      nullable: true,
      description: 'Later steps are skipped below it: a number gates `reward`, an object gates each key.',
      resolve: (s) => s.minReward,
    }),
    tests: t.exposeString('tests', { description: "step (its own tests/), task (the task's shared tests/) or separate (own verifier environment)." }),
    solution: t.exposeString('solution', { nullable: true, description: 'step, task, or null when the oracle has none.' }),
    files: t.exposeStringList('files', { description: 'Paths relative to steps/<name>/.' }),
  }),
});

export interface ConversionNote {
  kind: 'changed' | 'warning';
  message: string;
}

export const ConversionNoteRef = builder.objectRef<ConversionNote>('ConversionNote').implement({
  description: 'One thing a format conversion changed (changed) or that needs a check by hand (warning).',
  fields: (t) => ({
    kind: t.exposeString('kind'),
    message: t.exposeString('message'),
  }),
});

type Json = Record<string, unknown>;
const table = (value: unknown, key: string): Json => {
  const inner = value && typeof value === 'object' ? (value as Json)[key] : undefined;
  return inner && typeof inner === 'object' && !Array.isArray(inner) ? (inner as Json) : {};
};

/** [environment] of the stored task.toml (validated at upload). */
export function environmentOf(metadata: unknown): Json {
  return table(metadata, 'environment');
}
