// What an earlier delivery of the same run left behind. A delivery whose runner died (or was cut
// off until the order went to another runner) may have left its Harbor job directory mid-trial and,
// when Harbor itself was killed, its containers running. Before a new delivery starts Harbor it
// marks those directories abandoned, so nothing reads them as the run's result, and takes the
// containers of every trial there that never wrote its result down (harbor-contract.md §3; Harbor
// removes the environment before it writes a trial result). Best-effort: each step's result is
// logged and nothing here stops the new delivery.
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { parseHarborJobName, TRIAL_FILES } from '../protocol/layout.js';

/** Written into an earlier delivery's job directory once a later delivery took the run over. */
export const ABANDONED_MARKER = 'abandoned.json';

/** Harbor's compose project of a trial: `<trial_name>__env`, lower-cased, other characters → '-'. */
export function composeProject(trialName: string): string {
  return `${trialName}__env`.toLowerCase().replace(/[^a-z0-9_-]/g, '-');
}

/** Bounds a `docker compose down` that hangs on a stuck engine; the order is kept alive meanwhile. */
const COMPOSE_DOWN_TIMEOUT_MS = 120_000;

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
      await composeDown(o, composeProject(trial));
    }
  }
}

async function composeDown(o: Leftovers, project: string): Promise<void> {
  const args = ['compose', '-p', project, 'down', '--volumes', '--remove-orphans'];
  const down = await execa('docker', args, { reject: false, timeout: COMPOSE_DOWN_TIMEOUT_MS, stdin: 'ignore', all: true });
  const said = String(down.all ?? '').trim().split('\n').slice(-3).join(' | ');
  if (down.exitCode === 0) o.log(`run ${o.runId}: docker ${args.join(' ')}: done`);
  else o.log(`run ${o.runId}: docker ${args.join(' ')} failed (${down.exitCode ?? (down as { code?: string }).code ?? down.signal}): ${said || 'no output'}`);
}
