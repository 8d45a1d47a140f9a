// Runs a platform entry point as a real child process, as `npm start` does, and watches its output.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../src/config/paths.js';

export interface Started {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches, rejects at the deadline or when the process exits first. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Environment without the caller's platform settings, so a test chooses every one. */
export function cleanEnv(overrides: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['DATABASE_URL', 'NATS_URL', 'NATS_PREFIX', 'NATS_USER', 'NATS_PASSWORD', 'NATS_CREDS', 'NATS_NKEY_SEED', 'PORT', 'HOST', 'DATA_DIR', 'TASKS_DIR', 'JOBS_DIR', 'ADMIN_TOKEN', 'PUBLIC_URL', 'GRAPHIQL']) {
    delete env[name];
  }
  return { ...env, ...overrides };
}

/** A TypeScript entry point run from source with tsx, as `npm start` does. */
export function startEntry(entry: string, env: NodeJS.ProcessEnv): Started {
  return watch(spawn(process.execPath, ['--conditions=source', '--import', 'tsx', path.join(repoRoot, entry)], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  }));
}

/** A compiled entry point (`npm run build`) under plain node, as in production. */
export function startBuilt(entry: string, env: NodeJS.ProcessEnv): Started {
  return watch(spawn(process.execPath, [path.join(repoRoot, entry)], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] }));
}

function watch(child: ChildProcess): Started {
  let output = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => output,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(output)) {
            cleanup();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        const onExit = () => {
          // Let the last output arrive before judging.
          setImmediate(() => {
            check();
            cleanup();
            reject(new Error(`process exited before ${pattern}; output:\n${output}`));
          });
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      }),
  };
}
