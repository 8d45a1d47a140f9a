import { describe, expect, it } from 'vitest';
import type { Role } from '../auth/viewer.js';
import {
  checkAgentKwargs,
  checkCustomAgent,
  checkHostAccess,
  credentialKwargs,
  DEFAULT_LAUNCH_SETTINGS,
  endpointKwargs,
  hostPathKwargs,
  type LaunchSettings,
} from './launch-policy.js';

const ROLES: (Role | null)[] = ['ADMIN', 'MEMBER', 'VIEWER', null];
const settings = (over: Partial<LaunchSettings> = {}): LaunchSettings => ({ ...DEFAULT_LAUNCH_SETTINGS, ...over });

describe('endpointKwargs', () => {
  it("finds Harbor's endpoint-changing kwargs at any depth, whatever their case", () => {
    const kwargs = {
      temperature: 0.7,
      max_turns: 200,
      API_BASE: 'https://evil.example',
      llm_kwargs: { base_url: 'https://evil.example', timeout: 10 },
      llm_call_kwargs: { extra_body: { proxy: 'http://p' } },
      extra_env: { ANTHROPIC_BASE_URL: 'x', OPENAI_API_BASE: 'x', HTTPS_PROXY: 'x', SAFE: '1' },
      llm_backend: 'tinker',
      routes: [{ modelEndpoint: 'x' }],
      baseUrl: 'x',
      'ollama-host': 'x',
    };
    expect(endpointKwargs(kwargs).sort()).toEqual(
      [
        'agentKwargs.API_BASE',
        'agentKwargs.llm_kwargs.base_url',
        'agentKwargs.llm_call_kwargs.extra_body.proxy',
        'agentKwargs.extra_env.ANTHROPIC_BASE_URL',
        'agentKwargs.extra_env.OPENAI_API_BASE',
        'agentKwargs.extra_env.HTTPS_PROXY',
        'agentKwargs.llm_backend',
        'agentKwargs.routes.0.modelEndpoint',
        'agentKwargs.baseUrl',
        'agentKwargs.ollama-host',
      ].sort(),
    );
  });

  it('leaves ordinary kwargs alone', () => {
    expect(endpointKwargs({ temperature: 1, max_turns: 3, model_info: { max_input_tokens: 1 }, reasoning_effort: 'high', parser_name: 'xml' })).toEqual([]);
    expect(endpointKwargs(null)).toEqual([]);
  });
});

describe('checkAgentKwargs', () => {
  const endpoint = { api_base: 'https://elsewhere.example/v1' };

  it('refuses an endpoint change with the server default key, whatever the role', () => {
    for (const role of ROLES) {
      const refusal = checkAgentKwargs(endpoint, { role, ownKey: false, settings: settings({ endpointOverrideRoles: ['ADMIN', 'MEMBER', 'VIEWER'] }) });
      expect(refusal, String(role)).toMatchObject({ field: 'input.harbor.agentKwargs.api_base' });
      expect(refusal!.message).toMatch(/default provider key/);
    }
  });

  it('allows it with the job\'s own key only for ENDPOINT_OVERRIDE_ROLES (default ADMIN)', () => {
    const allowed = (role: Role | null, s = settings()) => checkAgentKwargs(endpoint, { role, ownKey: true, settings: s }) === null;
    expect(ROLES.map((r) => allowed(r))).toEqual([true, false, false, false]);
    expect(ROLES.map((r) => allowed(r, settings({ endpointOverrideRoles: ['ADMIN', 'MEMBER'] })))).toEqual([true, true, false, false]);
    expect(ROLES.map((r) => allowed(r, settings({ endpointOverrideRoles: [] })))).toEqual([false, false, false, false]);
    expect(checkAgentKwargs(endpoint, { role: 'MEMBER', ownKey: true, settings: settings() })!.message).toBe(
      'MEMBER may not point the agent at another endpoint (agentKwargs.api_base); ENDPOINT_OVERRIDE_ROLES allows ADMIN',
    );
  });

  it('lets host file paths through for ADMIN only', () => {
    const kwargs = { config: '/etc/shadow', prompt_template_path: '/root/x' };
    expect(hostPathKwargs(kwargs)).toEqual(['agentKwargs.config', 'agentKwargs.prompt_template_path']);
    expect(hostPathKwargs({ config: { inline: true } })).toEqual([]);
    expect(ROLES.map((role) => checkAgentKwargs(kwargs, { role, ownKey: false, settings: settings() }) === null)).toEqual([true, false, false, false]);
  });

  it('refuses credentials in clear for everyone, and leaves token counts alone', () => {
    for (const kwargs of [{ llm_kwargs: { api_key: 'sk-x' } }, { extra_env: { GITHUB_TOKEN: 'ghp_x' } }, { password: 'p' }]) {
      for (const role of ROLES) {
        const refusal = checkAgentKwargs(kwargs, { role, ownKey: true, settings: settings({ endpointOverrideRoles: ['ADMIN', 'MEMBER', 'VIEWER'] }) });
        expect(refusal?.message, JSON.stringify(kwargs)).toMatch(/would keep a credential in clear .* providerKey/);
      }
    }
    expect(credentialKwargs({ max_tokens: 100, max_thinking_tokens: 2048, token_budget: 'x' })).toEqual([]);
  });

  it('passes ordinary kwargs for every role, with or without a key', () => {
    for (const role of ROLES) {
      for (const ownKey of [true, false]) expect(checkAgentKwargs({ temperature: 0.2, max_turns: 9 }, { role, ownKey, settings: settings() })).toBeNull();
    }
  });
});

describe('checkCustomAgent', () => {
  it('refuses custom agents for everyone unless ALLOW_CUSTOM_AGENTS, then MEMBER and ADMIN may', () => {
    const allowed = (role: Role | null, allowCustomAgents: boolean) => checkCustomAgent({ custom: true, role, settings: settings({ allowCustomAgents }) }) === null;
    expect(ROLES.map((r) => allowed(r, false))).toEqual([false, false, false, false]);
    expect(ROLES.map((r) => allowed(r, true))).toEqual([true, true, false, false]);
    expect(checkCustomAgent({ custom: true, role: 'ADMIN', settings: settings() })!.message).toMatch(/ALLOW_CUSTOM_AGENTS=true/);
  });

  it("never stands in the way of Harbor's own agents", () => {
    for (const role of ROLES) expect(checkCustomAgent({ custom: false, role, settings: settings() })).toBeNull();
  });
});

describe('checkHostAccess', () => {
  const tasks = [{ name: 'escape', reasons: ['host access: service main: privileged: true'] }];

  it('refuses tasks that reach the host unless an ADMIN sets allowHostAccess, naming tasks and reasons', () => {
    const allowed = (role: Role | null, allowHostAccess: boolean) => checkHostAccess(tasks, { role, allowHostAccess }) === null;
    expect(ROLES.map((r) => allowed(r, false))).toEqual([false, false, false, false]);
    expect(ROLES.map((r) => allowed(r, true))).toEqual([true, false, false, false]);
    expect(checkHostAccess(tasks, { role: 'MEMBER', allowHostAccess: false })).toEqual({
      field: 'input.taskIds',
      message:
        "these tasks' docker-compose files reach the runner host: escape (host access: service main: privileged: true); " +
        'an ADMIN may launch them with allowHostAccess: true',
    });
    expect(checkHostAccess(tasks, { role: 'MEMBER', allowHostAccess: true })!.message).toMatch(/MEMBER may not set allowHostAccess/);
  });

  it('has nothing to say about tasks without findings', () => {
    for (const role of ROLES) expect(checkHostAccess([], { role, allowHostAccess: false })).toBeNull();
  });
});
