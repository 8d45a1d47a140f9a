// The sick-runner breaker. A fault of the runner's own (JOBS_DIR or TASKS_DIR unusable, Harbor
// missing, Docker unreachable for a docker-environment order) is not the run's failure: the order
// goes back to the queue for a healthy runner, and this runner stops pulling until a re-probe finds
// it healthy again. Without this, one runner with a full disk fails the whole queue in seconds.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { probeDocker, probeHarbor } from './probe.js';
import { RUNNER_DIR } from './protocol/layout.js';

/** Error codes that mean the runner's own storage is unusable, not that a run is bad. */
const STORAGE_FAULTS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR']);

export class RunnerFault extends Error {
  override name = 'RunnerFault';
  /** Docker is at fault: recovery waits until `docker info` answers. */
  readonly docker: boolean;
  constructor(message: string, options: { docker?: boolean } = {}) {
    super(message);
    this.docker = options.docker ?? false;
  }
}

/** Runs an operation on the runner's own files; a storage fault becomes a RunnerFault naming `what`. */
export async function ownFiles<T>(what: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code && STORAGE_FAULTS.has(code)) throw new RunnerFault(`${what}: ${(error as Error).message}`);
    throw error;
  }
}

export interface HealthPaths {
  runnerId: string;
  jobsDir: string;
  tasksDir: string;
  harborBin: string;
}

/** The re-probe's own finding when Docker is down: less telling than what tripped the breaker. */
export const DOCKER_UNREACHABLE = 'Docker is not reachable (`docker info` failed)';

/** What is wrong with this runner, or null when it can take orders. Docker is checked only when asked. */
export async function checkHealth(p: HealthPaths, options: { docker: boolean }): Promise<string | null> {
  const probeFile = path.join(p.jobsDir, RUNNER_DIR, `probe-${p.runnerId}`);
  try {
    await mkdir(path.dirname(probeFile), { recursive: true });
    await writeFile(probeFile, new Date().toISOString());
    await rm(probeFile, { force: true });
  } catch (error) {
    return `JOBS_DIR (${p.jobsDir}) is not writable: ${(error as Error).message}`;
  }
  try {
    await readdir(p.tasksDir);
  } catch (error) {
    return `TASKS_DIR (${p.tasksDir}) is not readable: ${(error as Error).message}`;
  }
  const harbor = await probeHarbor(p.harborBin);
  if (harbor.error) return harbor.error;
  if (options.docker && !(await probeDocker())) return DOCKER_UNREACHABLE;
  return null;
}

export interface Degraded {
  reason: string;
  since: string;
}

const FIRST_REPROBE_MS = 1_000;
/** A long outage is re-probed this often: cheap (a file, a directory, `harbor --version`), and a fixed disk is noticed within it. */
const MAX_REPROBE_MS = 15_000;

/**
 * Trips on a runner fault and re-probes with backoff until healthy. The pull loop waits on
 * `healthy()` before every fetch, so a degraded runner holds no orders.
 */
export class Breaker {
  private current: Degraded | null = null;
  private needsDocker = false;
  private recovering: Promise<void> | null = null;
  private readonly closed = new AbortController();

  constructor(
    private readonly probe: (options: { docker: boolean }) => Promise<string | null>,
    private readonly log: (line: string) => void,
    private readonly changed: () => void,
  ) {}

  get degraded(): Degraded | null {
    return this.current;
  }

  trip(reason: string, options: { docker?: boolean } = {}): void {
    this.needsDocker ||= options.docker ?? false;
    if (!this.current) {
      this.current = { reason, since: new Date().toISOString() };
      this.log(`degraded: ${reason}; taking no orders until it is fixed`);
      this.changed();
    }
    this.recovering ??= this.recover();
  }

  /** Resolves once healthy (at once when not degraded), or when the runner closes. */
  healthy(): Promise<void> {
    return this.recovering ?? Promise.resolve();
  }

  close(): void {
    this.closed.abort();
  }

  private async recover(): Promise<void> {
    for (let wait = FIRST_REPROBE_MS; !this.closed.signal.aborted; wait = Math.min(wait * 2, MAX_REPROBE_MS)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.closed.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (this.closed.signal.aborted) break;
      const reason = await this.probe({ docker: this.needsDocker }).catch((error: Error) => error.message);
      if (reason === null) {
        this.log(`healthy again after: ${this.current?.reason}`);
        this.current = null;
        this.needsDocker = false;
        this.changed();
        break;
      }
      // Docker still down after a trip for Docker: the trip's reason (Harbor's own words, say) stays,
      // rather than the probe's bare "`docker info` failed".
      const sameDockerFault = reason === DOCKER_UNREACHABLE && this.needsDocker;
      if (reason !== this.current?.reason && !sameDockerFault) {
        this.current = { reason, since: this.current?.since ?? new Date().toISOString() };
        this.changed();
      }
    }
    this.recovering = null;
  }
}
