// Issue 18 (deploy): the shared folders are checked before anything connects, so a pod whose volume
// is missing or read-only stops at start with one line naming the variable, not with a stack trace
// from the first upload or trial read.
import { constants } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { ConfigError } from './env.js';

async function usable(name: string, dir: string, mode: number, what: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`${name} is ${JSON.stringify(dir)}, which cannot be ${what} (${code}); mount the shared volume there or point ${name} at a folder this user may ${what === 'written' ? 'write' : 'read'}`);
  }
}

/** TASKS_DIR is written (uploads), JOBS_DIR read (trial files the runners write). */
export async function checkDataDirs(config: { tasksDir: string; jobsDir: string }): Promise<void> {
  await usable('TASKS_DIR', config.tasksDir, constants.R_OK | constants.W_OK | constants.X_OK, 'written');
  await usable('JOBS_DIR', config.jobsDir, constants.R_OK | constants.X_OK, 'read');
}
