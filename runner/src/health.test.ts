// The breaker keeps the most telling reason while the same fault lasts: a runner tripped by Harbor's
// own Docker pre-flight ("… Docker daemon is not running") must not turn into the re-probe's bare
// "`docker info` failed" a second later — people, and the job page, read the reason.
import { afterEach, expect, it } from 'vitest';
import { waitFor } from '../test/support/wait.js';
import { Breaker, DOCKER_UNREACHABLE } from './health.js';

let breaker: Breaker | undefined;
afterEach(() => breaker?.close());

it("keeps a Docker trip's own reason while the re-probe finds Docker still down, and takes a new fault's", async () => {
  const probes: boolean[] = [];
  let finding: string | null = DOCKER_UNREACHABLE;
  breaker = new Breaker(
    async ({ docker }) => {
      probes.push(docker);
      return finding;
    },
    () => {},
    () => {},
  );
  const harbors = 'Docker is not reachable for Harbor: Docker daemon is not running';
  breaker.trip(harbors, { docker: true });
  await waitFor(() => probes.length >= 1, { what: 'the first re-probe', timeoutMs: 10_000 });
  expect(probes[0]).toBe(true);
  expect(breaker.degraded?.reason).toBe(harbors);

  // Another fault is told as it is.
  finding = 'JOBS_DIR (/data/jobs) is not writable: EACCES';
  await waitFor(() => breaker!.degraded?.reason === finding, { what: 'the new reason', timeoutMs: 10_000 });

  finding = null;
  await waitFor(() => breaker!.degraded === null, { what: 'recovery', timeoutMs: 20_000 });
});
