// Attempt vs attempt: two trajectories of the same task aligned step by step, and the first point
// where they went apart. Pure functions over parsed trajectories.
//
// The rule: only the agent's own steps are aligned (system and user steps are the same prompt for
// every attempt; copied context is not new work), by their order: the i-th agent step of one attempt faces the i-th of the other. A pair
// diverges when the commands of its tool calls differ — for terminus-2 the keystrokes of each
// bash_command, for other tools the function name and arguments — or when only one attempt has a
// step there. When every pair matches, the attempts diverge at the end if their outcomes differ.
import type { ToolCall, Trajectory, TrajectoryStep } from './atif.js';

export type DivergenceKind = 'COMMANDS' | 'LENGTH' | 'OUTCOME';

export interface Divergence {
  /** Index of the aligned pair (0-based); null when only the outcomes differ. */
  stepIndex: number | null;
  kind: DivergenceKind;
  reason: string;
}

export interface AlignedStep {
  index: number;
  a: TrajectoryStep | null;
  b: TrajectoryStep | null;
  /** The commands differ, or only one attempt has a step here. */
  diverges: boolean;
}

export interface Outcome {
  status: string;
  reward: number | null;
}

export interface Alignment {
  steps: AlignedStep[];
  firstDivergence: Divergence | null;
}

/** What a tool call did, comparable across attempts: keystrokes when it has them, else name and arguments. */
export function command(call: ToolCall): string {
  const args = call.arguments;
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    const keystrokes = (args as Record<string, unknown>).keystrokes;
    if (typeof keystrokes === 'string') return keystrokes;
  }
  return `${call.functionName}(${stableJson(args)})`;
}

function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

function describeCommands(step: TrajectoryStep): string {
  if (step.toolCalls.length === 0) return 'no command';
  const shown = step.toolCalls.map((c) => JSON.stringify(cutForReason(command(c)))).join(', ');
  return step.toolCalls.length === 1 ? shown : `${step.toolCalls.length} commands: ${shown}`;
}

function cutForReason(text: string): string {
  const one = text.replace(/\s+$/, '');
  return one.length > 80 ? `${one.slice(0, 80)}…` : one;
}

function sameCommands(a: TrajectoryStep, b: TrajectoryStep): boolean {
  if (a.toolCalls.length !== b.toolCalls.length) return false;
  return a.toolCalls.every((call, i) => command(call) === command(b.toolCalls[i]!));
}

function outcomeText(o: Outcome): string {
  return `${o.status.toLowerCase()}${o.reward === null ? '' : ` (reward ${o.reward})`}`;
}

export function alignTrajectories(a: Trajectory, b: Trajectory, outcomes?: { a: Outcome; b: Outcome }): Alignment {
  // Copied context repeats earlier steps after a summarisation: aligning it would pair old work twice.
  const agentA = a.steps.filter((s) => s.source === 'agent' && !s.copied);
  const agentB = b.steps.filter((s) => s.source === 'agent' && !s.copied);
  const steps: AlignedStep[] = [];
  let firstDivergence: Divergence | null = null;
  for (let i = 0; i < Math.max(agentA.length, agentB.length); i++) {
    const sa = agentA[i] ?? null;
    const sb = agentB[i] ?? null;
    const diverges = !sa || !sb || !sameCommands(sa, sb);
    steps.push({ index: i, a: sa, b: sb, diverges });
    if (!diverges || firstDivergence) continue;
    if (!sa || !sb) {
      const [has, other, n] = sa ? ['A', 'B', agentB.length] : ['B', 'A', agentA.length];
      firstDivergence = {
        stepIndex: i,
        kind: 'LENGTH',
        reason: `Agent step ${i + 1}: only attempt ${has} goes on; attempt ${other} stopped after ${n} agent step(s).`,
      };
    } else {
      firstDivergence = {
        stepIndex: i,
        kind: 'COMMANDS',
        reason: `Agent step ${i + 1}: the commands differ — A ran ${describeCommands(sa)}, B ran ${describeCommands(sb)}.`,
      };
    }
  }
  if (!firstDivergence && outcomes && (outcomes.a.status !== outcomes.b.status || outcomes.a.reward !== outcomes.b.reward)) {
    firstDivergence = {
      stepIndex: null,
      kind: 'OUTCOME',
      reason: `Every agent step ran the same commands, but the outcomes differ: A ${outcomeText(outcomes.a)}, B ${outcomeText(outcomes.b)}.`,
    };
  }
  return { steps, firstDivergence };
}
