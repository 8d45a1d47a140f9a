// A run's trial directory on shared storage (harbor-contract.md §4): where it is, which files it
// holds, and which single file a request may read. The recorded directory comes from a runner and the
// file path from a URL, so both are checked to stay inside JOBS_DIR before anything is opened.
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** Files listed per run: a trial holds dozens; an agent that writes thousands of files is cut here. */
export const MAX_LISTED_FILES = 2_000;

export interface TrialFile {
  /** Relative to the trial directory, with `/` separators. */
  path: string;
  sizeBytes: number;
  modifiedAt: Date;
}

export class UnsafePathError extends Error {}

/** The trial directory's real path, or null when the run has none or it is not (or no longer) under JOBS_DIR. */
export async function trialDir(jobsDir: string, harborTrialDir: string | null): Promise<string | null> {
  if (!harborTrialDir) return null;
  const root = await realpath(jobsDir).catch(() => null);
  if (!root) return null;
  const dir = await realpath(path.resolve(root, harborTrialDir)).catch(() => null);
  return dir && dir.startsWith(`${root}${path.sep}`) ? dir : null;
}

/**
 * Checks a relative file path from a URL: plain segments only (no `..`, `.`, empty segment,
 * backslash or NUL, not absolute). Throws UnsafePathError otherwise.
 */
export function checkRelativePath(relative: string): string[] {
  const segments = relative.split('/');
  if (
    relative === '' ||
    relative.length > 1_000 ||
    /[\\\0]/.test(relative) ||
    segments.some((s) => s === '' || s === '.' || s === '..')
  ) {
    throw new UnsafePathError(`"${relative}" is not a plain path inside the trial directory`);
  }
  return segments;
}

/**
 * The real path of a regular file inside `dir`, or null when there is none. Throws UnsafePathError
 * for a path that is malformed or leads outside the directory (a symlink the agent planted).
 */
export async function resolveTrialFile(dir: string, relative: string): Promise<{ file: string; size: number } | null> {
  const segments = checkRelativePath(relative);
  const candidate = path.join(dir, ...segments);
  const real = await realpath(candidate).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    // A segment longer than the file system allows is the client's mistake, not the server's.
    if (error.code === 'ENAMETOOLONG') throw new UnsafePathError(`"${relative.slice(0, 100)}…" is longer than a file name may be`);
    throw error;
  });
  if (!real) return null;
  if (!real.startsWith(`${dir}${path.sep}`)) throw new UnsafePathError(`"${relative}" leads outside the trial directory`);
  const info = await stat(real);
  return info.isFile() ? { file: real, size: info.size } : null;
}

/** Every regular file of the trial directory, sorted by path; symlinks are not followed. */
export async function listTrialFiles(dir: string, limit = MAX_LISTED_FILES): Promise<{ files: TrialFile[]; truncated: boolean }> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const paths = entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
  const files: TrialFile[] = [];
  for (const rel of paths.slice(0, limit)) {
    // A file can vanish between the listing and the lstat (Harbor rewrites and deletes while it runs).
    const info = await lstat(path.join(dir, ...rel.split('/'))).catch(() => null);
    if (info?.isFile()) files.push({ path: rel, sizeBytes: info.size, modifiedAt: info.mtime });
  }
  return { files, truncated: paths.length > limit };
}

/** The URL of one file of a run, each segment encoded (file names are the agent's choice). */
export function fileUrl(runId: string, relative: string): string {
  return `/runs/${runId}/files/${relative.split('/').map(encodeURIComponent).join('/')}`;
}
