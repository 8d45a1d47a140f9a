import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_RAW_CHARS, MAX_STEPS, MAX_TEXT_CHARS, salvageTruncated } from './atif.js';
import { readSubTrajectory, readTrajectory } from './trajectory.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

let trial: string;
beforeEach(async () => {
  trial = await mkdtemp(path.join(os.tmpdir(), 'thr-trial-'));
  await mkdir(path.join(trial, 'agent'));
});
afterEach(() => rm(trial, { recursive: true, force: true }));

const agentFile = (name: string) => path.join(trial, 'agent', name);
const useFixture = (name: string) => cp(path.join(fixtures, name), path.join(trial, 'agent'), { recursive: true });

describe('readTrajectory', () => {
  it('reads a terminus-2 ATIF v1.6 trajectory and follows its continuation file', async () => {
    await useFixture('terminus-2');
    const t = await readTrajectory(trial);
    expect(t.note).toBeNull();
    expect(t).toMatchObject({ schemaVersion: 'ATIF-v1.6', agentName: 'terminus-2', agentVersion: '2.0.0', modelName: 'openrouter/anthropic/claude-sonnet-4' });
    expect(t.steps.map((s) => [s.index, s.stepId, s.source])).toEqual([
      [0, 1, 'system'],
      [1, 2, 'user'],
      [2, 3, 'agent'],
      [3, 4, 'agent'],
      [4, 5, 'user'],
      [5, 6, 'agent'],
    ]);
    expect(t.steps[2]).toEqual({
      index: 2,
      stepId: 3,
      timestamp: '2026-09-02T14:01:09.480Z',
      source: 'agent',
      modelName: 'anthropic/claude-sonnet-4',
      metricsExtra: null,
      extra: { episode: 0, huge: 'not for the browser' },
      copied: false,
      subTrajectories: [],
      message: 'Let me look at the repository first.',
      reasoning: 'The HEAD ref may be broken; inspect .git.',
      toolCalls: [{ id: 'call_3_1', functionName: 'bash_command', arguments: { keystrokes: 'cd /app && git status\n', duration: 1 } }],
      observations: [{ sourceCallId: 'call_3_1', content: 'fatal: bad object HEAD\n' }],
      promptTokens: 1520,
      completionTokens: 85,
      cachedTokens: 0,
      costUsd: 0.005835,
    });
    expect(t.steps[3]!.toolCalls.map((c) => (c.arguments as { keystrokes: string }).keystrokes)).toEqual(['git reflog | head -3\n', 'git reset --hard HEAD@{1}\n']);
    // The totals of the last continuation cover the whole run.
    expect(t.finalMetrics).toEqual({ totalPromptTokens: 4310, totalCompletionTokens: 265, totalCachedTokens: 1500, totalCostUsd: 0.016905, totalSteps: 6 });
  });

  it("never passes on token-id arrays, logprobs or the agent's config; a step's small extra is kept", async () => {
    await useFixture('terminus-2');
    const t = await readTrajectory(trial);
    const sent = JSON.stringify(t);
    for (const word of ['prompt_token_ids', 'completion_token_ids', 'logprobs', 'parser']) expect(sent).not.toContain(word);
    expect(sent).not.toContain('[1,2,3,4,5,6,7,8]');
    expect(t.steps[2]!.extra).toEqual({ episode: 0, huge: 'not for the browser' });
  });

  it('reads content parts, string arguments and wrong-typed fields without failing the step', async () => {
    await useFixture('parts');
    const t = await readTrajectory(trial);
    expect(t.schemaVersion).toBe('ATIF-v1.7');
    expect(t.modelName).toBeNull();
    expect(t.steps).toHaveLength(3);
    expect(t.steps[0]!.message).toBe('Make the tests pass.\n[image: image/png, screen.png]');
    expect(t.steps[1]).toMatchObject({
      message: 'Running the tests.',
      reasoning: 'Start with pytest.',
      toolCalls: [{ id: '7', functionName: 'Bash', arguments: { command: 'pytest -q' } }],
      observations: [
        { sourceCallId: '7', content: '1 failed' },
        { sourceCallId: null, content: '' },
      ],
      promptTokens: null,
      completionTokens: 12,
      costUsd: null,
    });
    expect(t.steps[2]).toMatchObject({ stepId: 4, message: '42', toolCalls: [] });
    expect(t.note).toBe('1 step(s) were not objects and are left out.');
  });

  it('says when there is no trajectory, or no trial yet', async () => {
    expect((await readTrajectory(trial)).note).toMatch(/no agent\/trajectory\.json/);
    expect((await readTrajectory(null)).note).toMatch(/no trial directory yet/);
    expect((await readTrajectory(trial)).steps).toEqual([]);
  });

  it('says when the file is malformed', async () => {
    await writeFile(agentFile('trajectory.json'), '{"schema_version": "ATIF-v1.6", "steps": [}');
    const t = await readTrajectory(trial, { retryMs: 1 });
    expect(t.steps).toEqual([]);
    expect(t.note).toBe('agent/trajectory.json could not be read: it is not valid JSON.');
    await writeFile(agentFile('trajectory.json'), '{"schema_version": "ATIF-v1.6", "steps": "none"}');
    expect((await readTrajectory(trial, { retryMs: 1 })).note).toMatch(/not an ATIF trajectory/);
  });

  it('shows the complete steps of a truncated file, with a note', async () => {
    const whole = await readFile(path.join(fixtures, 'terminus-2/trajectory.json'), 'utf8');
    // Cut inside the fourth step's observation.
    await writeFile(agentFile('trajectory.json'), whole.slice(0, whole.indexOf('HEAD is now at')));
    const t = await readTrajectory(trial, { retryMs: 1 });
    expect(t.steps.map((s) => s.stepId)).toEqual([1, 2, 3]);
    expect(t.note).toBe('agent/trajectory.json is truncated: showing the 3 complete step(s) before the cut.');
    await writeFile(agentFile('trajectory.json'), whole.slice(0, 40));
    expect((await readTrajectory(trial, { retryMs: 1 })).note).toBe('agent/trajectory.json is truncated before its first complete step.');
    expect(salvageTruncated('{"steps": [{"a": "}"}, {"b": "\\"]"')).toEqual({ steps: [{ a: '}' }] });
  });

  it('reads again after a pause when it caught the file half-written', async () => {
    const whole = await readFile(path.join(fixtures, 'terminus-2/trajectory.json'), 'utf8');
    await writeFile(agentFile('trajectory.json'), whole.slice(0, 300));
    // The pause is a fake timer, so the writer finishes while the reader is inside it however busy
    // the machine is: a pending timer means the first read saw the half-written file.
    vi.useFakeTimers({ toFake: ['setTimeout'] });
    try {
      const read = readTrajectory(trial, { retryMs: 200 });
      for (const deadline = Date.now() + 10_000; vi.getTimerCount() === 0; ) {
        if (Date.now() > deadline) throw new Error('the reader never paused: it did not see the half-written file');
        await new Promise((r) => setImmediate(r));
      }
      await writeFile(agentFile('trajectory.json'), whole.replace('"trajectory.cont-1.json"', 'null'));
      vi.advanceTimersByTime(200);
      const t = await read;
      expect(t.note).toBeNull();
      expect(t.steps).toHaveLength(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('names a missing continuation and refuses one outside the agent folder', async () => {
    await useFixture('terminus-2');
    await rm(agentFile('trajectory.cont-1.json'));
    let t = await readTrajectory(trial, { retryMs: 1 });
    expect(t.steps).toHaveLength(4);
    expect(t.note).toBe('agent/trajectory.cont-1.json is missing.');
    const doc = JSON.parse(await readFile(agentFile('trajectory.json'), 'utf8'));
    await writeFile(agentFile('trajectory.json'), JSON.stringify({ ...doc, continued_trajectory_ref: '../../secrets.json' }));
    t = await readTrajectory(trial, { retryMs: 1 });
    expect(t.steps).toHaveLength(4);
    expect(t.note).toMatch(/not a trajectory\.cont-N\.json file/);
  });

  it('bounds what it sends: long observations are cut with a marker, steps are capped', async () => {
    const steps = Array.from({ length: MAX_STEPS + 5 }, (_, i) => ({
      step_id: i + 1,
      source: 'agent',
      message: `step ${i + 1}`,
      observation: { results: [{ content: i === 0 ? 'x'.repeat(MAX_TEXT_CHARS + 10) : 'ok' }] },
    }));
    await writeFile(agentFile('trajectory.json'), JSON.stringify({ schema_version: 'ATIF-v1.6', steps }));
    const t = await readTrajectory(trial);
    expect(t.steps).toHaveLength(MAX_STEPS);
    expect(t.note).toBe(`Showing the first 2,000 of 2,005 steps.`);
    const first = t.steps[0]!.observations[0]!.content;
    expect(first.length).toBeLessThan(MAX_TEXT_CHARS + 200);
    expect(first).toMatch(/… \[10 more characters not shown; the whole file is in the trial's files\]$/);
  });

  it('reads ATIF-v1.8 after a summarisation: copied context flagged, per-step models, extras, audio, sub-trajectories', async () => {
    await useFixture('terminus-2-v1.8');
    const t = await readTrajectory(trial);
    expect(t.note).toBeNull();
    expect(t.schemaVersion).toBe('ATIF-v1.8');
    expect(t.steps.map((s) => [s.index, s.stepId, s.source, s.copied])).toEqual([
      [0, 1, 'user', false],
      [1, 2, 'agent', false],
      [2, 3, 'system', false],
      [3, 1, 'user', true],
      [4, 2, 'agent', true],
      [5, 3, 'user', false],
      [6, 4, 'agent', false],
    ]);
    const first = t.steps[1]!;
    expect(first.modelName).toBe('anthropic/claude-sonnet-4-20250514');
    expect(first.metricsExtra).toEqual({ reasoning_tokens: 40, cache_creation_input_tokens: 640 });
    expect(first.extra).toEqual({ tool_exit_codes: { call_0_1: 128 }, command_duration_sec: 1.04 });
    // The summarisation step links its three subagents, and shows no empty output for them.
    expect(t.steps[2]!.observations).toEqual([]);
    expect(t.steps[2]!.subTrajectories.map((r) => [r.file, r.summary])).toEqual([
      ['trajectory.summarization-1-summary.json', 'Context summarization 1: Step 1 - Summary generation'],
      ['trajectory.summarization-1-questions.json', 'Context summarization 1: Step 2 - Question asking'],
      ['trajectory.summarization-1-answers.json', 'Context summarization 1: Step 3 - Answer providing'],
    ]);
    // "null" as a string is no reasoning; v1.8 audio is named, not sent.
    expect(t.steps[6]!.reasoning).toBeNull();
    expect(t.steps[6]!.observations[0]!.content).toBe('HEAD is now at 9f8e7d6 good\n[audio: audio/wav, 3.3 seconds, audio/terminal-bell.wav]');
    expect(t.subTrajectories).toEqual([
      { file: 'trajectory.summarization-1-summary.json', index: 1, kind: 'summary' },
      { file: 'trajectory.summarization-1-questions.json', index: 1, kind: 'questions' },
      { file: 'trajectory.summarization-1-answers.json', index: 1, kind: 'answers' },
    ]);
    expect(JSON.stringify(t)).not.toContain('prompt_token_ids');
  });

  it('reads a summarisation sub-trajectory by name, and only such names', async () => {
    await useFixture('terminus-2-v1.8');
    const sub = await readSubTrajectory(trial, 'trajectory.summarization-1-questions.json');
    expect(sub).toMatchObject({ agentName: 'terminus-2-summarization-questions', note: null });
    expect(sub.steps.map((s) => s.source)).toEqual(['user', 'agent']);
    expect((await readSubTrajectory(trial, '../../result.json')).note).toMatch(/not a summarisation trajectory name/);
    expect((await readSubTrajectory(trial, 'trajectory.summarization-9-summary.json', { retryMs: 1 })).note).toBe(
      'agent/trajectory.summarization-9-summary.json is missing.',
    );
  });

  it('shows a JSON file that is not ATIF as it is, with a note', async () => {
    const episodes = [{ episode: 0, prompt: 'Fix the repo', response: 'git status' }, { episode: 1, prompt: 'ok', response: 'done' }];
    await writeFile(agentFile('trajectory.json'), JSON.stringify(episodes));
    const t = await readTrajectory(trial, { retryMs: 1 });
    expect(t.steps).toEqual([]);
    expect(t.raw).toBe(JSON.stringify(episodes, null, 2));
    expect(t.note).toBe('agent/trajectory.json is JSON but not an ATIF trajectory (a list of 2 item(s)); it is shown as it is.');
    await writeFile(agentFile('trajectory.json'), JSON.stringify({ log: 'x'.repeat(MAX_RAW_CHARS + 50) }));
    const big = await readTrajectory(trial, { retryMs: 1 });
    expect(big.raw!.length).toBeLessThan(MAX_RAW_CHARS + 200);
  });
});
