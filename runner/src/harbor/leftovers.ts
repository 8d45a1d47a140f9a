// What an earlier delivery of the same run left behind. A delivery whose runner died (or was cut
// off until the order went to another runner) may have left its Harbor job directory mid-trial and,
// when Harbor itself was killed, its containers running. Before a new delivery starts Harbor it
// marks those directories abandoned, so nothing reads them as the run's result, and takes the
// containers of every trial there that never wrote its result down (harbor-contract.md §3; Harbor
// removes the environment before it writes a trial result; containers.ts). Best-effort: each step's
// result is logged and nothing here stops the new delivery.
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseHarborJobName, TRIAL_FILES } from '../protocol/layout.js';
import { takeDownTrialEnvironment } from './containers.js';

/** Written into an earlier delivery's job directory once a later delivery took the run over. */
export const ABANDONED_MARKER = 'abandoned.json';

export interface Leftovers {
  jobsDir: string;
  runId: string;
  /** This delivery's job directory name, left alone. */
  ownJobName: string;
  runnerId: string;
  /** The run's environment is Docker: its containers are ours to take down. */
  docker: boolean;
  log(line: string): void;
}

const isDir = (p: string) => stat(p).then((s) => s.isDirectory(), () => false);
const exists = (p: string) => stat(p).then(() => true, () => false);

export async function cleanUpEarlierDeliveries(o: Leftovers): Promise<void> {
  const names = await readdir(o.jobsDir).catch(() => [] as string[]);
  for (const name of names) {
    if (name === o.ownJobName || parseHarborJobName(name)?.runId !== o.runId) continue;
    const jobDir = path.join(o.jobsDir, name);
    if (!(await isDir(jobDir)) || (await exists(path.join(jobDir, ABANDONED_MARKER)))) continue;
    const marker = { abandonedAt: new Date().toISOString(), runnerId: o.runnerId, takenOverBy: o.ownJobName };
    await writeFile(path.join(jobDir, ABANDONED_MARKER), `${JSON.stringify(marker)}\n`).then(
      () => o.log(`run ${o.runId}: marked ${name} abandoned`),
      (error: Error) => o.log(`run ${o.runId}: cannot mark ${name} abandoned: ${error.message}`),
    );
    if (!o.docker) continue;
    for (const trial of await readdir(jobDir).catch(() => [] as string[])) {
      const trialDir = path.join(jobDir, trial);
      if (!(await isDir(trialDir)) || (await exists(path.join(trialDir, TRIAL_FILES.result)))) continue;
      await takeDownTrialEnvironment(trial, { why: `left by ${name}`, log: (line) => o.log(`run ${o.runId}: ${line}`) });
    }
  }
}
