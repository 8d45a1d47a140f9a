// Starting and stopping a Harbor process so that it never outlives the runner.
//
// Harbor runs in its own process group (detached), so a stop reaches its docker compose children
// too: one SIGTERM (Harbor records CancelledError and tears its containers down), a grace period,
// then SIGKILL of the group. That covers every stop the runner lives to see. A runner killed with
// SIGKILL runs no cleanup at all (execa's `cleanup` included), so the command is also wrapped in
// `setpriv --pdeathsig TERM`: the kernel sends Harbor SIGTERM the moment the runner dies, and Harbor
// cancels its trial as it would for a user. Chosen over a supervisor process (a pipe whose close
// means "the runner is gone") because it costs one exec of a small util-linux binary per trial
// (measured 2–5 ms on a 2-core machine, against trials of minutes) and no process that can itself
// die; a supervisor would also own the SIGKILL after the grace, which the next delivery's cleanup
// (harbor/leftovers.ts) covers instead. Where setpriv is missing (not Linux, a slim image) the
// runner says so at start-up and Harbor runs unwrapped.
import { execa, type Result, type ResultPromise } from 'execa';

/** The wrapper that ties Harbor's life to the runner's, or null where the platform has none. */
export type ParentDeathWrapper = string[] | null;

const SETPRIV = ['setpriv', '--pdeathsig', 'TERM', '--'];

/** Finds out once, at start-up, whether `setpriv --pdeathsig` works here. */
export async function findParentDeathWrapper(): Promise<ParentDeathWrapper> {
  const probe = await execa(SETPRIV[0]!, [...SETPRIV.slice(1), 'true'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  return probe.exitCode === 0 ? SETPRIV : null;
}

export const PARENT_DEATH_MISSING =
  'setpriv (util-linux) is not available: a Harbor process outlives this runner if the runner is killed; the next delivery still takes its containers down';

export interface HarborProcess {
  readonly pid: number | undefined;
  /** Resolves when Harbor has exited, never rejects. */
  readonly exit: Promise<Result>;
  /** SIGTERM to the group now, SIGKILL after `graceMs` unless it has exited; idempotent. */
  stop(graceMs: number): void;
}

export interface SpawnOptions {
  harborBin: string;
  args: string[];
  env: Record<string, string>;
  wrapper: ParentDeathWrapper;
  onOutput(chunk: Buffer): void;
}

export function spawnHarbor(options: SpawnOptions): HarborProcess {
  const [command, ...args] = [...(options.wrapper ?? []), options.harborBin, ...options.args];
  const child: ResultPromise = execa(command!, args, {
    env: options.env,
    extendEnv: false,
    detached: true,
    reject: false,
    buffer: false,
    stdin: 'ignore',
  });
  child.stdout?.on('data', options.onOutput);
  child.stderr?.on('data', options.onOutput);
  let killTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  const signalGroup = (signal: NodeJS.Signals) => {
    if (!child.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  const exit = (child as Promise<Result>).finally(() => clearTimeout(killTimer));
  return {
    pid: child.pid,
    exit,
    stop: (graceMs) => {
      if (stopping) return;
      stopping = true;
      // A second SIGTERM would abort Harbor's teardown; the next signal is SIGKILL after the grace.
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
    },
  };
}

/**
 * Whether the exec of Harbor itself failed: ENOENT from execa (no wrapper), or the wrapper's own
 * "failed to execute" with exit 127 (not found) / 126 (not executable), which Harbor never uses.
 */
export function harborNotRunnable(exit: Result, output: string): boolean {
  if ((exit as { code?: string }).code === 'ENOENT' || (exit as { code?: string }).code === 'EACCES') return true;
  return (exit.exitCode === 127 || exit.exitCode === 126) && /failed to execute/.test(output);
}
