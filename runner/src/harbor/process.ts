// Starting and stopping a Harbor process so that it never outlives the runner.
//
// Harbor runs in its own process group (detached), so a stop reaches its docker compose children
// too: one SIGTERM (Harbor records CancelledError and tears its containers down), a grace period,
// then SIGKILL of the group. That covers every stop the runner lives to see. A runner killed with
// SIGKILL runs no cleanup at all (execa's `cleanup` included), so Harbor is tied to the runner's life
// by the kernel's parent-death signal (`setpriv --pdeathsig`, util-linux): chosen over a watchdog
// that polls or reads a pipe because nothing has to run for it to fire.
//
// Not directly on Harbor, though: the signal fires each time the parent *thread* exits, and a
// SIGKILLed Node process has several threads, which exit one after the other; the child is handed
// from one to the next, and each hand-over sends the signal again (measured: a second SIGTERM, which
// aborts Harbor's teardown and leaves its containers). So a single-threaded guard (`sh`) sits between
// the runner and Harbor: the guard dies with the runner (SIGKILL, however often it comes), and Harbor
// gets exactly one SIGTERM when its guard dies. The guard ignores the group's SIGTERM of a normal stop
// (it waits for Harbor instead) and passes on Harbor's exit status. Harbor is started through
// `env --default-signal` because a shell's background job starts with SIGINT and SIGQUIT ignored.
// Cost: three small execs per trial (measured 2–5 ms for setpriv alone), against trials of minutes.
// Where any piece is missing (not Linux, a slim image) the runner says so at start-up and Harbor
// runs unwrapped.
import { execa, type Result, type ResultPromise } from 'execa';

/** The wrapper that ties Harbor's life to the runner's, or null where the platform has none. */
export type ParentDeathWrapper = string[] | null;

const GUARD = `trap : TERM INT
setpriv --pdeathsig TERM -- env --default-signal=INT,QUIT -- "$@" &
child=$!
while wait "$child"; status=$?; kill -0 "$child" 2>/dev/null; do :; done
exit "$status"`;
const WRAPPER = ['setpriv', '--pdeathsig', 'KILL', '--', 'sh', '-c', GUARD, 'harbor-guard'];

/** Finds out once, at start-up, whether the wrapper works here. */
export async function findParentDeathWrapper(): Promise<ParentDeathWrapper> {
  const probe = await execa(WRAPPER[0]!, [...WRAPPER.slice(1), 'true'], { reject: false, timeout: 10_000, stdin: 'ignore' });
  return probe.exitCode === 0 ? WRAPPER : null;
}

export const PARENT_DEATH_MISSING =
  'setpriv (util-linux) or env --default-signal (coreutils 8.31+) is not available: a Harbor process outlives this runner if the runner is killed; the next delivery still takes its containers down';

export interface HarborProcess {
  readonly pid: number | undefined;
  /** Resolves when Harbor has exited, never rejects. */
  readonly exit: Promise<Result>;
  /** SIGTERM to the group now, SIGKILL after `graceMs` unless it has exited; idempotent. */
  stop(graceMs: number): void;
  /** Whether the grace ran out and the group was SIGKILLed: Harbor's teardown did not finish. */
  readonly killed: boolean;
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
  let killed = false;
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
    get killed() {
      return killed;
    },
    stop: (graceMs) => {
      if (stopping) return;
      stopping = true;
      // A second SIGTERM would abort Harbor's teardown; the next signal is SIGKILL after the grace.
      signalGroup('SIGTERM');
      killTimer = setTimeout(() => {
        killed = true;
        signalGroup('SIGKILL');
      }, graceMs);
    },
  };
}

/**
 * Whether the exec of Harbor itself failed: ENOENT from execa (no wrapper), or the wrapper's env
 * saying so with exit 127 (not found) / 126 (not executable), which Harbor never uses.
 */
export function harborNotRunnable(exit: Result, output: string): boolean {
  if ((exit as { code?: string }).code === 'ENOENT' || (exit as { code?: string }).code === 'EACCES') return true;
  return (exit.exitCode === 127 || exit.exitCode === 126) && /No such file or directory|Permission denied/.test(output);
}
