import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { probeHarborModules } from './probe.js';
import { findCapabilities, harborTested, heldCredentials, sandboxEnv, type MachineFacts } from './capabilities.js';
import { poolsServed, servesPool } from './protocol/index.js';

const facts = (extra: Partial<MachineFacts> = {}): MachineFacts => ({
  dockerReachable: true,
  binaries: new Set(),
  gpus: 0,
  harborVersion: '0.22.0',
  harborModules: null,
  platform: 'linux',
  arch: 'x64',
  ...extra,
});
const noConfig = { environmentVars: null, environmentTypes: null };
const env = { HOME: '/nonexistent', DAYTONA_API_KEY: 'dtn_secret', MODAL_TOKEN_ID: 'ak-1', PATH: '/usr/bin' };

describe('capabilities', () => {
  it('serves docker when Docker answers and a cloud type when its credentials are held, saying why not for the rest', () => {
    const held = heldCredentials(noConfig, env);
    expect([...held.keys()]).toEqual(['DAYTONA_API_KEY', 'MODAL_TOKEN_ID']);
    const c = findCapabilities({ environmentTypes: null, windows: false }, facts(), held, env);
    expect(c.environmentTypes).toEqual(['docker', 'daytona']);
    const why = Object.fromEntries(c.unavailable.map((u) => [u.environmentType, u.reason]));
    expect(why.modal).toMatch(/no MODAL_TOKEN_ID \+ MODAL_TOKEN_SECRET is held/);
    expect(why.singularity).toMatch(/singularity CLI is not on PATH/);
    expect(why['apple-container']).toMatch(/Apple silicon/);
    expect(why.ec2).toMatch(/RUNNER_ENVIRONMENT_TYPES/);
    expect(c.harborTested).toBe(true);

    const noDocker = findCapabilities({ environmentTypes: null, windows: false }, facts({ dockerReachable: false }), held, env);
    expect(noDocker.environmentTypes).toEqual(['daytona']);
    expect(noDocker.unavailable.find((u) => u.environmentType === 'docker')?.reason).toMatch(/Docker is not reachable/);
  });

  it('takes RUNNER_ENVIRONMENT_VARS and RUNNER_ENVIRONMENT_TYPES as given, and refuses bad names', () => {
    expect(() => heldCredentials({ environmentVars: ['E2B_API_KEY'], environmentTypes: null }, env)).toThrow(/names E2B_API_KEY, which is not set/);
    expect(() => heldCredentials({ environmentVars: ['PATH'], environmentTypes: null }, env)).toThrow(/cannot name PATH: the runner sets it itself/);
    expect(() => heldCredentials({ environmentVars: ['OPENAI_API_KEY'], environmentTypes: null }, { OPENAI_API_KEY: 'x' })).toThrow(/provider key/);
    expect(() => heldCredentials({ environmentVars: null, environmentTypes: ['dockr'] }, env)).toThrow(/"dockr", which is not a Harbor environment type/);
    const held = heldCredentials({ environmentVars: ['DAYTONA_API_KEY', 'AWS_SECRET_ACCESS_KEY'], environmentTypes: null }, { ...env, AWS_SECRET_ACCESS_KEY: 'aws' });
    const c = findCapabilities({ environmentTypes: ['daytona', 'ec2'], windows: false }, facts(), held, env);
    expect(c.environmentTypes).toEqual(['daytona', 'ec2']);
    expect(c.unavailable.find((u) => u.environmentType === 'docker')?.reason).toBe('not in RUNNER_ENVIRONMENT_TYPES');
    // Each trial gets only its own type's credentials; docker gets none.
    expect(sandboxEnv('daytona', held)).toEqual({ DAYTONA_API_KEY: 'dtn_secret' });
    expect(sandboxEnv('ec2', held)).toEqual({ AWS_SECRET_ACCESS_KEY: 'aws' });
    expect(sandboxEnv('docker', held)).toEqual({});
  });

  it('routes Windows and GPU pools only to runners that can serve them', () => {
    const linux = findCapabilities({ environmentTypes: null, windows: false }, facts(), heldCredentials(noConfig, env), env);
    expect(poolsServed(linux)).toEqual(['docker', 'daytona', 'daytona_gpu']);
    const windowsGpu = findCapabilities({ environmentTypes: ['docker'], windows: true }, facts({ gpus: 2 }), new Map(), env);
    expect(poolsServed(windowsGpu)).toEqual(['docker', 'docker_gpu', 'docker_windows', 'docker_windows_gpu']);
    expect(servesPool(linux, 'docker_windows')).toBe(false);
    expect(servesPool(linux, 'nonsense')).toBe(false);
  });

  it('knows the tested Harbor range', () => {
    expect([harborTested('0.22.0'), harborTested('0.24.3'), harborTested('0.25.0'), harborTested('0.21.9'), harborTested('dev'), harborTested(null)]).toEqual([
      true, true, false, false, false, null,
    ]);
  });
});

describe("Harbor's extras", () => {
  it("leaves out a cloud type whose extra Harbor's Python cannot import", () => {
    const held = heldCredentials(noConfig, env);
    const c = findCapabilities({ environmentTypes: null, windows: false }, facts({ harborModules: new Set(['modal']) }), held, env);
    expect(c.environmentTypes).toEqual(['docker']);
    expect(c.unavailable.find((u) => u.environmentType === 'daytona')?.reason).toBe("Harbor's daytona extra is not installed (uv tool install 'harbor[daytona]')");
  });

  it("finds the modules Harbor's own Python (its #! line) can import, and tells nothing of a non-Python HARBOR_BIN", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'thr-extras-'));
    try {
      const harbor = path.join(dir, 'harbor');
      await writeFile(harbor, '#!/usr/bin/env python3\nprint("0.22.0")\n');
      await chmod(harbor, 0o755);
      expect(await probeHarborModules(harbor, ['json', 'no_such_module_here'])).toEqual(new Set(['json']));
      const shell = path.join(dir, 'harbor-sh');
      await writeFile(shell, '#!/bin/sh\necho 0.22.0\n');
      await chmod(shell, 0o755);
      expect(await probeHarborModules(shell, ['json'])).toBeNull();
      expect(await probeHarborModules(path.join(dir, 'missing'), ['json'])).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
