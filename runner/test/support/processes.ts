// Real processes for runner tests: a nats-server of the test's own (so it can be stopped and started
// again on the same port and store), and runner processes driving the Harbor simulator.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIMULATOR, simulatorEnv } from './simulator.js';
import { waitFor } from './wait.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export { SIMULATOR };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** waitFor (support/wait.ts) in the argument order these tests use. */
export const until = <T>(probe: () => Promise<T>, what: string, timeoutMs = 30_000) => waitFor(probe, { what, timeoutMs, intervalMs: 100 });

export interface Proc {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function watch(child: ChildProcess): Proc {
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** nats-server with JetStream on `port`, its store in `storeDir`; started again with the same two, it has the same streams. */
export async function startNatsServer(port: number, storeDir: string): Promise<Proc> {
  const server = watch(spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] }));
  await until(async () => /Server is ready/.test(server.output()) || (server.child.exitCode !== null && Promise.reject()), `nats-server on port ${port}`, 15_000);
  return server;
}

export function startRunnerProcess(env: Record<string, string>): Proc {
  return watch(
    spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(repoRoot, 'runner/src/main.ts')], {
      cwd: repoRoot,
      // HARBOR_SIM_* knobs reach the simulator through a wrapper (support/simulator.ts), never the runner.
      env: simulatorEnv({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', HARBOR_BIN: SIMULATOR, RUNNER_HEARTBEAT_MS: '500', RUNNER_ENVIRONMENT_TYPES: 'docker', ...env }, env.JOBS_DIR),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}
