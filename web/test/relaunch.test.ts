// "Launch again" fills the New job form from an earlier job: what it copies, and what it says it did not.
import { expect, test } from 'vitest';
import { formFromJob } from '../src/lib/jobs/relaunch.js';

const job = {
  id: 'j1',
  name: 'sonnet run',
  agent: 'terminus-2',
  model: 'openrouter/anthropic/claude-sonnet-4',
  runsPerTask: 5,
  budgetUsd: 12.5,
  hasProviderKey: false,
  taskStats: [{ task: { id: 't1', name: 'fix-git' } }, { task: { id: 't2', name: 'build-cython' } }],
  datasetVersion: null,
};

test('copies tasks, agent, model, runs, budget, and the Harbor options the form has, leaving defaults empty', () => {
  const defaults = { environmentType: 'docker', timeoutMultiplier: 1, maxRetries: 0, agentKwargs: {}, forceBuild: false, agentTimeoutMultiplier: null };
  expect(formFromJob({ ...job, harborOptions: defaults })).toEqual({
    agent: 'terminus-2',
    model: 'openrouter/anthropic/claude-sonnet-4',
    runsPerTask: 5,
    tasks: [{ id: 't1', name: 'fix-git' }, { id: 't2', name: 'build-cython' }],
    environmentType: '',
    timeoutMultiplier: null,
    maxRetries: null,
    forceBuild: false,
    agentKwargs: '',
    budgetUsd: 12.5,
    datasetVersionId: null,
    notCopied: [],
  });
  const set = { environmentType: 'daytona', timeoutMultiplier: 2, maxRetries: 1, agentKwargs: { temperature: 0.7 }, forceBuild: true };
  expect(formFromJob({ ...job, model: null, harborOptions: set })).toMatchObject({
    model: '',
    environmentType: 'daytona',
    timeoutMultiplier: 2,
    maxRetries: 1,
    forceBuild: true,
    agentKwargs: '{"temperature":0.7}',
  });
});

test('says what the form cannot carry: per-phase multipliers and the job’s own provider key', () => {
  const form = formFromJob({ ...job, hasProviderKey: true, harborOptions: { verifierTimeoutMultiplier: 3, agentTimeoutMultiplier: null } });
  expect(form.notCopied).toEqual([
    'the per-phase timeout multipliers (verifierTimeoutMultiplier)',
    "the job's own provider key (enter it again, or leave it empty for the server's default)",
  ]);
});

test('launches on the same dataset version again when the job ran all of its tasks, else on the tasks as picked', () => {
  const whole = { ...job, harborOptions: {}, datasetVersion: { id: 'v2', taskCount: 2 } };
  expect(formFromJob(whole).datasetVersionId).toBe('v2');
  // A subset of a version: the picked tasks are the job's, not the version's.
  expect(formFromJob({ ...whole, datasetVersion: { id: 'v2', taskCount: 89 } }).datasetVersionId).toBeNull();
});
