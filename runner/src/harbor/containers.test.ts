import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSleeperImage, podmanMissing, projectLeftovers, removeProject, startLabelledProject, startPodmanService, type PodmanService } from '../../test/support/podman.js';
import { belongsToTrial, engineEndpoint, takeDownTrialEnvironment } from './containers.js';

describe('belongsToTrial', () => {
  it("knows the trial's compose projects of every Harbor version, by Compose's naming rule, and no other trial's", () => {
    const mine = belongsToTrial('Fix.Git__aB3dE9x');
    for (const project of ['fix-git__ab3de9x__env', 'fix-git__ab3de9x', 'fix-git__ab3de9x-verifier', 'fix-git__ab3de9x__verifier']) expect(mine(project), project).toBe(true);
    for (const project of ['fix-git__ab3de9y__env', 'fix-git__ab3de9xz__env', 'fix-git__ab3de9', 'other']) expect(mine(project), project).toBe(false);
    // Compose names start with a letter or digit.
    expect(belongsToTrial('_x__abcdefg')('0_x__abcdefg__env')).toBe(true);
  });
});

describe('engineEndpoint', () => {
  it('reads DOCKER_HOST as the docker CLI does, and says why when it cannot', () => {
    expect(engineEndpoint({})).toEqual({ socketPath: '/var/run/docker.sock' });
    expect(engineEndpoint({ DOCKER_HOST: 'unix:///run/podman/podman.sock' })).toEqual({ socketPath: '/run/podman/podman.sock' });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://10.0.0.5:2376' })).toEqual({ host: '10.0.0.5', port: 2376 });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://docker' })).toEqual({ host: 'docker', port: 2375 });
    expect(engineEndpoint({ DOCKER_HOST: 'tcp://docker:2376', DOCKER_TLS_VERIFY: '1' })).toMatch(/needs TLS/);
    expect(engineEndpoint({ DOCKER_HOST: 'ssh://me@host' })).toMatch(/neither unix:\/\/ nor tcp:\/\//);
  });
});

describe('takeDownTrialEnvironment without an engine', () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'thr-containers-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('logs that the engine cannot be reached, naming it, and does not throw', async () => {
    const lines: string[] = [];
    await takeDownTrialEnvironment('t__abc', { why: 'test', log: (l) => lines.push(l), env: { DOCKER_HOST: `unix://${dir}/none.sock` } });
    expect(lines).toEqual([expect.stringMatching(new RegExp(`cannot take down the containers of trial t__abc \\(test\\) through the Docker engine at unix://${dir}/none.sock: .*ENOENT`))]);
  });

  it('gives up on an engine that does not answer within the bound', async () => {
    const silent = http.createServer(() => {});
    const socketPath = path.join(dir, 'silent.sock');
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    try {
      const lines: string[] = [];
      await takeDownTrialEnvironment('t__abc', { why: 'test', log: (l) => lines.push(l), env: { DOCKER_HOST: `unix://${socketPath}` }, timeoutMs: 300 });
      expect(lines).toEqual([expect.stringMatching(/no answer within 300 ms/)]);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

if (podmanMissing) console.warn(`skipping takeDownTrialEnvironment against podman: ${podmanMissing}`);

describe.skipIf(podmanMissing)('takeDownTrialEnvironment against podman', () => {
  let dir: string;
  let engine: PodmanService;
  const trial = `sleeper__t${process.pid}x`;
  const project = `${trial}__env`;
  const verifierProject = `${trial}-verifier`;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'thr-containers-'));
    await ensureSleeperImage();
    engine = await startPodmanService(dir);
  }, 60_000);
  afterAll(async () => {
    removeProject(project);
    removeProject(verifierProject);
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("removes the trial's projects' containers, networks and volumes, and only those", async () => {
    const bystander = `${trial}y__env`;
    for (const p of [project, verifierProject, bystander]) startLabelledProject(p);
    try {
      expect(projectLeftovers(project)).toMatchObject({ containers: [expect.any(String)], networks: [expect.any(String)], volumes: [expect.any(String)] });
      const lines: string[] = [];
      await takeDownTrialEnvironment(trial, { why: 'test', log: (l) => lines.push(l), env: { DOCKER_HOST: engine.dockerHost } });
      expect(lines).toEqual([`took down compose project ${verifierProject}, ${project} of trial ${trial} (test): removed 2 container(s), 2 network(s), 2 volume(s)`]);
      for (const p of [project, verifierProject]) expect(projectLeftovers(p)).toEqual({ containers: [], networks: [], volumes: [] });
      expect(projectLeftovers(bystander).containers).toHaveLength(1);
      // Again: nothing left, and it says so.
      await takeDownTrialEnvironment(trial, { why: 'again', log: (l) => lines.push(l), env: { DOCKER_HOST: engine.dockerHost } });
      expect(lines[1]).toBe(`no containers of trial ${trial} were left in the Docker engine (again)`);
    } finally {
      removeProject(bystander);
    }
  }, 60_000);
});
