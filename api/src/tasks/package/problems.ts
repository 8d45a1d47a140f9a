// Problem codes and the messages users see for them (tb2-task-format.md §3 "Rejections"). Every
// message is built here so the wording stays consistent.
import { formatBytes } from './limits.js';

export type RejectionCode =
  | 'zip_invalid'
  | 'path_traversal'
  | 'absolute_path'
  | 'symlink'
  | 'duplicate_entry'
  | 'case_collision'
  | 'encrypted_entry'
  | 'non_utf8_name'
  | 'zip_bomb'
  | 'task_too_large'
  | 'file_too_large'
  | 'missing_required_file'
  | 'task_toml_invalid'
  | 'instruction_invalid'
  /** A Terminal-Bench 1 task that cannot be converted automatically; one problem per reason. */
  | 'tb1_not_convertible'
  | 'no_task_found'
  | 'ambiguous_layout'
  | 'duplicate_task_name';

export type WarningCode =
  | 'backslash_separators'
  | 'outside_task'
  | 'task_yaml_ignored'
  | 'missing_test_outputs'
  | 'missing_solution'
  | 'unknown_toml_key'
  /** A key Harbor reads only in another setting (e.g. multi_step_reward_strategy without [[steps]]). */
  | 'ignored_toml_key'
  /** schema_version newer than the platform knows: loaded, unknown keys ignored. */
  | 'newer_schema_version'
  /** The compose file gives containers access to the runner host; createJob refuses the task unless an ADMIN allows it. */
  | 'host_access';

export interface Problem {
  code: RejectionCode | WarningCode;
  message: string;
  /** The entry's path inside the zip after normalisation, or null when it concerns the whole archive. */
  path: string | null;
}

export function problem(code: RejectionCode | WarningCode, message: string, path: string | null = null): Problem {
  return { code, message, path };
}

/** Quotes a name for a message; JSON escaping keeps control characters visible. */
export function q(name: string): string {
  return JSON.stringify(name);
}

const DAMAGED = 'the archive is damaged or uses an unsupported method';

export const messages = {
  zipInvalid: (detail: string) => `${DAMAGED} (${detail})`,
  pathTraversal: (name: string) => `entry ${q(name)} points outside the archive`,
  absolutePath: (name: string) => `entry ${q(name)} is an absolute path`,
  symlink: (name: string) => `entry ${q(name)} is a link/special file; only regular files and folders are allowed`,
  duplicateEntry: (name: string) => `${q(name)} appears twice`,
  fileAndFolder: (name: string) => `${q(name)} appears twice, once as a file and once as a folder`,
  caseCollision: (a: string, b: string) => `${q(a)} and ${q(b)} differ only by case`,
  encrypted: (name: string) => `entry ${q(name)} is encrypted; encrypted entries are not supported`,
  nonUtf8: (name: string) => `entry ${q(name)} has a file name that is not UTF-8; file names must be UTF-8 (ASCII recommended)`,
  controlChars: (name: string) => `entry ${q(name)} has control characters in its name; file names must be UTF-8 (ASCII recommended)`,
  emptyName: () => `${DAMAGED} (an entry has an empty name)`,
  tooManyEntries: (count: number, limit: number) =>
    `the archive expands beyond the limit: it has ${count} entries, the limit is ${limit}`,
  archiveTooLarge: (limit: number) => `the archive expands beyond the ${formatBytes(limit)} limit`,
  budgetExhausted: () => 'the upload expands beyond the size limit per request (all archives of one upload together)',
  ratio: (name: string, bytes: number, compressed: number, limit: number) =>
    `the archive expands beyond the limit: entry ${q(name)} expands more than ${limit}:1 ` +
    `(${bytes} bytes from ${compressed} compressed so far)`,
  fileTooLarge: (name: string, bytes: number, limit: number) =>
    `file ${q(name)} is too large: its size so far is ${bytes} bytes, over the ${formatBytes(limit)} limit per file`,
  taskTooLarge: (task: string, bytes: number, limit: number) =>
    `task ${q(task)} is too large: its size so far is ${bytes} bytes, over the ${formatBytes(limit)} limit per task`,
  missingFile: (file: string) => `required file ${q(file)} is missing`,
  missingEnvironment: (dir: string) =>
    `required folder ${q(dir)} with a Dockerfile, docker-compose.yaml or docker-compose.yml is missing ` +
    '(or set [environment].docker_image in task.toml)',
  environmentNotFolder: (dir: string) => `${q(dir)} must be a folder`,
  instructionNotUtf8: () => 'instruction.md is not valid UTF-8',
  instructionEmpty: () => 'instruction.md is empty',
  textTooLarge: (file: string, limit: number) => `${file} is larger than the ${formatBytes(limit)} limit for this file`,
  tb1WithoutYaml: () =>
    'Terminal-Bench 1 layout detected (run-tests.sh, Dockerfile or docker-compose.yaml) but no task.yaml: ' +
    'the instruction and limits of a TB1 task live there, so it cannot be converted',
  tb1NotConvertible: (reason: string) => `Terminal-Bench 1 task cannot be converted automatically: ${reason}`,
  noTask: () => 'no task found: a task is a folder that directly contains a file named task.toml',
  nested: (outer: string, inner: string) =>
    `ambiguous layout: the task folder ${q(inner)} is inside the task folder ${q(outer)}`,
  duplicateName: (name: string, roots: string[]) =>
    `several tasks are named ${q(name)} (${roots.map((r) => q(r || '(archive root)')).join(', ')})`,
  invalidName: (name: string, source: string) =>
    `the task name ${q(name)} (from ${source}) is invalid: use 1–128 letters, digits, '.', '_' or '-', ` +
    "starting with a letter or digit and without '..'",
  backslashes: () => 'the archive uses backslashes as path separators; they were read as "/"',
  outsideTask: (paths: string[], total: number) =>
    `files outside every task folder are ignored: ${paths.map(q).join(', ')}` +
    (total > paths.length ? ` and ${total - paths.length} more` : ''),
  taskYamlIgnored: () => 'task.yaml is ignored; task.toml is used',
  missingTestOutputs: (file: string) => `${q(file)} is missing (Terminal-Bench tests usually live there)`,
  hostAccess: (reason: string) => `host access: ${reason}`,
  missingStepTest: (stepFile: string, sharedFile: string, step: string) =>
    `step ${q(step)} has no test script: required file ${q(stepFile)} (or the shared ${q(sharedFile)}) is missing`,
  missingStepSolutions: (steps: string[], script: string) =>
    `step${steps.length === 1 ? '' : 's'} ${steps.map(q).join(', ')} ha${steps.length === 1 ? 's' : 've'} no solution/${script} ` +
    '(nor does the task): the oracle agent cannot check them',
  stepInstructionNotUtf8: (file: string) => `${file} is not valid UTF-8`,
  stepInstructionEmpty: (file: string) => `${file} is empty`,
  missingSolution: (file: string) => `${q(file)} is missing: the oracle agent cannot check this task`,
} as const;
