// Per-task checks after extraction: naming, required files (tb2-task-format.md §1 table), the
// instruction, and the content hash.
import { createHash } from 'node:crypto';
import { basename } from './layout.js';
import { messages, problem, type Problem } from './problems.js';
import type { TomlCheck } from './task-config.js';

/** What task names must look like: they become folder names on disk and in Harbor's results. */
const TASK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidTaskName(name: string): boolean {
  return TASK_NAME.test(name) && !name.includes('..');
}

/**
 * Folder roots take the folder's name; files at the archive root take the short part of [task].name,
 * else the zip file name without `.zip`. An unusable name rejects the task with `task_toml_invalid`
 * whatever its source (there is no better-fitting code, and the message says where the name came
 * from); a [task].name that already failed the task.toml checks is not reported twice.
 */
export function taskName(
  root: string,
  fileName: string,
  toml: TomlCheck | null,
  tomlPath: string,
): { name: string; error: Problem | null } {
  let name: string;
  let source: string;
  let report = true;
  if (root !== '') {
    name = basename(root);
    source = 'the folder name';
  } else if (toml?.taskName) {
    name = toml.taskName.slice(toml.taskName.lastIndexOf('/') + 1);
    source = '[task].name';
    report = toml.taskNameValid;
  } else {
    name = basename(fileName.replaceAll('\\', '/')).replace(/\.zip$/i, '');
    source = 'the zip file name';
  }
  if (name === '') name = 'task';
  const error = report && !isValidTaskName(name) ? problem('task_toml_invalid', messages.invalidName(name, source), tomlPath) : null;
  return { name, error };
}

export interface TaskTree {
  /** Files relative to the task root (blocked ones included: they exist, but are reported elsewhere). */
  files: Set<string>;
  /** Folders relative to the task root, explicit or implied by file paths. */
  folders: Set<string>;
}

/**
 * Missing required files (each its own problem, path relative to the zip root) and the warnings for
 * missing tests/solution. `toml` is null when task.toml could not be read; the environment check is
 * then skipped because it depends on [environment].docker_image.
 */
export function checkRequiredFiles(
  tree: TaskTree,
  toml: TomlCheck | null,
  zipPath: (rel: string) => string,
): { errors: Problem[]; warnings: Problem[] } {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  const missing = (rel: string) => errors.push(problem('missing_required_file', messages.missingFile(zipPath(rel)), zipPath(rel)));
  const has = (rel: string) => tree.files.has(rel);
  const windows = toml?.config?.os === 'windows';

  const config = toml?.config ?? null;
  const steps = config?.steps ?? null;
  const testScript = windows ? 'test.bat' : 'test.sh';
  const solveScript = windows ? 'solve.bat' : 'solve.sh';
  if (steps) {
    // Harbor: each step needs steps/<name>/instruction.md and a test script of its own or the
    // task's shared one, unless its verifier runs in a separate environment.
    const noSolution: string[] = [];
    for (const step of steps) {
      const dir = `steps/${step.name}`;
      if (!has(`${dir}/instruction.md`)) missing(`${dir}/instruction.md`);
      const separate = step.separateVerifier ?? config!.separateVerifier;
      if (!separate && !has(`${dir}/tests/${testScript}`) && !has(`tests/${testScript}`)) {
        const p = zipPath(`${dir}/tests/${testScript}`);
        errors.push(problem('missing_required_file', messages.missingStepTest(p, zipPath(`tests/${testScript}`), step.name), p));
      }
      if (!has(`${dir}/solution/${solveScript}`) && !has(`solution/${solveScript}`)) noSolution.push(step.name);
    }
    if (noSolution.length > 0) {
      const p = zipPath(`steps/${noSolution[0]}/solution/${solveScript}`);
      warnings.push(problem('missing_solution', messages.missingStepSolutions(noSolution, solveScript), p));
    }
  } else {
    if (!has('instruction.md')) missing('instruction.md');
    const test = `tests/${testScript}`;
    if (!has(test) && !config?.separateVerifier) missing(test);
  }

  if (has('environment')) {
    errors.push(problem('missing_required_file', messages.environmentNotFolder(zipPath('environment')), zipPath('environment')));
  } else if (toml?.config && toml.config.dockerImage === null) {
    const definitions = ['environment/Dockerfile', 'environment/docker-compose.yaml', 'environment/docker-compose.yml'];
    if (!definitions.some(has)) {
      const p = zipPath('environment/Dockerfile');
      errors.push(problem('missing_required_file', messages.missingEnvironment(zipPath('environment/')), p));
    }
  }

  if (!steps && !has('tests/test_outputs.py')) {
    warnings.push(problem('missing_test_outputs', messages.missingTestOutputs(zipPath('tests/test_outputs.py')), zipPath('tests/test_outputs.py')));
  }
  if (!steps && !has('solution/solve.sh') && !(windows && has('solution/solve.bat'))) {
    warnings.push(problem('missing_solution', messages.missingSolution(zipPath('solution/solve.sh')), zipPath('solution/solve.sh')));
  }
  if (has('task.yaml')) warnings.push(problem('task_yaml_ignored', messages.taskYamlIgnored(), zipPath('task.yaml')));
  return { errors, warnings };
}

/**
 * instruction.md (or a step's, named by `label`) must be UTF-8 and not blank. Returns the text with a
 * leading BOM removed.
 */
export function checkInstruction(bytes: Uint8Array, path: string, label?: string): { text: string | null; error: Problem | null } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const message = label ? messages.stepInstructionNotUtf8(label) : messages.instructionNotUtf8();
    return { text: null, error: problem('instruction_invalid', message, path) };
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  if (text.trim() === '') {
    const message = label ? messages.stepInstructionEmpty(label) : messages.instructionEmpty();
    return { text: null, error: problem('instruction_invalid', message, path) };
  }
  return { text, error: null };
}

/** Byte order of the UTF-8 encodings, as the hash definition requires. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * sha256 over "thr-task-v1\n<name>\n" and one "<path>\0<size>\0<sha256(content)>\n" line per file in
 * byte order of the path. Modes and empty folders are left out, so the same task zipped by another
 * tool, in another order or with another layout hashes the same.
 */
export function contentHash(name: string, files: Array<{ path: string; size: number; sha256: string }>): string {
  const hash = createHash('sha256');
  hash.update(`thr-task-v1\n${name}\n`);
  for (const file of [...files].sort((a, b) => compareUtf8(a.path, b.path))) {
    hash.update(`${file.path}\0${file.size}\0${file.sha256}\n`);
  }
  return hash.digest('hex');
}
