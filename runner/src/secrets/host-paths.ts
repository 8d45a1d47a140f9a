// Host paths never leave a machine: where TASKS_DIR and JOBS_DIR are mounted tells an attacker where
// to point a path-valued input (issue 15), and says nothing a user needs. Served files and error
// messages show `$TASKS_DIR/...` and `$JOBS_DIR/...` instead.
import type { Replacement } from './scrub.js';

/** Replacements of this machine's TASKS_DIR and JOBS_DIR by their placeholders, for createScrubber. */
export function hostPathPlaceholders(dirs: { tasksDir?: string | null; jobsDir?: string | null }): Replacement[] {
  const out: Replacement[] = [];
  // Without a trailing slash, so `<dir>/x` and `<dir>` itself both match; `/` alone is never replaced.
  const trim = (dir: string) => dir.replace(/\/+$/, '');
  if (dirs.tasksDir && trim(dirs.tasksDir) !== '') out.push([trim(dirs.tasksDir), '$TASKS_DIR']);
  if (dirs.jobsDir && trim(dirs.jobsDir) !== '') out.push([trim(dirs.jobsDir), '$JOBS_DIR']);
  return out;
}
