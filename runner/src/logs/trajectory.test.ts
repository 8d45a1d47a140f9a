import { describe, expect, it } from 'vitest';
import { createScrubber } from '../secrets/scrub.js';
import { stepLine, summariseTrajectory, TRAJECTORY_FILE } from './trajectory.js';

const id = (s: string) => s;

function trajectory(steps: unknown[], sessionId = 's-1'): unknown {
  return { schema_version: 'ATIF-v1.6', session_id: sessionId, agent: { name: 'terminus-2', version: '2.0.0' }, steps };
}

const steps = [
  { step_id: 1, timestamp: '2026-09-02T14:01:05Z', source: 'system', message: 'You are an agent.\n\nSolve   the task.' },
  {
    step_id: 2,
    source: 'agent',
    message: [{ type: 'text', text: 'Look around' }, { type: 'image', source: {} }],
    tool_calls: [
      { tool_call_id: 'c1', function_name: 'bash_command', arguments: { keystrokes: 'ls -la\n', duration: 0.1 } },
      { tool_call_id: 'c2', function_name: 'bash_command', arguments: { keystrokes: 'x'.repeat(500), duration: 1 } },
    ],
    metrics: { prompt_tokens: 10, completion_tokens: 2, prompt_token_ids: [101, 102, 103], completion_token_ids: [7, 8] },
  },
  { step_id: 3, source: 'agent', message: 'm'.repeat(300) },
];

describe('stepLine', () => {
  it('collapses whitespace and shows each tool call with cut arguments', () => {
    expect(stepLine(steps[0], 0, id)).toBe('step 1 system: You are an agent. Solve the task.');
    const line = stepLine(steps[1], 1, id);
    expect(line).toBe(
      `step 2 agent: Look around [image] → bash_command({"keystrokes":"ls -la\\n","duration":0.1})` +
        ` → bash_command(${`{"keystrokes":"${'x'.repeat(500)}`.slice(0, 120)})`,
    );
    expect(line).not.toContain('101');
    expect(stepLine(steps[2], 2, id)).toBe(`step 3 agent: ${'m'.repeat(200)}`);
  });

  it('tolerates missing and odd fields', () => {
    expect(stepLine({}, 4, id)).toBe('step 5 unknown: ');
    expect(stepLine(null, 0, id)).toBe('step 1 unknown: ');
    expect(stepLine({ step_id: 9, source: 'user', message: 42, tool_calls: [{ arguments: 'raw\nargs' }] }, 0, id)).toBe(
      'step 9 user:  → ?(raw args)',
    );
  });

  it('scrubs message and arguments before cutting them', () => {
    const { scrub } = createScrubber(['sk-ABCD123']);
    const line = stepLine({ step_id: 1, source: 'agent', message: `${'a'.repeat(195)}sk-ABCD123`, tool_calls: [{ function_name: 'f', arguments: { k: 'sk-ABCD123' } }] }, 0, scrub);
    expect(line).not.toContain('sk-A');
    expect(line).toContain('"k":"[REDACTED]"');
  });
});

describe('summariseTrajectory', () => {
  it('emits only the steps not summarised yet', () => {
    const first = summariseTrajectory(trajectory(steps.slice(0, 1)), null, id);
    expect(first.lines).toHaveLength(1);
    const second = summariseTrajectory(trajectory(steps), first.progress, id);
    expect(second.lines.map((l) => l.slice(0, 6))).toEqual(['step 2', 'step 3']);
    expect(summariseTrajectory(trajectory(steps), second.progress, id).lines).toEqual([]);
  });

  it('does not repeat steps when a rewrite shows fewer of them', () => {
    const all = summariseTrajectory(trajectory(steps), null, id);
    const fewer = summariseTrajectory(trajectory(steps.slice(0, 2)), all.progress, id);
    expect(fewer.lines).toEqual([]);
    expect(summariseTrajectory(trajectory(steps), fewer.progress, id).lines.map((l) => l.slice(0, 6))).toEqual(['step 3']);
  });

  it('starts over for a different trajectory (another session)', () => {
    const all = summariseTrajectory(trajectory(steps), null, id);
    expect(summariseTrajectory(trajectory(steps.slice(0, 1), 's-2'), all.progress, id).lines).toHaveLength(1);
  });

  it('yields nothing for a document without steps', () => {
    expect(summariseTrajectory({}, null, id).lines).toEqual([]);
    expect(summariseTrajectory([1, 2], null, id).lines).toEqual([]);
  });
});

describe('TRAJECTORY_FILE', () => {
  it('matches the trajectory and its continuations only', () => {
    expect(['trajectory.json', 'trajectory.cont-2.json'].every((f) => TRAJECTORY_FILE.test(f))).toBe(true);
    expect(['trajectory.summarization-1-summary.json', 'trajectory.json.tmp'].some((f) => TRAJECTORY_FILE.test(f))).toBe(false);
  });
});
