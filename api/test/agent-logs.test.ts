// Each agent writes its own files (Harbor 0.22 src/harbor/agents/: oracle.txt, nothing for nop,
// terminus-2's pane and episodes, installed agents' <name>.txt, setup/ and sessions/). Through a
// real runner and the simulator: the live log carries the agent's own log under its file name (not
// the session files repeating it), the run's agentLogs and files list what it wrote, and a setup or
// session file downloads.
import { describe, expect, it } from 'vitest';
import { readRunLog } from '../src/logs/service.js';
import { graphql, type TestApp } from './support/app.js';
import { type JobHarness } from './support/jobs.js';
import { usePlatformWithRunners } from './support/platform.js';

let api: TestApp;
let h: JobHarness;

usePlatformWithRunners((p) => ({ api, h } = p));

const RUN = `query($id: ID!) { run(id: $id) { status reward files { path } agentLogs { path episode url } } }`;

/** What the run page shows of each agent: its live log's agent files, agentLogs, and files beyond those. */
const AGENTS = [
  { agent: 'oracle', model: null, status: 'PASSED', logFiles: ['agent/oracle.txt'], agentLogs: ['agent/oracle.txt'], files: [] },
  { agent: 'nop', model: null, status: 'FAILED', logFiles: [], agentLogs: [], files: [] },
  {
    agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', status: 'PASSED', logFiles: ['agent/terminus_2.pane', 'agent/trajectory.json'],
    agentLogs: ['agent/episode-0/prompt.txt', 'agent/episode-0/response.txt'], files: ['agent/recording.cast'],
  },
  {
    agent: 'claude-code', model: 'anthropic/claude-sonnet-4-5', status: 'PASSED',
    logFiles: ['agent/claude-code.txt', 'agent/setup/return-code.txt', 'agent/setup/stdout.txt', 'agent/trajectory.json'],
    agentLogs: ['agent/claude-code.txt'], files: ['agent/sessions/projects/-app/', 'agent/setup/stdout.txt'],
  },
  {
    agent: 'codex', model: 'openai/gpt-5', status: 'PASSED',
    logFiles: ['agent/codex.txt', 'agent/setup/return-code.txt', 'agent/setup/stdout.txt', 'agent/trajectory.json'],
    agentLogs: ['agent/codex.txt'], files: ['agent/sessions/20', 'agent/setup/stdout.txt'],
  },
  {
    agent: 'aider', model: 'openrouter/anthropic/claude-sonnet-4', status: 'PASSED',
    logFiles: ['agent/aider.txt', 'agent/setup/return-code.txt', 'agent/setup/stdout.txt', 'agent/trajectory.json'],
    agentLogs: ['agent/aider.txt'], files: ['agent/setup/stdout.txt'],
  },
];

async function agentLines(runId: string): Promise<{ file: string; text: string }[]> {
  const lines: { file: string; text: string }[] = [];
  for await (const chunk of readRunLog({ db: api.database.db, nats: api.nats.nc, topology: api.nats.topology }, runId)) {
    for (const l of chunk) if (l.source === 'agent' && l.file) lines.push({ file: l.file, text: l.text });
  }
  return lines;
}

describe("each agent's files, from the runner's live log to the run page", () => {
  it('oracle, nop, terminus-2, claude-code, codex and another installed agent', async () => {
    const task = await h.simulatedTask('agent-files', { HARBOR_SIM_PHASE_MS: '600', HARBOR_SIM_LOG_LINES: '4' });
    const failing = await h.simulatedTask('agent-files-fail', { HARBOR_SIM_SCENARIO: 'fail', HARBOR_SIM_PHASE_MS: '200' });
    h.startRunner('runner-agents', AGENTS.length + 1);
    const jobs = new Map<string, string>();
    for (const a of AGENTS) jobs.set(a.agent, await h.createJob({ taskIds: [task], agent: a.agent, model: a.model, runsPerTask: 1 }));
    const oracleFailing = await h.createJob({ taskIds: [failing], agent: 'oracle', runsPerTask: 1 });

    for (const a of AGENTS) {
      const job = await h.waitForJob(jobs.get(a.agent)!, (j) => j.status === 'COMPLETED', 60_000);
      const runId = job.runs.edges[0].node.id;
      const run = (await graphql(api.url, RUN, { id: runId })).data.run;
      expect(run.status, a.agent).toBe(a.status);

      // The live log: the agent's own log under its file name, each event once: sessions/ files, which
      // repeat claude-code.txt's and codex.txt's events, are not tailed (they stay downloadable, below).
      const lines = await agentLines(runId);
      const logFiles = [...new Set(lines.map((l) => l.file))].sort();
      expect(logFiles, a.agent).toEqual(a.logFiles);
      const own = a.logFiles[0];
      if (own === 'agent/claude-code.txt' || own === 'agent/codex.txt') {
        // JSON lines, one event each, as `claude -p --output-format stream-json` and `codex exec --json` print them.
        for (const l of lines.filter((x) => x.file === own)) expect(() => JSON.parse(l.text), l.text).not.toThrow();
      } else if (own) {
        expect(lines.filter((l) => l.file === own).map((l) => l.text), a.agent).toEqual(expect.arrayContaining([expect.stringMatching(/^sim-agent run-.* line 4$/)]));
      }

      // The run page: agentLogs first the agent's own log, then its episodes; the files list the rest.
      expect(run.agentLogs.map((l: any) => l.path).slice(0, a.agentLogs.length), a.agent).toEqual(a.agentLogs);
      const files: string[] = run.files.map((f: any) => f.path);
      for (const prefix of a.files) expect(files.some((f) => f.startsWith(prefix)), `${a.agent}: ${prefix}`).toBe(true);
      if (a.agent === 'nop') expect(files.filter((f) => f.startsWith('agent/'))).toEqual([]);
      const setup = run.files.find((f: any) => f.path === 'agent/setup/stdout.txt');
      if (setup) {
        const response = await fetch(new URL(`/runs/${runId}/files/agent/setup/stdout.txt`, api.url));
        expect(response.status).toBe(200);
        expect(await response.text()).toMatch(new RegExp(`${a.agent} installed`));
      }
      const session = files.find((f) => f.startsWith('agent/sessions/') && f.endsWith('.jsonl'));
      if (session) {
        const response = await fetch(new URL(`/runs/${runId}/files/${session}`, api.url));
        expect(response.status, session).toBe(200);
        expect((await response.text()).split('\n')[0], session).toContain(`"cwd":"/app"`);
      }
    }

    // An oracle whose solve.sh failed: its exit code sits next to its log.
    const job = await h.waitForJob(oracleFailing, (j) => j.status === 'COMPLETED', 60_000);
    const run = (await graphql(api.url, RUN, { id: job.runs.edges[0].node.id })).data.run;
    expect(run.status).toBe('FAILED');
    expect(run.agentLogs.map((l: any) => l.path)).toEqual(['agent/oracle.txt', 'agent/exit-code.txt']);
    expect(await (await fetch(new URL(run.agentLogs[1].url, api.url))).text()).toBe('1');
  }, 120_000);
});
