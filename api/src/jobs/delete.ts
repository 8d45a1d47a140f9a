// deleteJob: a job that has stopped, with its runs, their test results, its own provider key and its
// Harbor job directories on shared storage. A job still queued or running is refused: its runners
// would go on writing files and events for rows that are gone, so it is cancelled first. Log lines in
// the LOGS stream are left to the stream's age and size limits (nothing can read them without the run).
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { harborConfigFileName, parseHarborJobName, RUNNER_DIR } from 'runner/protocol';
import type { Db } from '../db/client.js';
import type { JobStatus } from '../generated/prisma/enums.js';
import { DomainError, NotFoundError } from '../schema/errors.js';

export class JobActiveError extends DomainError {
  readonly code = 'JOB_ACTIVE';
  constructor(
    readonly jobId: string,
    readonly status: JobStatus,
  ) {
    super(`job ${jobId} is ${status.toLowerCase()}: cancel it and wait until it has stopped, then delete it`);
  }
}

export interface DeleteJobDeps {
  db: Db;
  /** JOBS_DIR, where the runners wrote each run's Harbor job directory. */
  jobsDir: string;
}

export interface DeletedJob {
  id: string;
  name: string;
  runsDeleted: number;
  /** Harbor job directories (one per delivery of each run) removed from JOBS_DIR. */
  directoriesRemoved: number;
  /** What could not be removed from JOBS_DIR, in words; null when everything was. */
  filesNote: string | null;
}

const ACTIVE: JobStatus[] = ['QUEUED', 'RUNNING', 'CANCELLING'];

export async function deleteJob(deps: DeleteJobDeps, id: string): Promise<DeletedJob> {
  const deleted = await deps.db.$transaction(async (tx) => {
    // Locked, so a retry cannot queue new runs between the check and the delete.
    const [job] = await tx.$queryRaw<{ name: string; status: JobStatus; providerSecretId: string | null }[]>`
      SELECT name, status, "providerSecretId" FROM "Job" WHERE id = ${id}::uuid FOR UPDATE`;
    if (!job) throw new NotFoundError('job', id);
    if (ACTIVE.includes(job.status)) throw new JobActiveError(id, job.status);
    const runs = await tx.run.findMany({ where: { jobId: id }, select: { id: true } });
    // Runs and their test results go with the job (ON DELETE CASCADE).
    await tx.job.delete({ where: { id } });
    // The key was stored for this job alone (createJob); no other job can use it.
    if (job.providerSecretId) await tx.providerSecret.deleteMany({ where: { id: job.providerSecretId, jobs: { none: {} } } });
    return { name: job.name, runIds: new Set(runs.map((r) => r.id)) };
  });
  // After the commit: a file left behind by a failure here costs disk, a row left behind would not be.
  const files = await removeHarborJobDirs(deps.jobsDir, deleted.runIds);
  const filesNote = files.failed.length
    ? `${files.failed.length} of the job's files could not be removed from JOBS_DIR (first: ${files.failed[0]}); remove them by hand`
    : null;
  return { id, name: deleted.name, runsDeleted: deleted.runIds.size, directoriesRemoved: files.removed, filesNote };
}

/** Directories removed at once: on NFS each removal waits on the server, file by file. */
const REMOVALS_IN_FLIGHT = 8;

/** Removes every delivery's job directory of the given runs, and the runner's config file for it. */
async function removeHarborJobDirs(jobsDir: string, runIds: Set<string>): Promise<{ removed: number; failed: string[] }> {
  let removed = 0;
  const failed: string[] = [];
  if (runIds.size === 0) return { removed, failed };
  const targets: { path: string; name: string; isDir: boolean }[] = [];
  // The job directories (harborJobName) and, under RUNNER_DIR, the config file of each.
  for (const [dir, isDir] of [[jobsDir, true], [path.join(jobsDir, RUNNER_DIR), false]] as const) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const jobName = isDir ? name : name.slice(0, -harborConfigFileName('').length);
      if (!isDir && name !== harborConfigFileName(jobName)) continue;
      const ref = parseHarborJobName(jobName);
      if (ref && runIds.has(ref.runId)) targets.push({ path: path.join(dir, name), name, isDir });
    }
  }
  const worker = async () => {
    for (let target = targets.pop(); target; target = targets.pop()) {
      try {
        await rm(target.path, { recursive: true, force: true });
        if (target.isDir) removed += 1;
      } catch (error) {
        failed.push(`${target.name}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: REMOVALS_IN_FLIGHT }, worker));
  return { removed, failed };
}
