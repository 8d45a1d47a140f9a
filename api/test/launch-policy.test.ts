// Launch inputs that would reach the runner host or send the server's key elsewhere, refused at the
// API (issue 15 item 7); the runner's own refusal is in secrets-leak.test.ts.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphql, startTestApp, type TestApp } from './support/app.js';
import { createUserWithToken } from './support/auth.js';
import { tb2Task, under, zip, type FileTree } from './support/task-zips.js';
import { uploadZips } from './support/upload.js';

const CREATE_JOB = `mutation($input: CreateJobInput!) { createJob(input: $input) {
  __typename ... on MutationCreateJobSuccess { data { id } } ... on Error { code message } ... on InvalidInputError { field } } }`;

let api: TestApp;
let taskId: string;
/** A MEMBER's token: the test app's own client is an ADMIN. */
let member: string;

beforeAll(async () => {
  api = await startTestApp({ secretsKey: randomBytes(32), defaultProviderKeys: [{ envVar: 'OPENROUTER_API_KEY', value: 'sk-or-v1-server-default-key' }] });
  taskId = await upload('plain', tb2Task('plain'));
  member = (await createUserWithToken(api.database.db, 'MEMBER', 'member')).token;
});
afterAll(() => api?.close());

async function upload(name: string, files: FileTree): Promise<string> {
  const { body } = await uploadZips(api.url, [{ name: `${name}.zip`, bytes: await zip(under(name, files)) }]);
  return body.data.uploadTasks.data.files[0].tasks[0].task.id;
}

/** createJob as the test's ADMIN, or as `as` (a token) when given. */
async function launch(input: Record<string, unknown>, as?: string) {
  const { data, errors } = await graphql(
    api.url,
    CREATE_JOB,
    { input: { taskIds: [taskId], agent: 'terminus-2', model: 'openrouter/anthropic/claude-sonnet-4', runsPerTask: 1, ...input } },
    as ? { token: as } : undefined,
  );
  expect(errors).toBeUndefined();
  return data.createJob as { __typename: string; code?: string; message?: string; field?: string; data?: { id: string } };
}

const jobCount = () => api.database.db.job.count();

describe('providerKey.envVar', () => {
  it('refuses PATH, PYTHONPATH, LD_PRELOAD, DOCKER_HOST and any other non-provider variable, writing nothing', async () => {
    const before = await jobCount();
    for (const envVar of ['PATH', 'PYTHONPATH', 'LD_PRELOAD', 'DOCKER_HOST', 'NODE_OPTIONS', 'HOME', 'SOME_VAR']) {
      const value = `${api.tasksDir}/0000/plain/tests/bin:/usr/bin:/bin`;
      const result = await launch({ providerKey: { envVar, value } });
      expect(result, envVar).toMatchObject({ __typename: 'InvalidInputError', code: 'INVALID_INPUT' });
      expect(result.message).toMatch(new RegExp(`^providerKey.envVar "${envVar}" cannot hold a provider key: .*; use one of .*OPENROUTER_API_KEY`));
    }
    expect(await jobCount()).toBe(before);
  });

  it('takes a provider variable, given or derived from the model', async () => {
    expect(await launch({ providerKey: { envVar: 'ANTHROPIC_API_KEY', value: 'sk-ant-own-key-123' } })).toMatchObject({ __typename: 'MutationCreateJobSuccess' });
    expect(await launch({ providerKey: { value: 'sk-or-own-key-123' } })).toMatchObject({ __typename: 'MutationCreateJobSuccess' });
  });
});

describe('agent kwargs', () => {
  it("refuses endpoint changes while the run would use the server's default key, at any depth", async () => {
    const before = await jobCount();
    for (const agentKwargs of [
      { api_base: 'https://collector.example/v1' },
      { temperature: 0.5, llm_kwargs: { base_url: 'https://collector.example' } },
      { extra_env: { OPENROUTER_BASE_URL: 'https://collector.example' } },
    ]) {
      const result = await launch({ harbor: { agentKwargs } });
      expect(result, JSON.stringify(agentKwargs)).toMatchObject({ __typename: 'InvalidInputError', field: expect.stringMatching(/^input\.harbor\.agentKwargs\./) });
      expect(result.message).toMatch(/would send the server's default provider key to another endpoint/);
    }
    expect(await jobCount()).toBe(before);
  });

  it('refuses them with the job\'s own key too for a caller outside ENDPOINT_OVERRIDE_ROLES', async () => {
    const ownKeyElsewhere = { providerKey: { value: 'sk-or-own-key-456' }, harbor: { agentKwargs: { api_base: 'http://127.0.0.1:8000' } } };
    const result = await launch(ownKeyElsewhere, member);
    expect(result).toMatchObject({ __typename: 'InvalidInputError', field: 'input.harbor.agentKwargs.api_base' });
    expect(result.message).toMatch(/may not point the agent at another endpoint .*ENDPOINT_OVERRIDE_ROLES allows ADMIN/);
    // An ADMIN (the default ENDPOINT_OVERRIDE_ROLES) may, with the job's own key.
    expect(await launch(ownKeyElsewhere)).toMatchObject({ __typename: 'MutationCreateJobSuccess' });
  });

  it('passes ordinary kwargs', async () => {
    expect(await launch({ harbor: { agentKwargs: { temperature: 0.7, max_turns: 20 } } })).toMatchObject({ __typename: 'MutationCreateJobSuccess' });
  });
});

it('refuses custom agents while ALLOW_CUSTOM_AGENTS is off', async () => {
  const result = await launch({ agent: 'my_agents.evil:Agent' });
  expect(result).toMatchObject({ __typename: 'InvalidInputError', field: 'input.agent' });
  expect(result.message).toMatch(/custom agents .* are disabled on this server; .*ALLOW_CUSTOM_AGENTS=true/);
});

describe('tasks whose compose file reaches the host', () => {
  const compose = [
    'services:',
    '  main:',
    '    build: .',
    '    privileged: true',
    '    volumes:',
    '      - /var/run/docker.sock:/var/run/docker.sock',
    '      - ./data:/data',
    '',
  ].join('\n');

  it('are accepted with host_access warnings, and every launch of them is refused naming the task and the reasons', async () => {
    const hostile = await upload('hostile', { ...tb2Task('hostile', { dockerImage: null }), 'environment/docker-compose.yaml': compose });
    const { data } = await graphql(api.url, `query($id: ID!) { task(id: $id) { name warnings { code message path } } }`, { id: hostile });
    expect(data.task.warnings.filter((w: { code: string }) => w.code === 'host_access')).toEqual([
      { code: 'host_access', message: 'host access: service main: privileged: true', path: 'hostile/environment/docker-compose.yaml' },
      {
        code: 'host_access',
        message: "host access: service main: mounts the Docker socket (/var/run/docker.sock): full control of the runner's Docker",
        path: 'hostile/environment/docker-compose.yaml',
      },
    ]);

    const before = await jobCount();
    const refused = await launch({ taskIds: [taskId, hostile], agent: 'oracle', model: null });
    expect(refused).toMatchObject({ __typename: 'InvalidInputError', field: 'input.taskIds' });
    expect(refused.message).toBe(
      "these tasks' docker-compose files reach the runner host: hostile (host access: service main: privileged: true; " +
        "host access: service main: mounts the Docker socket (/var/run/docker.sock): full control of the runner's Docker); " +
        'an ADMIN may launch them with allowHostAccess: true',
    );
    // Asking is not enough for a MEMBER: only an ADMIN may.
    const asked = await launch({ taskIds: [hostile], agent: 'oracle', model: null, allowHostAccess: true }, member);
    expect(asked.message).toMatch(/may not set allowHostAccess; only an ADMIN may/);
    expect(await jobCount()).toBe(before);
    expect(await launch({ taskIds: [hostile], agent: 'oracle', model: null, allowHostAccess: true })).toMatchObject({ __typename: 'MutationCreateJobSuccess' });
  });

  it('leave task-relative mounts alone', async () => {
    const fine = await upload('fine', {
      ...tb2Task('fine', { dockerImage: null }),
      'environment/docker-compose.yaml': 'services:\n  main:\n    build: .\n    volumes: ["./data:/data", "cache:/cache"]\nvolumes:\n  cache: {}\n',
    });
    expect(await launch({ taskIds: [fine], agent: 'oracle', model: null })).toMatchObject({ __typename: 'MutationCreateJobSuccess' });
  });
});
