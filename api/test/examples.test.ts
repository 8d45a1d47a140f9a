// The runnable examples of docs/api.md, run as a user runs them against a platform with the Harbor
// simulator, so they cannot rot.
import { spawn } from 'node:child_process';
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

/** `npx tsx examples/<file> …args` from the repository root (npx resolves to node_modules/.bin/tsx). */
function runExample(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(path.join(repoRoot, 'node_modules/.bin/tsx'), [path.join('examples', file), ...args], {
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
