import { describe, expect, it } from 'vitest';
import { joinFiles, type Trajectory, type TrajectoryStep } from './atif.js';
import { alignTrajectories, command } from './compare.js';

function step(source: string, keystrokes: string[] = []): Omit<TrajectoryStep, 'index'> {
  return {
    stepId: null,
    timestamp: null,
    source,
    message: '',
    reasoning: null,
    toolCalls: keystrokes.map((k, i) => ({ id: `c${i}`, functionName: 'bash_command', arguments: { keystrokes: k, duration: 1 } })),
    observations: [],
    promptTokens: null,
    completionTokens: null,
    cachedTokens: null,
    costUsd: null,
    modelName: null,
    metricsExtra: null,
    extra: null,
    copied: false,
    subTrajectories: [],
  };
}

function trajectory(...steps: Omit<TrajectoryStep, 'index'>[]): Trajectory {
  return joinFiles(
    [{ schemaVersion: 'ATIF-v1.6', sessionId: null, agentName: 'terminus-2', agentVersion: null, modelName: null, steps, finalMetrics: null, continuedRef: null, skipped: 0 }],
    [],
  );
}

const passed = { status: 'PASSED', reward: 1 };
const failed = { status: 'FAILED', reward: 0 };

describe('alignTrajectories', () => {
  it('aligns agent steps by their order, leaving system and user steps out', () => {
    const a = trajectory(step('system'), step('user'), step('agent', ['ls\n']), step('agent', ['make\n']));
    const b = trajectory(step('user'), step('agent', ['ls\n']), step('agent', ['make\n']));
    const { steps, firstDivergence } = alignTrajectories(a, b, { a: passed, b: passed });
    expect(steps.map((s) => [s.index, s.a?.index, s.b?.index, s.diverges])).toEqual([
      [0, 2, 1, false],
      [1, 3, 2, false],
    ]);
    expect(firstDivergence).toBeNull();
  });

  it('leaves copied context out: a continuation repeats steps the agent already took', () => {
    const copied = { ...step('agent', ['ls\n']), copied: true };
    const a = trajectory(step('agent', ['ls\n']), copied, step('agent', ['make\n']));
    const b = trajectory(step('agent', ['ls\n']), step('agent', ['make\n']));
    const { steps, firstDivergence } = alignTrajectories(a, b, { a: passed, b: passed });
    expect(steps.map((s) => [s.a?.index, s.b?.index, s.diverges])).toEqual([
      [0, 0, false],
      [2, 1, false],
    ]);
    expect(firstDivergence).toBeNull();
  });

  it('finds the first pair whose keystrokes differ', () => {
    const a = trajectory(step('agent', ['ls\n']), step('agent', ['make\n']), step('agent', ['make test\n']));
    const b = trajectory(step('agent', ['ls\n']), step('agent', ['make all\n']), step('agent', ['make test\n']));
    const { steps, firstDivergence } = alignTrajectories(a, b, { a: passed, b: failed });
    expect(steps.map((s) => s.diverges)).toEqual([false, true, false]);
    expect(firstDivergence).toEqual({
      stepIndex: 1,
      kind: 'COMMANDS',
      reason: 'Agent step 2: the commands differ — A ran "make", B ran "make all".',
    });
  });

  it('counts a different number of tool calls as different commands', () => {
    const a = trajectory(step('agent', ['ls\n', 'pwd\n']));
    const b = trajectory(step('agent', ['ls\n']));
    expect(alignTrajectories(a, b).firstDivergence).toMatchObject({ stepIndex: 0, kind: 'COMMANDS', reason: expect.stringContaining('2 commands: "ls", "pwd"') });
  });

  it('diverges where one attempt stops and the other goes on', () => {
    const a = trajectory(step('agent', ['ls\n']));
    const b = trajectory(step('agent', ['ls\n']), step('agent', ['rm -rf build\n']));
    const { steps, firstDivergence } = alignTrajectories(a, b, { a: failed, b: passed });
    expect(steps.map((s) => [s.a === null, s.b === null, s.diverges])).toEqual([
      [false, false, false],
      [true, false, true],
    ]);
    expect(firstDivergence).toEqual({ stepIndex: 1, kind: 'LENGTH', reason: 'Agent step 2: only attempt B goes on; attempt A stopped after 1 agent step(s).' });
  });

  it('diverges at the end when the same commands led to different outcomes', () => {
    const a = trajectory(step('agent', ['make\n']));
    const b = trajectory(step('agent', ['make\n']));
    expect(alignTrajectories(a, b, { a: passed, b: failed }).firstDivergence).toEqual({
      stepIndex: null,
      kind: 'OUTCOME',
      reason: 'Every agent step ran the same commands, but the outcomes differ: A passed (reward 1), B failed (reward 0).',
    });
    expect(alignTrajectories(trajectory(), trajectory(), { a: passed, b: passed }).firstDivergence).toBeNull();
  });

  it('compares other tools by name and arguments, whatever the key order', () => {
    expect(command({ id: null, functionName: 'Edit', arguments: { b: 1, a: [2, { d: 3, c: 4 }] } })).toBe(
      command({ id: 'x', functionName: 'Edit', arguments: { a: [2, { c: 4, d: 3 }], b: 1 } }),
    );
    expect(command({ id: null, functionName: 'Edit', arguments: { a: 1 } })).not.toBe(command({ id: null, functionName: 'Write', arguments: { a: 1 } }));
  });
});
