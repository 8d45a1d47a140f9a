// The runnable examples of docs/api.md, run as a user runs them against a platform with the Harbor
// simulator, so they cannot rot.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../src/config/paths.js';
import { type TestApp } from './support/app.js';
import { tokenFor } from './support/auth.js';
import { type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

/**
 * `npx tsx examples/<file> …args` (npx resolves to node_modules/.bin/tsx), or `python3 examples/<file>`
 * for a .py, from the repository root.
 */
function runExample(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const command = file.endsWith('.py') ? 'python3' : path.join(repoRoot, 'node_modules/.bin/tsx');
  const child = spawn(command, [path.join('examples', file), ...args], {
    cwd: repoRoot,
    env: { ...process.env, THR_TOKEN: tokenFor(api.url) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('examples/follow-job.ts', () => {
  it('launches a job, follows it through jobUpdated and prints the per-task summary', async () => {
    const pass = await h.simulatedTask('example-pass', { HARBOR_SIM_SCENARIO: 'pass' });
    const fail = await h.simulatedTask('example-fail', { HARBOR_SIM_SCENARIO: 'fail' });
    await h.startRunner('runner-example', 2).waitFor(/ready/);
    const origin = new URL(api.url).origin;

    const run = await runExample('follow-job.ts', ['--api', origin, '--task', pass, '--task', fail, '--agent', 'oracle', '--runs', '3']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^job [0-9a-f-]{36} "oracle": 6 runs$/);
    expect(lines.some((l) => /^QUEUED|^RUNNING/.test(l))).toBe(true);
    expect(lines).toContainEqual(expect.stringMatching(/^COMPLETED +queued 0 +running 0 +passed 3 +failed 3 +errored 0 +cancelled 0 +cost \$0\.0600$/));
    expect(lines).toContainEqual(expect.stringMatching(/^task +runs +passed +failed +errored +cancelled +pass rate \(95% CI\) +mean reward +cost \$$/));
    expect(lines).toContainEqual(expect.stringMatching(/^example-fail +3 +0 +3 +0 +0 +0\.0% \(0\.0%–56\.2%\) +0\.00 +0\.0300$/));
    expect(lines).toContainEqual(expect.stringMatching(/^example-pass +3 +3 +0 +0 +0 +100\.0% \(43\.8%–100\.0%\) +1\.00 +0\.0300$/));
    expect(run.stdout).toMatch(/job: 3\/6 scored runs passed, 50\.0% \(/);
    expect(run.stdout).toMatch(/pass@1 50\.0%, pass@2 50\.0%, pass@3 50\.0%/);
    expect(run.stdout).toMatch(new RegExp(`runs: ${origin}/jobs/[0-9a-f-]{36}/runs\\.csv`));
  }, 90_000);

  it('says what the API refused', async () => {
    const run = await runExample('follow-job.ts', ['--api', new URL(api.url).origin, '--task', '00000000-0000-4000-8000-000000000000']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^createJob refused \(INVALID_INPUT\): no task with id 00000000-0000-4000-8000-000000000000/);
  }, 30_000);

  it('sends the --token it is given, which wins over THR_TOKEN', async () => {
    const run = await runExample('follow-job.ts', ['--api', new URL(api.url).origin, '--task', '00000000-0000-4000-8000-000000000000', '--token', 'thr_revoked-or-made-up-000000000000000']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/UNAUTHENTICATED.*the API token is not valid/);
  }, 30_000);
});

// The leaderboard API comes from another branch of issue 17: its case runs once the schema has it.
const queryType = /^type Query \{\n([\s\S]*?)^\}/m.exec(readFileSync(path.join(repoRoot, 'schema.graphql'), 'utf8'))?.[1] ?? '';
const hasLeaderboard = /^ {2}leaderboard\(/m.test(queryType);
// Labels (name@version) resolve through the datasets API, another branch of the issue.
const hasDatasetLabels = /^ {2}datasetVersionByLabel\(/m.test(queryType);

describe('examples/leaderboard.py', () => {
  it('follows a job live over graphql-ws (its own RFC 6455 client) until it ends, then prints the summary', async () => {
    // Slow phases (4 × 400 ms a run), so the job is still running when the script subscribes.
    const pass = await h.simulatedTask('py-pass', { HARBOR_SIM_SCENARIO: 'pass', HARBOR_SIM_PHASE_MS: '400' });
    const fail = await h.simulatedTask('py-fail', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_PHASE_MS: '400' });
    await h.startRunner('runner-python', 2).waitFor(/ready/);
    const job = await h.createJob({ name: 'python follows', taskIds: [pass, fail], agent: 'oracle', runsPerTask: 2 });

    const run = await runExample('leaderboard.py', ['--api', new URL(api.url).origin, '--job', job]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toBe(`job ${job} "python follows": 4 runs`);
    // Seen live: a state before the end, then the end.
    expect(lines[1]).toMatch(/^(QUEUED|RUNNING) /);
    const done = lines.findIndex((l) => /^COMPLETED/.test(l));
    expect(done).toBeGreaterThan(1);
    expect(lines[done]).toMatch(/^COMPLETED +queued 0 +running 0 +passed 2 +failed 2 +errored 0 +cancelled 0 +cost \$0\.0400$/);
    expect(lines).toContainEqual(expect.stringMatching(/^task +runs +passed +failed +errored +cancelled +pass rate \(95% CI\) +mean reward +cost \$$/));
    expect(lines).toContainEqual(expect.stringMatching(/^py-fail +2 +0 +2 +0 +0 +0\.0% \(0\.0%–\d+\.\d%\) +0\.00 +0\.0200$/));
    expect(lines).toContainEqual(expect.stringMatching(/^py-pass +2 +2 +0 +0 +0 +100\.0% \(\d+\.\d%–100\.0%\) +1\.00 +0\.0200$/));
    expect(run.stdout).toMatch(/^job: 2\/4 scored runs passed, 50\.0% \(/m);
    expect(run.stdout).toMatch(new RegExp(`runs: ${new URL(api.url).origin}/jobs/${job}/runs\\.csv`));
  }, 90_000);

  it('says when the token is refused: the WebSocket closed with 4401', async () => {
    const run = await runExample('leaderboard.py', [
      '--api', new URL(api.url).origin, '--job', '00000000-0000-4000-8000-000000000000', '--token', 'thr_revoked-or-made-up-000000000000000',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^leaderboard\.py: UNAUTHENTICATED: .*\(WebSocket closed with 4401\)\n$/);
  }, 30_000);

  it('says what is missing: no --dataset or --job, no token', async () => {
    const none = await runExample('leaderboard.py', ['--api', new URL(api.url).origin]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/give --dataset, --job or both/);
    const dataset = await runExample('leaderboard.py', ['--api', new URL(api.url).origin, '--dataset', 'nobody-made-this@1']);
    expect(dataset.code).toBe(2);
    expect(dataset.stderr).toMatch(/^leaderboard\.py: /);
  }, 30_000);

  it.skipIf(!hasLeaderboard)('prints a dataset version\'s leaderboard: complete rows ranked, incomplete rows apart', async () => {
    const db = api.database.db;
    const a = await h.simulatedTask('lb-alpha', { HARBOR_SIM_SCENARIO: 'pass' });
    const b = await h.simulatedTask('lb-beta', { HARBOR_SIM_SCENARIO: 'fail' });
    const dataset = await db.dataset.create({ data: { name: 'py-bench' } });
    const version = await db.datasetVersion.create({
      data: { datasetId: dataset.id, version: '1', source: 'MANUAL', taskCount: 2, tasks: { create: [{ taskId: a, name: 'lb-alpha' }, { taskId: b, name: 'lb-beta' }] } },
    });
    await h.startRunner('runner-leaderboard', 3).waitFor(/ready/);
    // Two models over the whole dataset, and one that ran only one of its tasks (incomplete).
    const jobs = [
      await h.createJob({ name: 'gpt both', taskIds: [a, b], agent: 'terminus-2', model: 'openai/gpt-5', runsPerTask: 1 }),
      await h.createJob({ name: 'sonnet both', taskIds: [a, b], agent: 'terminus-2', model: 'anthropic/claude-sonnet-4-5', runsPerTask: 2 }),
      await h.createJob({ name: 'haiku alpha', taskIds: [a], agent: 'terminus-2', model: 'anthropic/claude-haiku-4-5', runsPerTask: 1 }),
    ];
    await db.job.updateMany({ where: { id: { in: jobs } }, data: { datasetVersionId: version.id } });
    for (const job of jobs) await h.waitForJob(job, (j) => j.status === 'COMPLETED');

    const run = await runExample('leaderboard.py', ['--api', new URL(api.url).origin, '--dataset', version.id]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^leaderboard py-bench@1: 2 tasks, computed /);
    expect(lines[1]).toMatch(/^rule: ./);
    expect(lines[2]).toMatch(/^rank +agent +model +version +tasks +trials +accuracy ± SE +95% CI +pass@1 +cost\/trial +median s +infra err$/);
    // Both complete rows solve lb-alpha only: 50% each, ranked 1 (a tie shares it); haiku covers 1 of 2 tasks.
    const rows = lines.slice(4).filter(Boolean);
    expect(rows).toHaveLength(4);
    const models = rows.slice(0, 2).map((r) => /^1 +terminus-2 +(\S+) +\S+ +2\/2 +([24]) +50\.0% ± \d+\.\d% +\S+–\S+ +50\.0% +\$0\.0100 +\d+\.\d +0$/.exec(r)?.slice(1));
    expect(models.sort()).toEqual([['anthropic/claude-sonnet-4-5', '4'], ['openai/gpt-5', '2']]);
    expect(rows[2]).toBe('incomplete (not ranked):');
    expect(rows[3]).toMatch(/^— +terminus-2 +anthropic\/claude-haiku-4-5 +\S+ +1\/2 +1 +100\.0% ± /);

    // Filtered by model; by label once the datasets API is there.
    const gpt = await runExample('leaderboard.py', ['--api', new URL(api.url).origin, '--dataset', version.id, '--model', 'openai/gpt-5']);
    expect(gpt.code).toBe(0);
    expect(gpt.stdout.split('\n').slice(4).filter(Boolean)).toEqual([expect.stringMatching(/^1 +terminus-2 +openai\/gpt-5 /)]);
    if (hasDatasetLabels) {
      const byLabel = await runExample('leaderboard.py', ['--api', new URL(api.url).origin, '--dataset', 'py-bench@1']);
      expect(byLabel.code).toBe(0);
      expect(byLabel.stdout.split('\n').slice(4)).toEqual(lines.slice(4));
    }
  }, 120_000);
});
