// Finished outcomes kept on the runner until they are published and the order acked, so a finished
// trial is never thrown away: a NATS outage, a runner restart or another runner taking the
// redelivered order publishes the kept outcome instead of running Harbor again. They live on the
// shared JOBS_DIR, where every runner that can take the order can read them.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ownFiles } from './health.js';
import { decode, ProtocolError, RUNNER_DIR, runEventSchema, type RunEvent } from './protocol/index.js';

export type FinishedEvent = Extract<RunEvent, { type: 'finished' }>;

export interface Outcomes {
  /** Writes atomically (temporary file, then rename): a reader sees the whole outcome or none. */
  keep(event: FinishedEvent): Promise<void>;
  /** The kept outcome of a run, or null; an unreadable file is reported and set aside. */
  find(runId: string): Promise<FinishedEvent | null>;
  forget(runId: string): Promise<void>;
}

export function outcomesIn(jobsDir: string, log: (line: string) => void): Outcomes {
  const dir = path.join(jobsDir, RUNNER_DIR, 'outcomes');
  const file = (runId: string) => path.join(dir, `${runId}.json`);
  return {
    keep: (event) =>
      ownFiles('keeping the outcome in JOBS_DIR', async () => {
        await mkdir(dir, { recursive: true });
        const temporary = `${file(event.runId)}.${randomBytes(4).toString('hex')}.tmp`;
        await writeFile(temporary, JSON.stringify(event));
        await rename(temporary, file(event.runId));
      }),
    find: async (runId) => {
      let text: string;
      try {
        text = await ownFiles('reading kept outcomes in JOBS_DIR', () => readFile(file(runId), 'utf8'));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
      try {
        const event = decode(runEventSchema, text, `kept outcome of ${runId}`);
        if (event.type === 'finished' && event.runId === runId) return event;
        throw new ProtocolError(`kept outcome of ${runId} is a ${event.type} event of ${event.runId}`);
      } catch (error) {
        if (!(error instanceof ProtocolError)) throw error;
        // Written by another version, or damaged: it cannot be published, and it must not block the run.
        log(`${error.message}; setting it aside and running the trial`);
        await rename(file(runId), `${file(runId)}.unreadable`).catch(() => {});
        return null;
      }
    },
    forget: (runId) => rm(file(runId), { force: true }),
  };
}
