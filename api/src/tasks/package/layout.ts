// Task-root detection (tb2-task-format.md §3 "Root detection" steps 3–6, §4 "Detection"). Works on
// normalised paths only; never looks at folder names such as tests/ or environment/.
import type { ZipItem } from './entries.js';
import { messages, problem, type Problem } from './problems.js';

export interface Layout {
  /**
   * Every folder that directly contains a file named task.toml ('' = the archive root), and every
   * folder with a TB1 task.yaml but no task.toml (converted on upload), sorted.
   */
  roots: string[];
  /** The roots that are Terminal-Bench 1 tasks. */
  tb1: Set<string>;
  /** Archive-level: no_task_found, tb1_not_convertible, ambiguous_layout. */
  errors: Problem[];
  /** Files outside every root (ignored, warned about). */
  outside: string[];
}

export function isInside(path: string, root: string): boolean {
  return root === '' || path === root || path.startsWith(`${root}/`);
}

/** The innermost root holding `path`, or -1. */
export function rootOf(roots: string[], path: string): number {
  let best = -1;
  for (let i = 0; i < roots.length; i++) {
    const root = roots[i]!;
    if (isInside(path, root) && (best < 0 || root.length > roots[best]!.length)) best = i;
  }
  return best;
}

/** `path` relative to `root` ('' for the root itself). */
export function relativeTo(path: string, root: string): string {
  if (root === '') return path;
  return path === root ? '' : path.slice(root.length + 1);
}

export function dirname(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

export function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** TB1 files that mark a task root when found at the archive root or in a top-level folder. */
const TB1_ROOT_FILES = new Set(['run-tests.sh', 'Dockerfile', 'docker-compose.yaml']);

export function detectLayout(items: ZipItem[]): Layout {
  const files = items.filter((item) => !item.isDir).map((item) => item.path);
  const tb2 = [...new Set(files.filter((p) => basename(p) === 'task.toml').map(dirname))];
  // A task.yaml beside a task.toml, or inside a TB2 task (a fixture), is the TB2 task's file.
  const tb1 = [...new Set(files.filter((p) => basename(p) === 'task.yaml').map(dirname))].filter((dir) => rootOf(tb2, dir) < 0);
  const roots = [...tb2, ...tb1].sort();
  const errors: Problem[] = [];

  if (roots.length === 0) {
    const tb1Files = files.some((p) => TB1_ROOT_FILES.has(basename(p)) && p.split('/').length <= 2);
    errors.push(tb1Files ? problem('tb1_not_convertible', messages.tb1WithoutYaml()) : problem('no_task_found', messages.noTask()));
    return { roots, tb1: new Set(), errors, outside: [] };
  }

  for (const inner of roots) {
    // The closest enclosing root; reported once per nested root.
    const outer = roots.filter((r) => r !== inner && isInside(inner, r)).sort((a, b) => b.length - a.length)[0];
    if (outer !== undefined) errors.push(problem('ambiguous_layout', messages.nested(outer, inner), inner));
  }

  const outside = files.filter((p) => rootOf(roots, p) < 0).sort();
  return { roots, tb1: new Set(tb1), errors, outside };
}
