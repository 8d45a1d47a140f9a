import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSleeperImage, podmanMissing, projectLeftovers, removeProject, startLabelledProject, startPodmanService, type PodmanService } from '../../test/support/podman.js';
import { composeProjects, engineEndpoint, takeDownTrialEnvironment } from './containers.js';

describe('composeProjects', () => {
  it("gives both names Harbor's versions use for a trial's compose project, by Compose's rule", () => {
    expect(composeProjects('fix-git__aB3dE9x')).toEqual(['fix-git__ab3de9x__env', 'fix-git__ab3de9x']);
    expect(composeProjects('My.Task__Zz9')).toEqual(['my-task__zz9__env', 'my-task__zz9']);
    // Compose names start with a letter or digit.
    expect(composeProjects('_x__abc')).toEqual(['0_x__abc__env', '0_x__abc']);
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
    expect(lines).toEqual([expect.stringMatching(new RegExp(`cannot take down compose project t__abc__env of trial t__abc \\(test\\) through the Docker engine at unix://${dir}/none.sock: .*ENOENT`))]);
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

describe.skipIf(podmanMissing)('takeDownTrialEnvironment against podman', () => {
  let dir: string;
  let engine: PodmanService;
  const trial = `sleeper__t${process.pid}x`;
  const [project] = composeProjects(trial);
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'thr-containers-'));
    await ensureSleeperImage();
    engine = await startPodmanService(dir);
  }, 60_000);
  afterAll(async () => {
    removeProject(project!);
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("removes the project's containers, networks and volumes, and only those", async () => {
    const bystander = `thr-bystander-${process.pid}`;
    startLabelledProject(project!);
    startLabelledProject(bystander);
    try {
      expect(projectLeftovers(project!)).toMatchObject({ containers: [expect.any(String)], networks: [expect.any(String)], volumes: [expect.any(String)] });
      const lines: string[] = [];
      await takeDownTrialEnvironment(trial, { why: 'test', log: (l) => lines.push(l), env: { DOCKER_HOST: engine.dockerHost } });
      expect(lines).toEqual([`took down compose project ${project} / ${trial.toLowerCase()} of trial ${trial} (test): removed 1 container(s), 1 network(s), 1 volume(s)`]);
      expect(projectLeftovers(project!)).toEqual({ containers: [], networks: [], volumes: [] });
      expect(projectLeftovers(bystander).containers).toHaveLength(1);
    } finally {
      removeProject(bystander);
    }
  }, 60_000);
});
