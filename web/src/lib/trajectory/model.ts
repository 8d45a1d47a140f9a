// A run's trajectory as the API sends it (Run.trajectory), and the rule that ties its steps to the
// terminal recording.
import { graphql, type ResultOf } from '../graphql/graphql';
export const StepFields = graphql(`
  fragment Step on TrajectoryStep {
    index stepId timestamp source message reasoning
    toolCalls { id functionName arguments } observations { sourceCallId content }
    promptTokens completionTokens cachedTokens costUsd
    modelName metricsExtra extra copied subTrajectories { file sessionId summary }
  }
`);

export const TrajectoryFields = graphql(
  `
  fragment Trajectory on Trajectory {
    schemaVersion agentName agentVersion modelName note raw
    subTrajectories { file index kind }
    steps { ...Step }
    finalMetrics { totalPromptTokens totalCompletionTokens totalCachedTokens totalCostUsd totalSteps }
  }
`,
  [StepFields],
);

export type StepView = ResultOf<typeof StepFields>;
export type ToolCallView = StepView['toolCalls'][number];
export type TrajectoryView = ResultOf<typeof TrajectoryFields>;

/** An `extra` object (step.extra, metrics.extra) as short `key: value` lines; [] when absent. */
export function extraLines(extra: unknown): string[] {
  if (!extra || typeof extra !== 'object' || Array.isArray(extra)) return [];
  return Object.entries(extra as Record<string, unknown>).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
}

/**
 * The step's model when it is worth saying: it differs from the model the trajectory (or the job)
 * names. Providers report dated names ("claude-sonnet-4-20250514") for a configured
 * "openrouter/anthropic/claude-sonnet-4"; those differ too, and the page shows what was used.
 */
export function stepModel(step: StepView, configured: string | null): string | null {
  return step.modelName && step.modelName !== configured ? step.modelName : null;
}

/** What a tool call ran, for people: the keystrokes of a bash_command, else name(arguments). */
export function commandText(call: ToolCallView): string {
  const args = call.arguments;
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    const keystrokes = (args as Record<string, unknown>).keystrokes;
    if (typeof keystrokes === 'string') return keystrokes;
  }
  return `${call.functionName}(${typeof args === 'string' ? args : JSON.stringify(args)})`;
}

/** The other arguments of a bash_command (duration, …), or all of another tool's, as pretty JSON; '' when none. */
export function otherArguments(call: ToolCallView): string {
  const args = call.arguments;
  if (args && typeof args === 'object' && !Array.isArray(args) && typeof (args as Record<string, unknown>).keystrokes === 'string') {
    const { keystrokes: _keystrokes, ...rest } = args as Record<string, unknown>;
    return Object.keys(rest).length ? JSON.stringify(rest) : '';
  }
  return '';
}

/**
 * Sync rule between the step list and the recording: a step happens at its ATIF `timestamp`; the
 * recording starts at its header's `timestamp` (Unix seconds) and its events are seconds after that.
 * So a step sits at (step timestamp − cast start) seconds into the recording, clamped to [0, duration].
 * While it plays, the current step is the last one whose moment is at or before the playhead.
 * Steps without a timestamp, or a cast without a start time, are not synchronised.
 */
export function stepMoments(steps: StepView[], castStartSec: number | null, duration: number | null): (number | null)[] {
  if (castStartSec === null) return steps.map(() => null);
  return steps.map((s) => {
    if (!s.timestamp) return null;
    const at = Date.parse(s.timestamp);
    if (Number.isNaN(at)) return null;
    const offset = at / 1000 - castStartSec;
    return Math.max(0, duration === null ? offset : Math.min(offset, duration));
  });
}

/** Index (into steps) of the current step at `time`, or -1 before the first. */
export function currentStep(moments: (number | null)[], time: number): number {
  let current = -1;
  let best = -Infinity;
  for (let i = 0; i < moments.length; i++) {
    const m = moments[i];
    if (m === null || m === undefined || m > time + 1e-3) continue;
    if (m >= best) {
      best = m;
      current = i;
    }
  }
  return current;
}
