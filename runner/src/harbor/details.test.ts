import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runResultSchema } from '../protocol/messages.js';
import { agentMetadata, modelUsage, summarizeDurations, trialDetails, tracebackTail } from './details.js';
import { classifyTrial } from './outcome.js';
import { parseTrialResult } from './result.js';

const fixture = (name: string) => readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', name), 'utf8');

describe('trialDetails', () => {
  it('keeps what a terminus-2 result.json records beyond the outcome, bounded', () => {
    const result = parseTrialResult(fixture('trial-terminus-2.json'));
    const details = trialDetails(result);
    expect(details.agentVersion).toBe('2.0.0');
    expect(details.modelUsage).toEqual([
      { model: 'openrouter/anthropic/claude-sonnet-4', inputTokens: 180000, cacheTokens: 120000, outputTokens: 7000, costUsd: 0.5 },
      { model: 'openrouter/anthropic/claude-haiku-4', inputTokens: 8400, cacheTokens: 0, outputTokens: 350, costUsd: 0.02 },
    ]);
    expect(details.agentMetadata).toEqual({
      values: { n_episodes: 37, summarization_count: 1 },
      apiRequestTimes: { count: 10, medianMs: 2305.2, p95Ms: 9870.1, maxMs: 9870.1 },
      omittedKeys: ['all_messages'],
    });
    expect(details.exceptionTraceback).toMatch(/^Traceback \(most recent call last\):/);
    expect(details.exceptionTraceback).toMatch(/AgentTimeoutError: Agent execution timed out after 900\.0 seconds\n$/);
    expect(details.exceptionOccurredAt).toBe('2026-09-02T14:16:05.118Z');
    expect(details.verifierEnvironmentMode).toBe('shared');
    expect(details.steps).toEqual([]);
    // What the runner sends is what the wire accepts.
    expect(runResultSchema.safeParse({ ...classifyTrial(result), ...details }).success).toBe(true);
  });

  it('reads a multi-step result: per-step rewards, timings and tokens; the trial counts the first step exception', () => {
    const result = parseTrialResult(fixture('trial-multi-step.json'));
    const details = trialDetails(result);
    expect(details.verifierEnvironmentMode).toBeNull();
    expect(details.steps).toEqual([
      {
        name: 'build', reward: 1, rewards: { reward: 1 }, exceptionType: null, exceptionMessage: null,
        agentExecutionMs: 300_000, verifierMs: 40_000, inputTokens: 40000, outputTokens: 2000, costUsd: 0.15,
      },
      {
        name: 'ship', reward: 0, rewards: { reward: 0 }, exceptionType: 'AgentTimeoutError',
        exceptionMessage: 'Agent execution timed out after 360.0 seconds',
        agentExecutionMs: 360_000, verifierMs: 33_000, inputTokens: 60000, outputTokens: 3000, costUsd: 0.25,
      },
    ]);
    const outcome = classifyTrial(result);
    // The trial-level reward is Harbor's mean of the steps; the step's agent timeout keeps it.
    expect(outcome).toMatchObject({ status: 'FAILED', failureKind: 'AGENT', reward: 0.5, exceptionType: 'AgentTimeoutError' });
    expect(outcome.exceptionMessage).toBe('step "ship": Agent execution timed out after 360.0 seconds');
    // Harbor leaves the trial-level agent_result null there: the steps' tokens are summed.
    expect(outcome).toMatchObject({ inputTokens: 100000, cacheTokens: 40000, outputTokens: 5000 });
    expect(outcome.costUsd).toBeCloseTo(0.4);
  });

  it('reads older results without any of it', () => {
    const details = trialDetails(parseTrialResult(JSON.stringify({ task_name: 't', trial_name: 't__1', agent_info: { name: 'oracle' } })));
    expect(details).toEqual({
      agentVersion: null, modelUsage: [], agentMetadata: null, exceptionTraceback: null, exceptionOccurredAt: null,
      verifierEnvironmentMode: null, steps: [],
    });
  });
});

describe('modelUsage', () => {
  it('reads a record by model or a list of named entries, leniently', () => {
    expect(modelUsage({ 'gpt-5': { input_tokens: 10, output_tokens: 2 }, broken: 'nope' })).toEqual([
      { model: 'gpt-5', inputTokens: 10, cacheTokens: null, outputTokens: 2, costUsd: null },
    ]);
    expect(modelUsage([{ model_name: 'claude', inputTokens: 5, cacheReadInputTokens: 1, outputTokens: 3, costUSD: 0.1 }, { n_input_tokens: 1 }])).toEqual([
      { model: 'claude', inputTokens: 5, cacheTokens: 1, outputTokens: 3, costUsd: 0.1 },
    ]);
    expect(modelUsage({ m: { n_input_tokens: -5, cost_usd: 'x' } })).toEqual([{ model: 'm', inputTokens: null, cacheTokens: null, outputTokens: null, costUsd: null }]);
    expect(modelUsage(null)).toEqual([]);
    expect(modelUsage(Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`m${i}`, {}])))).toHaveLength(50);
  });
});

describe('agentMetadata and durations', () => {
  it('keeps scalars, cuts long strings, names lists, and never keeps an unbounded array', () => {
    const meta = agentMetadata({ note: 'x'.repeat(900), ok: true, nothing: null, list: [1, 2], api_request_times_msec: Array(100_000).fill(5) });
    expect((meta!.values.note as string).length).toBe(500);
    expect(meta).toMatchObject({ values: { ok: true, nothing: null }, omittedKeys: ['list'], apiRequestTimes: { count: 100_000, medianMs: 5, maxMs: 5 } });
    expect(JSON.stringify(meta).length).toBeLessThan(1_000);
  });

  it('summarises durations by nearest rank, ignoring what is not a duration', () => {
    expect(summarizeDurations([4, 'x', -1, 1, 3, 2, null])).toEqual({ count: 4, medianMs: 2.5, p95Ms: 4, maxMs: 4 });
    expect(summarizeDurations([])).toBeNull();
    expect(summarizeDurations('nope')).toBeNull();
  });

  it('keeps the end of a long traceback, where the exception is', () => {
    const tail = tracebackTail(`${'  File "x.py", line 1\n'.repeat(2_000)}ValueError: the end`, 1_000)!;
    expect(tail.length).toBe(1_000);
    expect(tail).toMatch(/^… \[[\d,]+ earlier characters not shown\]\n/);
    expect(tail.endsWith('ValueError: the end')).toBe(true);
  });
});
