// One compact log line per new step of an ATIF trajectory (harbor-contract.md §9). terminus-2
// rewrites agent/trajectory.json whole, in place, after every step: the reader re-parses it and
// publishes only the steps it has not summarised yet. Token-id arrays, observations and metrics
// never leave this module.
import { cutChars } from './lines.js';

/** Skipped beyond this: the token-id arrays of a long run; parsing more would stall the event loop. */
export const MAX_TRAJECTORY_BYTES = 20 * 1024 * 1024;

const MESSAGE_CHARS = 200;
const ARGUMENT_CHARS = 120;

/** agent/trajectory.json and its continuations after summarisation, not the summarisation files. */
export const TRAJECTORY_FILE = /^trajectory(?:\.cont-\d+)?\.json$/;

export interface TrajectoryProgress {
  /** session_id and the first step's timestamp: a different value means a new trajectory. */
  identity: string;
  summarised: number;
}

/**
 * The lines for the steps after `progress`, and the new progress. A document without a `steps`
 * array yields no lines. Fewer steps than already summarised (same identity) publishes nothing
 * rather than repeating steps.
 */
export function summariseTrajectory(
  doc: unknown,
  progress: TrajectoryProgress | null,
  scrub: (text: string) => string,
): { lines: string[]; progress: TrajectoryProgress } {
  const root = isRecord(doc) ? doc : {};
  const steps = Array.isArray(root.steps) ? root.steps : [];
  const first: unknown = steps[0];
  const identity = `${String(root.session_id ?? '')}|${isRecord(first) ? String(first.timestamp ?? '') : ''}`;
  const from = progress && progress.identity === identity ? Math.min(progress.summarised, steps.length) : 0;
  const lines: string[] = [];
  for (let i = from; i < steps.length; i += 1) lines.push(stepLine(steps[i], i, scrub));
  return { lines, progress: { identity, summarised: steps.length } };
}

/** `step <id> <source>: <message>` and ` → <function>(<arguments>)` per tool call. */
export function stepLine(step: unknown, index: number, scrub: (text: string) => string): string {
  const s = isRecord(step) ? step : {};
  const id = typeof s.step_id === 'number' || typeof s.step_id === 'string' ? String(s.step_id) : String(index + 1);
  const source = typeof s.source === 'string' ? collapse(s.source) : 'unknown';
  // Scrub before cutting, so a cut never leaves the start of a secret.
  let line = `step ${id} ${source}: ${cutChars(collapse(scrub(messageText(s.message))), MESSAGE_CHARS)}`;
  for (const call of Array.isArray(s.tool_calls) ? s.tool_calls : []) {
    const c = isRecord(call) ? call : {};
    const name = typeof c.function_name === 'string' ? collapse(c.function_name) : '?';
    const args = typeof c.arguments === 'string' ? collapse(c.arguments) : (JSON.stringify(c.arguments ?? {}) ?? '');
    line += ` → ${name}(${cutChars(scrub(args), ARGUMENT_CHARS)})`;
  }
  return line;
}

/** A message is a string or a list of content parts; only text parts are shown. */
function messageText(message: unknown): string {
  if (typeof message === 'string') return message;
  if (!Array.isArray(message)) return '';
  return message
    .map((part) => {
      if (typeof part === 'string') return part;
      if (!isRecord(part)) return '';
      if (typeof part.text === 'string') return part.text;
      return typeof part.type === 'string' ? `[${part.type}]` : '';
    })
    .join(' ');
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
